import { hc } from 'hono/client';
import type { ApiApp } from '../../../worker/api.ts';

/** Browser-side typed client: same origin, cookies included. Types only come from the worker. */
export function browserClient() {
  return hc<ApiApp>(window.location.origin, { init: { credentials: 'same-origin' } });
}
