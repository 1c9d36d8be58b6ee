import { getApi, isApiPath } from './api.ts';
import type { Bindings } from './env.ts';

export type SiteHandler = (request: Request, env: Bindings, ctx: ExecutionContext) => Promise<Response>;

/**
 * One Worker, one origin: the API paths go to Hono, every other path to the site. The API app
 * is built once per isolate and holds no I/O clients (those are made per request).
 */
export function createFetchHandler(site: SiteHandler): ExportedHandlerFetchHandler<Bindings> {
  return (request, env, ctx) => {
    const api = getApi();
    const { pathname } = new URL(request.url);
    if (isApiPath(pathname)) return api.fetch(request as Request, env, ctx);
    return site(request as Request, env, ctx);
  };
}
