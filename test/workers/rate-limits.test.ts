import { env } from 'cloudflare:workers';
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../worker/auth/roles.ts';
import { BUNDLED_ROUTING_YAML } from '../../worker/config/bundled.ts';
import { loadConfig } from '../../worker/config/env.ts';
import type { AppEnv } from '../../worker/config/env.ts';
import { BUDGETS, spend } from '../../worker/http/rate-limit.ts';
import type { Budget } from '../../worker/http/rate-limit.ts';
import { dashboardStateRoutes } from '../../worker/routes/dashboard-state.ts';
import { sqlValidateRoutes } from '../../worker/routes/sql-validate.ts';
import { MAX_RECORDS_DEPTH, widgetDataRoutes } from '../../worker/routes/widget-data.ts';
import { createRedis } from '../../worker/services/redis.ts';
import { expectProblem, routeTestApp } from './helpers.ts';

// Every test is a user of its own (a fresh id), so spending a budget here touches nobody else's.
const someone = (): Identity => ({
  userId: crypto.randomUUID(),
  email: 'limits@command-center.local',
  name: 'Rate limits',
  role: 'editor',
  via: 'session',
  credentialId: 'test',
  expiresAt: null,
});

const routes = (app: Parameters<Parameters<typeof routeTestApp>[0]>[0]) => {
  app.use('*', async (c, next) => {
    c.set('routingText', BUNDLED_ROUTING_YAML);
    await next();
  });
  app.route('/', widgetDataRoutes);
  app.route('/', sqlValidateRoutes);
  app.route('/', dashboardStateRoutes);
};

/** Spends a user's whole budget the way a route does, without sending that many requests. */
async function exhaust(identity: Identity, budget: Budget): Promise<void> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const values: Record<string, unknown> = { config: loaded.config, services: { redis: createRedis(loaded.config) }, identity };
  await spend({ get: (key: string) => values[key] } as unknown as Context<AppEnv>, budget, budget.requests);
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const widget = crypto.randomUUID();

const CASES: Array<[string, Budget, string, RequestInit]> = [
  ['widget records', BUDGETS.records, `/v1/widgets/${widget}/records`, json({ page: 1, page_size: 10 })],
  ['widget data', BUDGETS.widgetData, `/v1/widgets/${widget}/data`, { method: 'POST' }],
  ['SQL validation', BUDGETS.sqlValidate, '/v1/sql/validate', json({ sql: 'SELECT 1' })],
  ['dashboard state', BUDGETS.dashboardState, '/v1/dashboard/state?kpi=no_such_kpi', {}],
];

describe('per-user rate limits', () => {
  it.each(CASES)('%s answers 429 with Retry-After once the user’s budget is spent, and only theirs', async (_, budget, path, init) => {
    const spent = someone();
    await exhaust(spent, budget);
    const res = await routeTestApp(routes, spent)(path, init);
    const problem = await expectProblem(res.clone(), 429, 'rate_limited');
    expect(problem.detail).toContain(budget.name);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Another user still gets through the limit (to the route's own answer).
    const other = await routeTestApp(routes, someone())(path, init);
    expect(other.status).not.toBe(429);
  });

  it('refuses with 503 redis_unavailable when Redis is configured but down, except on the dashboard’s read paths', async () => {
    const app = routeTestApp(routes, someone(), { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    await expectProblem(await app('/v1/sql/validate', json({ sql: 'SELECT 1' })), 503, 'redis_unavailable');
    await expectProblem(await app(`/v1/widgets/${widget}/records`, json({ page: 1, page_size: 10 })), 503, 'redis_unavailable');
    // Tiles already serve uncached through a Redis outage; the limiter does not take them down.
    await expectProblem(await app(`/v1/widgets/${widget}/data`, { method: 'POST' }), 404, 'not_found');
  });

  it('does not limit without Redis configured', async () => {
    const identity = someone();
    await exhaust(identity, BUDGETS.sqlValidate);
    const app = routeTestApp(routes, identity, { UPSTASH_REDIS_REST_URL: '' });
    expect((await app('/v1/sql/validate', json({ sql: 'SELECT 1' }))).status).toBe(200);
  });
});

describe('widget records paging', () => {
  it(`goes at most ${MAX_RECORDS_DEPTH} rows deep`, async () => {
    const app = routeTestApp(routes, someone());
    const tooDeep = await expectProblem(await app(`/v1/widgets/${widget}/records`, json({ page: 1_000, page_size: 200 })), 422, 'validation_failed');
    expect(tooDeep.errors?.[0]?.pointer).toBe('body/page');
    await expectProblem(await app(`/v1/widgets/${widget}/records`, json({ page: MAX_RECORDS_DEPTH / 200 + 1, page_size: 200 })), 422, 'validation_failed');
    // The deepest allowed page passes the schema (and finds no such widget).
    await expectProblem(await app(`/v1/widgets/${widget}/records`, json({ page: MAX_RECORDS_DEPTH / 200, page_size: 200 })), 404, 'not_found');
  });
});
