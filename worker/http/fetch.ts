import { getApi, isApiPath } from '../api.ts';
import { SITE_SECURITY_HEADERS } from './security-headers.ts';
import type { Bindings } from '../config/env.ts';

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
    return site(request as Request, env, ctx).then(withSiteHeaders);
  };
}

/**
 * Site responses may be immutable (static assets), so headers go onto a copy. A page's own CSP
 * (Astro's, with script and style hashes) is kept and extended with the header-only directives.
 */
function withSiteHeaders(response: Response): Response {
  const out = new Response(response.body, response);
  for (const [name, value] of Object.entries(SITE_SECURITY_HEADERS)) {
    const existing = out.headers.get(name);
    if (existing && name === 'content-security-policy') out.headers.set(name, `${existing.replace(/;\s*$/, '')}; ${value}`);
    else if (!existing) out.headers.set(name, value);
  }
  return out;
}
