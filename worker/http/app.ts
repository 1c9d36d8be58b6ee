import { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import type { Context } from 'hono';
import { createLogger } from '../lib/log.ts';
import type { AppEnv } from '../config/env.ts';
import { zodProblems, problemResponse, handleError } from './problem.ts';

/**
 * Every Hono app in the worker comes from here, so validation failures, thrown errors and
 * request ids behave the same on every route.
 */
export function newApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const part = result.target === 'json' ? 'body' : result.target;
      return problemResponse('validation_failed', `The request ${part} did not match the schema.`, c.get('requestId'), {
        errors: zodProblems(result.error, part),
      });
    },
  });
  app.onError(handleError);
  return app;
}

/** A caller's x-request-id is kept when short and plain; otherwise a fresh one is made. */
const assignRequestId = requestId({ headerName: 'x-request-id', limitLength: 64 });

/** The route the request matched (its pattern, not the path with ids), else the path. */
function routeOf(c: Context): string {
  const handler = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return handler?.path ?? c.req.path;
}

/** The request id, then the request's logger bound to it (the route is read once routing matched). */
export const requestIds = createMiddleware<AppEnv>((c, next) =>
  assignRequestId(c, () => {
    c.set('log', createLogger(() => ({ request_id: c.get('requestId'), method: c.req.method, route: routeOf(c) })));
    return next();
  }),
);
