import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import type { WidgetData } from '../../worker/metrics/tile-data.ts';
import { KPI_STRIP } from '../../worker/dashboard/kpi-strip.ts';
import { authHeaders, call, control, expectProblem, json } from './helpers.ts';

interface State {
  kpis: Array<{ metric: string; data: WidgetData | null; pending: boolean }>;
  tiles: Array<{ widget: { id: string }; data: WidgetData | null; problem: string | null; pending: boolean }>;
  layout: { version: number };
}

const DATABRICKS_KPIS = ['claim_volume', 'avg_handle_time'];
const POSTGRES_KPIS = KPI_STRIP.map((k) => k.metric).filter((m) => !DATABRICKS_KPIS.includes(m));
/** How long each lakehouse statement stays RUNNING while the stand-in is slow. */
const LAKEHOUSE_LATENCY_MS = 1_500;

/**
 * The strip's KPIs ask rolling windows that end on a multiple of the route's cache period, so
 * other tests have usually cached them. An unusual period gives the Databricks KPIs a window
 * nobody has asked about yet: they miss the cache and meet the slow lakehouse.
 */
function uncachedRouting(): string {
  let text = routingYaml;
  for (const metric of DATABRICKS_KPIS) {
    const seconds = 301 + Math.floor(Math.random() * 5_000);
    text = text.replace(new RegExp(`(${metric}:\\s*\\{ source: databricks, cache_seconds: )\\d+`), `$1${seconds}`);
  }
  return text;
}

let windowCounter = 0;
/** A window no other test asks about, so its answer comes from the source, not the cache. */
function freshWindow(days = 30) {
  const end = new Date(Date.now() - ++windowCounter * 61_000 - Math.floor(Math.random() * 1e6) * 1000);
  return { start: new Date(end.getTime() - days * 86_400_000).toISOString(), end: end.toISOString() };
}

async function newTile(metric: string, visualization: string): Promise<string> {
  const res = await call('/v1/widgets', {
    method: 'POST',
    headers: { ...(await authHeaders('admin')), 'content-type': 'application/json' },
    body: JSON.stringify({ title: `budget ${metric}`, metric, visualization, time_window: freshWindow() }),
  });
  return (await json<{ id: string }>(res, 201)).id;
}

/** One request through `api`, with an execution context whose background work can be awaited. */
async function request(api: ReturnType<typeof createApi>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const started = Date.now();
  const res = await api.fetch(new Request(`http://cc.test${path}`, { ...init, headers: { ...(await authHeaders('admin')), ...init.headers } }), env, ctx);
  const elapsed = Date.now() - started;
  return { res, elapsed, background: () => waitOnExecutionContext(ctx) };
}

afterEach(async () => {
  await control('/databricks/clear');
});

describe('dashboard state with a time budget', () => {
  it('answers within the budget while the lakehouse is slow, with Databricks data pending and Postgres data ready', async () => {
    const api = createApi({ routingText: uncachedRouting() });
    const dbxTile = await newTile('claim_status_mix', 'pie');
    const pgTile = await newTile('open_alerts', 'kpi');
    // A page that has been open a while finds Postgres answers cached; so does this one.
    await json(await call(`/v1/widgets/${pgTile}/data`, { method: 'POST', headers: await authHeaders('admin') }));
    for (const metric of POSTGRES_KPIS) await json((await request(api, `/v1/dashboard/state?kpi=${metric}`)).res);

    await control('/databricks/faults', { latencyMs: LAKEHOUSE_LATENCY_MS });
    const first = await request(api, '/v1/dashboard/state?budget_ms=50');
    const state = await json<State>(first.res);
    // Well under the lakehouse's latency, let alone the routes' 5–8 s timeouts.
    console.log(`state with budget_ms=50 and a slow lakehouse answered in ${first.elapsed} ms`);
    expect(first.elapsed).toBeLessThan(1_000);

    const tile = (id: string) => state.tiles.find((t) => t.widget.id === id)!;
    expect(tile(dbxTile)).toMatchObject({ pending: true, data: null, problem: null });
    expect(tile(pgTile)).toMatchObject({ pending: false, problem: null, data: { source: 'postgres', live_data_unavailable: false } });
    for (const k of state.kpis) {
      if (DATABRICKS_KPIS.includes(k.metric)) expect(k, k.metric).toMatchObject({ pending: true, data: null });
      else expect(k, k.metric).toMatchObject({ pending: false, data: { source: 'postgres' } });
    }
    expect(state.kpis.map((k) => k.metric)).toEqual(KPI_STRIP.map((k) => k.metric));

    // The pending work finished after the response and left its answers in the cache.
    await first.background();
    await control('/databricks/clear');
    const warm = await json<State>((await request(api, '/v1/dashboard/state?budget_ms=50')).res);
    expect(warm.tiles.find((t) => t.widget.id === dbxTile)).toMatchObject({ pending: false, data: { source: 'databricks', cache: 'hit', live_data_unavailable: false } });
    for (const metric of DATABRICKS_KPIS) {
      expect(warm.kpis.find((k) => k.metric === metric), metric).toMatchObject({ pending: false, data: { source: 'databricks', cache: 'hit' } });
    }
  });

  it('fetches one pending KPI on its own, in full', async () => {
    const api = createApi({ routingText: uncachedRouting() });
    await control('/databricks/faults', { latencyMs: 300 });
    const one = await json<State>((await request(api, '/v1/dashboard/state?kpi=claim_volume')).res);
    expect(one.tiles).toEqual([]);
    expect(one.kpis).toHaveLength(1);
    expect(one.kpis[0]).toMatchObject({ metric: 'claim_volume', pending: false, data: { source: 'databricks', live_data_unavailable: false } });
    expect(one.kpis[0]!.data!.delta).toBeDefined();
    await expectProblem((await request(api, '/v1/dashboard/state?kpi=not_on_the_strip')).res, 404, 'not_found');
  });

  it('without a budget waits for everything, as before', async () => {
    const state = await json<State>(await call('/v1/dashboard/state', { headers: await authHeaders('admin') }));
    expect(state.kpis.every((k) => !k.pending && k.data !== null)).toBe(true);
    expect(state.tiles.every((t) => !t.pending)).toBe(true);
  });

  it('refuses a budget that is negative, too large or not a whole number', async () => {
    for (const bad of ['-1', '5001', '99999', 'abc', '1.5', '1e3', '']) {
      const res = await call(`/v1/dashboard/state?budget_ms=${encodeURIComponent(bad)}`, { headers: await authHeaders('admin') });
      const problem = await expectProblem(res, 422, 'validation_failed');
      expect(problem.errors?.[0]?.pointer, bad).toBe('query/budget_ms');
    }
    await expectProblem(await call('/v1/dashboard/state?budget=50', { headers: await authHeaders('admin') }), 422, 'validation_failed');
  });

  it('documents the budget and the pending shape in the OpenAPI schema', async () => {
    const doc = await json<{
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    }>(await call('/openapi.json'));
    const params = doc.paths['/v1/dashboard/state']?.get?.parameters ?? [];
    expect(params).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'budget_ms', in: 'query' }), expect.objectContaining({ name: 'kpi', in: 'query' })]));
    expect(doc.components.schemas.DashboardTile?.required).toContain('pending');
    expect(doc.components.schemas.DashboardKpi?.required).toContain('pending');
  });
});
