import { createMiddleware } from 'hono/factory';
import { setMetric } from 'hono/timing';
import type { AppEnv } from '../config/env.ts';
import { loadConfig } from '../config/env.ts';
import { afterAnswer } from './after-answer.ts';
import { ApiError } from './errors.ts';
import { createServices } from '../services/index.ts';

/**
 * Validates the environment and builds the request's services. Nothing connects until used;
 * whatever did connect is released after the response through waitUntil.
 */
export const init = createMiddleware<AppEnv>(async (c, next) => {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) {
    // Which settings are wrong is for the operator, not for every caller of every route.
    c.get('log').error('worker environment is invalid', { problems: loaded.problems });
    throw new ApiError('config_invalid', 'The worker is misconfigured; its operator has been told. Quote the request id when reporting it.');
  }
  c.set('config', loaded.config);
  const services = createServices(loaded.config, undefined, c.get('log'));
  c.set('services', services);
  try {
    await next();
  } finally {
    for (const [name, ms, count] of services.timings.entries()) setMetric(c, name, ms, `${count} calls`);
    await afterAnswer(c, services.close());
  }
});
