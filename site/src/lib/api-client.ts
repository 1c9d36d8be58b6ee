import { env } from 'cloudflare:workers';
import { hc } from 'hono/client';
import type { ApiApp } from '../../../worker/api.ts';
import { getApi } from '../../../worker/api.ts';
import type { Bindings } from '../../../worker/config/env.ts';

/**
 * The site's typed client. Its types come from the API's own route schemas, so a contract
 * change that breaks a page breaks the typecheck, not the user.
 */
export type ApiClient = ReturnType<typeof hc<ApiApp>>;

/** Headers a page forwards to the API: the session, and the client address rate limits key on. */
const FORWARDED = ['cookie', 'cf-connecting-ip', 'x-request-id'];

/** Server-side: call the API in-process (same isolate, no network hop). */
export function serverClient(request: Request, ctx: ExecutionContext): ApiClient {
  const api = getApi();
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value) headers[name] = value;
  }
  return hc<ApiApp>(new URL(request.url).origin, {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => api.fetch(new Request(input, init), env as unknown as Bindings, ctx),
    headers,
  });
}

/** Copies the API's Set-Cookie headers onto a page response (sign-in, renewal, sign-out). */
export function forwardCookies(from: { headers: Headers }, to: Headers): void {
  for (const cookie of from.headers.getSetCookie()) to.append('set-cookie', cookie);
}

