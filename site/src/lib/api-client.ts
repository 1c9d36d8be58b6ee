import { hc } from 'hono/client';
import type { ApiApp } from '../../../worker/api.ts';
import { getApi } from '../../../worker/api.ts';
import type { Bindings } from '../../../worker/env.ts';

/**
 * The site's typed client. Its types come from the API's own route schemas, so a contract
 * change that breaks a page breaks the typecheck, not the user.
 */
export type ApiClient = ReturnType<typeof hc<ApiApp>>;

/** Server-side: call the API in-process (same isolate, no network hop), forwarding cookies. */
export function serverClient(request: Request, env: Bindings, ctx: ExecutionContext): ApiClient {
  const api = getApi();
  const cookie = request.headers.get('cookie');
  return hc<ApiApp>(new URL(request.url).origin, {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => api.fetch(new Request(input, init), env, ctx),
    headers: cookie ? { cookie } : {},
  });
}
