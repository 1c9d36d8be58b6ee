import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
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
export const requestIds = requestId({ headerName: 'x-request-id', limitLength: 64 });
