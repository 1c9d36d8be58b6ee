import { cors } from 'hono/cors';
import { timing } from 'hono/timing';
import { authorize } from './auth/middleware.ts';
import { newApp, requestIds } from './http/app.ts';
import { apiSecurityHeaders } from './http/security-headers.ts';
import { ApiError } from './http/errors.ts';
import { refuseUnsafeText } from './http/text-input.ts';
import { limitBody } from './http/body-limit.ts';
import { init } from './http/init.ts';
import { meRoutes } from './routes/auth-me.ts';
import { signInRoutes } from './routes/auth-sign-in.ts';
import { signOutRoutes } from './routes/auth-sign-out.ts';
import { tokenRoutes } from './routes/auth-tokens.ts';
import { dashboardStreamRoutes } from './routes/dashboard-stream.ts';
import { registerDocs } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { BUNDLED_ROUTING_YAML } from './config/bundled.ts';
import { dashboardLayoutRoutes } from './routes/dashboard-layout.ts';
import { dashboardStateRoutes } from './routes/dashboard-state.ts';
import { databricksHealthRoutes } from './routes/databricks-health.ts';
import { eventRoutes } from './routes/events.ts';
import { decisionRoutes } from './routes/decisions.ts';
import { clarifierRoutes } from './routes/clarifier.ts';
import { sqlGenerateRoutes } from './routes/sql-generate.ts';
import { sqlValidateRoutes } from './routes/sql-validate.ts';
import { metricRoutes } from './routes/metrics.ts';
import { widgetDataRoutes } from './routes/widget-data.ts';
import { widgetRoutes } from './routes/widgets.ts';
import { callRoutes } from './routes/calls.ts';
import { agentRoutes } from './routes/agents.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { filterOptionRoutes } from './routes/filters.ts';
import { settingsRoutes } from './routes/settings.ts';
import { incidentRoutes } from './routes/incidents.ts';

/** Paths the API answers; everything else belongs to the site. */
export const API_PREFIXES = ['/v1/', '/health', '/livez', '/readyz', '/openapi.json', '/docs'] as const;

export function isApiPath(pathname: string): boolean {
  return API_PREFIXES.some((p) => (p.endsWith('/') ? pathname.startsWith(p) || pathname === p.slice(0, -1) : pathname === p));
}

export interface ApiOptions {
  /** The routing file's text; the bundled config/metric_routing.yaml unless a test swaps it. */
  routingText?: string;
}

/** Builds the API. Route modules are chained so the site's client can infer every contract. */
export function createApi(options: ApiOptions = {}) {
  const routingText = options.routingText ?? BUNDLED_ROUTING_YAML;
  const app = newApp();
  app.use('*', requestIds);
  // Server-Timing: total, auth, and each dependency's share (services record into it).
  app.use('*', timing({ totalDescription: 'total' }));
  app.use('*', async (c, next) => {
    c.set('routingText', routingText);
    await next();
  });
  app.use('*', apiSecurityHeaders);
  app.use('*', init);
  app.use(
    '/v1/*',
    cors({
      origin: (origin, c) => ((c.get('config').CORS_ORIGINS as string[]).includes(origin) ? origin : null),
      credentials: true,
      allowHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposeHeaders: ['x-request-id', 'retry-after', 'x-conversation-id'],
      maxAge: 600,
    }),
  );
  app.use('*', limitBody);
  app.use('*', authorize);
  app.use('*', refuseUnsafeText);

  const routes = app
    .route('/', healthRoutes)
    .route('/', signInRoutes)
    .route('/', signOutRoutes)
    .route('/', meRoutes)
    .route('/', tokenRoutes)
    .route('/', metricRoutes)
    .route('/', widgetRoutes)
    .route('/', widgetDataRoutes)
    .route('/', sqlValidateRoutes)
    .route('/', sqlGenerateRoutes)
    .route('/', clarifierRoutes)
    .route('/', databricksHealthRoutes)
    .route('/', eventRoutes)
    .route('/', decisionRoutes)
    .route('/', dashboardLayoutRoutes)
    .route('/', dashboardStateRoutes)
    .route('/', dashboardStreamRoutes)
    .route('/', callRoutes)
    .route('/', agentRoutes)
    .route('/', analyticsRoutes)
    .route('/', settingsRoutes)
    .route('/', filterOptionRoutes)
    .route('/', incidentRoutes);

  registerDocs(app);

  app.notFound((c) => {
    const allowed = allowedMethods(app.routes, c.req.path, c.req.method);
    if (allowed.length > 0) {
      throw new ApiError('method_not_allowed', `${c.req.method} is not supported on ${c.req.path}.`, {
        headers: { allow: allowed.join(', ') },
      });
    }
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
  });
  return routes;
}

export type ApiApp = ReturnType<typeof createApi>;

let shared: ApiApp | undefined;

/** The isolate's one API instance, shared by the worker entry and the site's server-side client. */
export function getApi(): ApiApp {
  shared ??= createApi();
  return shared;
}

/** Methods registered for a path under any other method, for a 405 with an Allow header. */
function allowedMethods(routes: ReadonlyArray<{ method: string; path: string }>, path: string, method: string): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL' || r.method === method || r.path.includes('*')) continue;
    if (patternToRegex(r.path).test(path)) out.add(r.method);
  }
  return [...out].sort();
}

function patternToRegex(pattern: string): RegExp {
  const escaped = pattern
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}
