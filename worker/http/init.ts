import { createMiddleware } from 'hono/factory';
import { setMetric } from 'hono/timing';
import type { AppEnv } from '../config/env.ts';
import { loadConfig } from '../config/env.ts';
import { ApiError } from './errors.ts';
import { createServices } from '../services/index.ts';

/**
 * Validates the environment and builds the request's services. Nothing connects until used;
 * whatever did connect is released after the response through waitUntil.
 */
export const init = createMiddleware<AppEnv>(async (c, next) => {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) {
    throw new ApiError('config_invalid', `The worker environment is invalid: ${loaded.problems.join('; ')}`);
  }
  c.set('config', loaded.config);
  const services = createServices(loaded.config, undefined, c.get('log'));
  c.set('services', services);
  try {
    await next();
  } finally {
    for (const [name, ms, count] of services.timings.entries()) setMetric(c, name, ms, `${count} calls`);
    const closing = services.close();
    try {
      c.executionCtx.waitUntil(closing);
    } catch {
      // No execution context (direct app.request in unit tests): close inline.
      await closing;
    }
  }
});
