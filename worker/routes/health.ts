import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';
import type { Services } from '../services/index.ts';
import type { DependencyProbe } from '../services/mode.ts';

export const VERSION = '0.1.0';

const DependencySchema = z
  .object({
    mode: z.enum(['live', 'local', 'embedded', 'offline', 'disabled']),
    provider: z.string(),
    status: z.enum(['ok', 'slow', 'down', 'disabled']).openapi({
      description: '`slow` when the probe had no answer within HEALTH_TIMEOUT_MS; `down` when it failed.',
    }),
    latency_ms: z.number().nullable(),
    detail: z.string().nullable(),
  })
  .openapi('DependencyHealth');

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    version: z.string(),
    environment: z.string(),
    time: z.string(),
    dependencies: z.object({
      postgres: DependencySchema,
      redis: DependencySchema,
      databricks: DependencySchema,
      bedrock: DependencySchema,
    }),
  })
  .openapi('Health');

export type Health = z.infer<typeof HealthSchema>;

const ReadySchema = z.object({ ready: z.literal(true), postgres: DependencySchema }).openapi('Ready');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Each dependency with its mode and status',
  description:
    'Always 200 while the worker runs: `status` is `down` when Postgres is unreachable, and `degraded` when Postgres is slow or another configured dependency is slow or down.',
  responses: { 200: { description: 'Health report', content: { 'application/json': { schema: HealthSchema } } } },
});

const liveRoute = createRoute({
  method: 'get',
  path: '/livez',
  tags: ['operations'],
  summary: 'The worker is running (touches no dependency)',
  responses: {
    200: { description: 'Alive', content: { 'application/json': { schema: z.object({ live: z.literal(true) }).openapi('Live') } } },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Ready to serve: Postgres answers',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } },
    ...problems(503),
  },
});

export async function checkHealth(services: Services, timeoutMs: number): Promise<Health['dependencies']> {
  const [postgres, redis, databricks] = await Promise.all([
    services.postgres.health(timeoutMs),
    services.redis.health(timeoutMs),
    services.databricks.health(timeoutMs),
  ]);
  return { postgres, redis, databricks, bedrock: services.bedrock.health() };
}

function overall(deps: Health['dependencies']): Health['status'] {
  if (deps.postgres.status === 'down') return 'down';
  const all: DependencyProbe[] = [deps.postgres, deps.redis, deps.databricks, deps.bedrock];
  return all.some((d) => d.status === 'down' || d.status === 'slow') ? 'degraded' : 'ok';
}

export const healthRoutes = newApp()
  .openapi(liveRoute, (c) => c.json({ live: true as const }, 200))
  .openapi(healthRoute, async (c) => {
    const config = c.get('config');
    const dependencies = await checkHealth(c.get('services'), config.HEALTH_TIMEOUT_MS);
    c.header('cache-control', 'no-store');
    return c.json(
      {
        status: overall(dependencies),
        version: VERSION,
        environment: config.APP_ENV,
        time: new Date().toISOString(),
        dependencies,
      },
      200,
    );
  })
  .openapi(readyRoute, async (c) => {
    const postgres = await c.get('services').postgres.health(c.get('config').HEALTH_TIMEOUT_MS);
    c.header('cache-control', 'no-store');
    if (postgres.status !== 'ok') {
      // What the probe saw is for the log; the answer says only which way it failed.
      c.get('log').warn('not ready', { postgres });
      throw new ApiError('postgres_unavailable', postgres.status === 'slow' ? 'Not ready: Postgres did not answer in time.' : 'Not ready: Postgres cannot be reached.');
    }
    return c.json({ ready: true as const, postgres }, 200);
  });
