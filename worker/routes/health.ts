import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { problems } from '../http/schemas.ts';
import { HEALTH_CACHE_MS, healthSnapshot } from '../services/health.ts';
import type { Dependencies } from '../services/health.ts';
import type { DependencyProbe } from '../services/mode.ts';

export const VERSION = '0.1.0';

const DependencySchema = z
  .object({
    status: z.enum(['ok', 'slow', 'down', 'disabled']).openapi({
      description: '`slow` when the probe had no answer within HEALTH_TIMEOUT_MS; `down` when it failed.',
    }),
    mode: z.enum(['live', 'local', 'embedded', 'offline', 'disabled']).optional(),
    provider: z.string().optional(),
    latency_ms: z.number().nullable().optional(),
    detail: z.string().nullable().optional(),
  })
  .openapi('DependencyHealth', { description: '`mode`, `provider`, `latency_ms` and `detail` only for signed-in callers.' });

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    checked_at: z.string().openapi({ description: 'When the dependencies were probed: one round answers every call for a few seconds' }),
    version: z.string().optional(),
    environment: z.string().optional(),
    time: z.string().optional(),
    dependencies: z.object({
      postgres: DependencySchema,
      redis: DependencySchema,
      databricks: DependencySchema,
      bedrock: DependencySchema,
    }),
  })
  .openapi('Health', { description: 'Anonymous callers get the overall and per-dependency status only; signed-in callers also get modes, providers, latencies and details.' });

export type Health = z.infer<typeof HealthSchema>;

const ReadySchema = z.object({ ready: z.literal(true), postgres: DependencySchema }).openapi('Ready');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Each dependency’s status (with its mode and details when signed in)',
  description:
    'Always 200 while the worker runs: `status` is `down` when Postgres is unreachable, and `degraded` when Postgres is slow or another configured dependency is slow or down. ' +
    `One round of probes answers every call for ${HEALTH_CACHE_MS / 1000} s, and Databricks is probed by the warehouse's state, never a statement, so checking health neither costs much nor keeps the warehouse awake.`,
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

function overall(deps: Dependencies): Health['status'] {
  if (deps.postgres.status === 'down') return 'down';
  const all: DependencyProbe[] = [deps.postgres, deps.redis, deps.databricks, deps.bedrock];
  return all.some((d) => d.status === 'down' || d.status === 'slow') ? 'degraded' : 'ok';
}

/** What an anonymous caller may see of a probe: whether it is up, not where, how or why. */
const statusOnly = (d: DependencyProbe) => ({ status: d.status });

const signedIn = (c: Context<AppEnv>) => c.get('identity') != null;

export const healthRoutes = newApp()
  .openapi(liveRoute, (c) => c.json({ live: true as const }, 200))
  .openapi(healthRoute, async (c) => {
    const config = c.get('config');
    const { checkedAt, dependencies } = await healthSnapshot(c.get('services'), config);
    c.header('cache-control', 'no-store');
    const head = { status: overall(dependencies), checked_at: new Date(checkedAt).toISOString() };
    if (!signedIn(c)) {
      const { postgres, redis, databricks, bedrock } = dependencies;
      return c.json({ ...head, dependencies: { postgres: statusOnly(postgres), redis: statusOnly(redis), databricks: statusOnly(databricks), bedrock: statusOnly(bedrock) } }, 200);
    }
    return c.json({ ...head, version: VERSION, environment: config.APP_ENV, time: new Date().toISOString(), dependencies }, 200);
  })
  .openapi(readyRoute, async (c) => {
    const { dependencies } = await healthSnapshot(c.get('services'), c.get('config'));
    const postgres = dependencies.postgres;
    c.header('cache-control', 'no-store');
    if (postgres.status !== 'ok') {
      // What the probe saw is for the log; the answer says only which way it failed.
      c.get('log').warn('not ready', { postgres });
      throw new ApiError('postgres_unavailable', postgres.status === 'slow' ? 'Not ready: Postgres did not answer in time.' : 'Not ready: Postgres cannot be reached.');
    }
    return c.json({ ready: true as const, postgres: signedIn(c) ? postgres : statusOnly(postgres) }, 200);
  });
