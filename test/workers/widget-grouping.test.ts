import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import type { WidgetData } from '../../worker/metrics/tile-data.ts';
import { authHeaders, call, expectProblem, json } from './helpers.ts';

const DAY = 86_400_000;
let windowCounter = 0;
/** A window no other test asks about, so answers come from the source, not the cache. */
function freshWindow(days: number) {
  const end = new Date(Date.now() - ++windowCounter * 67_000 - Math.floor(Math.random() * 5e5) * 1000);
  return { start: new Date(end.getTime() - days * DAY).toISOString(), end: end.toISOString() };
}

// claim_volume is a count, so its parts add up exactly; routed to Postgres it runs the same metric there.
const claimVolumeOnPostgres = createApi({ routingText: routingYaml.replace(/(claim_volume:\s*\{ source: )databricks/, '$1postgres') });

async function post(path: string, body: unknown, method = 'POST') {
  return call(path, { method, headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function widget(metric: string, visualization: string, extra: Record<string, unknown> = {}) {
  return json<{ id: string; group_by: string | null }>(await post('/v1/widgets', { title: metric, metric, visualization, ...extra }), 201);
}

async function data(id: string, api?: ReturnType<typeof createApi>): Promise<WidgetData> {
  const init = { method: 'POST', headers: await authHeaders('editor') };
  if (!api) return json<WidgetData>(await call(`/v1/widgets/${id}/data`, init));
  const ctx = createExecutionContext();
  const res = await api.fetch(new Request(`http://cc.test/v1/widgets/${id}/data`, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return json<WidgetData>(res);
}

const total = (d: WidgetData) => d.rows.reduce((s, r) => s + (typeof r.value === 'number' ? r.value : 0), 0);
const scalar = (d: WidgetData) => d.rows[0]?.value as number;

describe('grouped widgets', () => {
  it('split a Databricks count into groups that add up to the ungrouped total', async () => {
    const time_window = freshWindow(30);
    const grouped = await widget('claim_volume', 'bar', { time_window, group_by: 'region' });
    expect(grouped.group_by).toBe('region');
    const kpi = await widget('claim_volume', 'kpi', { time_window });
    const [parts, whole] = await Promise.all([data(grouped.id), data(kpi.id)]);
    expect(parts).toMatchObject({ source: 'databricks', group_by: 'region', columns: ['label', 'value'], live_data_unavailable: false });
    expect(parts.rows.map((r) => r.label).sort()).toEqual(['APAC', 'EMEA', 'LATAM', 'NA-East', 'NA-West']);
    expect(scalar(whole)).toBeGreaterThan(0);
    expect(total(parts)).toBe(scalar(whole));
    const values = parts.rows.map((r) => r.value as number);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    // One statement, through the safety layer, with the values bound rather than written in.
    expect(parts.sql).toMatch(/UNION ALL/);
    expect(parts.sql).toMatch(/LIMIT \d+\s*$/);
    expect(parts.sql).not.toMatch(/EMEA|APAC/);
    expect((await data(grouped.id)).cache).toBe('hit');
  });

  it('split a Postgres count the same way, and a rounded Postgres sum to within its rounding', async () => {
    const time_window = freshWindow(30);
    const grouped = await widget('claim_volume', 'pie', { time_window, group_by: 'status' });
    const kpi = await widget('claim_volume', 'kpi', { time_window });
    const parts = await data(grouped.id, claimVolumeOnPostgres);
    const whole = await data(kpi.id, claimVolumeOnPostgres);
    expect(parts).toMatchObject({ source: 'postgres', group_by: 'status' });
    expect(scalar(whole)).toBeGreaterThan(0);
    expect(total(parts)).toBe(scalar(whole));

    const nps = await widget('nps_impact', 'bar', { time_window, group_by: 'channel' });
    const npsKpi = await widget('nps_impact', 'kpi', { time_window });
    const [npsParts, npsWhole] = await Promise.all([data(nps.id), data(npsKpi.id)]);
    expect(npsParts).toMatchObject({ source: 'postgres', group_by: 'channel' });
    expect(npsParts.rows.length).toBeGreaterThan(1);
    expect(Math.abs(total(npsParts) - scalar(npsWhole))).toBeLessThanOrEqual(0.05 * (npsParts.rows.length + 1) + 1e-9);
  });

  it('keep a filter on another column inside every group', async () => {
    const time_window = freshWindow(30);
    const filters = [{ column: 'region', op: 'eq', value: 'EMEA' }];
    const grouped = await widget('claim_volume', 'table', { time_window, filters, group_by: 'claim_type' });
    const emea = await widget('claim_volume', 'kpi', { time_window, filters });
    const all = await widget('claim_volume', 'kpi', { time_window });
    const [parts, emeaWhole, allWhole] = await Promise.all([data(grouped.id), data(emea.id), data(all.id)]);
    expect(scalar(emeaWhole)).toBeGreaterThan(0);
    expect(scalar(emeaWhole)).toBeLessThan(scalar(allWhole));
    expect(total(parts)).toBe(scalar(emeaWhole));
    expect(parts.sql).toContain(':f0');
  });

  it('are changed and ungrouped through PATCH, and their records still drill down', async () => {
    const w = await widget('claim_volume', 'bar', { time_window: freshWindow(7), group_by: 'product' });
    const records = await json<{ rows: unknown[]; table: string }>(await post(`/v1/widgets/${w.id}/records`, { page: 1, page_size: 5 }));
    expect(records).toMatchObject({ table: 'claims' });
    expect(records.rows.length).toBeGreaterThan(0);
    const regrouped = await json<{ group_by: string | null }>(await post(`/v1/widgets/${w.id}`, { group_by: 'status' }, 'PATCH'));
    expect(regrouped.group_by).toBe('status');
    expect((await data(w.id)).group_by).toBe('status');
    const ungrouped = await json<{ group_by: string | null }>(await post(`/v1/widgets/${w.id}`, { group_by: null, visualization: 'kpi' }, 'PATCH'));
    expect(ungrouped.group_by).toBeNull();
    const d = await data(w.id);
    expect(d.group_by).toBeUndefined();
    expect(d.rows).toHaveLength(1);
    expect(d.delta).toBeDefined();
  });

  it('run ratios, window functions and subqueries per group and per bucket on Databricks', async () => {
    const time_window = freshWindow(7);
    const answers = await Promise.all([
      widget('repeat_contact_rate', 'bar', { time_window, group_by: 'channel' }),
      widget('repeat_contact_rate', 'line', { time_window }),
      widget('agent_utilization', 'pie', { time_window, group_by: 'team' }),
      widget('first_contact_resolution', 'line', { time_window, filters: [{ column: 'channel', op: 'eq', value: 'chat' }] }),
    ]).then((ws) => Promise.all(ws.map((w) => data(w.id))));
    for (const d of answers) {
      expect(d, d.metric).toMatchObject({ source: 'databricks', live_data_unavailable: false, columns: ['label', 'value'] });
      expect(d.rows.length).toBeGreaterThan(1);
      expect(d.rows.some((r) => typeof r.value === 'number' && r.value > 0)).toBe(true);
      for (const r of d.rows) expect(r.value === null || (typeof r.value === 'number' && r.value >= 0 && r.value <= 100)).toBe(true);
    }
  });

  it('list each metric’s groupable columns in the catalog', async () => {
    const { metrics } = await json<{ metrics: Array<{ name: string; groupable: string[] }> }>(await call('/v1/metrics', { headers: await authHeaders('viewer') }));
    const byName = new Map(metrics.map((m) => [m.name, m.groupable]));
    expect(byName.get('claim_volume')).toEqual(['product', 'claim_type', 'status', 'region']);
    expect(byName.get('nps_impact')).toContain('channel');
    expect(byName.get('claims_by_product')).toEqual([]);
    expect(byName.get('open_alerts')).toEqual([]);
  });
});

describe('line widgets', () => {
  it('answer a Databricks time series whose buckets add up to the whole window', async () => {
    const time_window = freshWindow(7);
    const line = await widget('claim_volume', 'line', { time_window });
    const kpi = await widget('claim_volume', 'kpi', { time_window });
    const [series, whole] = await Promise.all([data(line.id), data(kpi.id)]);
    expect(series).toMatchObject({ source: 'databricks', columns: ['label', 'value'], live_data_unavailable: false, series: { step: '6h' } });
    expect(series.rows.length).toBe(series.series!.buckets);
    expect(series.rows.length).toBeGreaterThanOrEqual(28);
    expect(series.rows.length).toBeLessThanOrEqual(29);
    const labels = series.rows.map((r) => r.label as string);
    expect(labels[0]).toBe(new Date(time_window.start).toISOString());
    expect(labels).toEqual([...labels].sort());
    expect(labels.every((l) => !Number.isNaN(Date.parse(l)))).toBe(true);
    expect(total(series)).toBe(scalar(whole));
    expect(series.sql).toContain(':b0_start');
    expect(series.sql).not.toMatch(/:start\b|:end\b/);
  });

  it('answer a Postgres time series, hourly for a day, with filters applied in every bucket', async () => {
    const time_window = freshWindow(1);
    const filters = [{ column: 'region', op: 'in', value: ['EMEA', 'APAC'] }];
    const line = await widget('claim_volume', 'line', { time_window, filters });
    const kpi = await widget('claim_volume', 'kpi', { time_window, filters });
    const series = await data(line.id, claimVolumeOnPostgres);
    const whole = await data(kpi.id, claimVolumeOnPostgres);
    expect(series).toMatchObject({ source: 'postgres', series: { step: '1h' } });
    expect(series.rows.length).toBeGreaterThanOrEqual(24);
    expect(total(series)).toBe(scalar(whole));
  });

  it('keep a breakdown metric’s own rows', async () => {
    const d = await data((await widget('claims_by_product', 'line', { time_window: freshWindow(30) })).id);
    expect(d.series).toBeUndefined();
    expect(d.rows.length).toBeGreaterThan(1);
    expect(d.rows.every((r) => Number.isNaN(Date.parse(String(r.label))))).toBe(true);
  });
});

describe('API documentation', () => {
  it('explains group_by, the time series and the grouped catalog columns', async () => {
    const spec = (await (await call('/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, { description?: string }>; allOf?: Array<{ properties?: Record<string, { description?: string }> }> }> };
    };
    const schemas = spec.components.schemas;
    expect(schemas.CreateWidget?.properties?.group_by?.description).toMatch(/allowed value/);
    expect(schemas.CreateWidget?.properties?.visualization?.description).toMatch(/time series/);
    expect(schemas.WidgetData?.properties?.rows?.description).toMatch(/time bucket/);
    expect(schemas.ListedMetric?.allOf?.find((part) => part.properties?.groupable)?.properties?.groupable?.description).toMatch(/group_by/);
  });
});

describe('refused combinations', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; pointer: string; message: RegExp }> = [
    { name: 'unknown column', body: { metric: 'claim_volume', visualization: 'bar', group_by: 'favourite_colour' }, pointer: 'body/group_by', message: /not a column in the data dictionary/ },
    { name: 'column of another table', body: { metric: 'claim_volume', visualization: 'bar', group_by: 'channel' }, pointer: 'body/group_by', message: /not a column of claims/ },
    { name: 'column without listed values', body: { metric: 'claim_volume', visualization: 'bar', group_by: 'customer_id' }, pointer: 'body/group_by', message: /no listed set of values/ },
    { name: 'kpi', body: { metric: 'claim_volume', visualization: 'kpi', group_by: 'region' }, pointer: 'body/group_by', message: /kpi/ },
    { name: 'line', body: { metric: 'claim_volume', visualization: 'line', group_by: 'region' }, pointer: 'body/group_by', message: /line/ },
    { name: 'metric with label rows', body: { metric: 'claims_by_product', visualization: 'bar', group_by: 'region' }, pointer: 'body/group_by', message: /one row per label/ },
    { name: 'time series of an unwindowed metric', body: { metric: 'issue_sessions_active', visualization: 'line' }, pointer: 'body/visualization', message: /not measured over a time window/ },
  ];

  for (const c of cases) {
    it(`answers 422 validation_failed for ${c.name}`, async () => {
      const problem = await expectProblem(await post('/v1/widgets', { title: c.name, ...c.body }), 422, 'validation_failed');
      expect(problem.errors).toEqual([{ pointer: c.pointer, message: expect.stringMatching(c.message) }]);
    });
  }

  it('answers 422 for a group_by that is not a column name at all', async () => {
    const problem = await expectProblem(await post('/v1/widgets', { title: 'x', metric: 'claim_volume', visualization: 'bar', group_by: "region'; DROP TABLE claims --" }), 422, 'validation_failed');
    expect(problem.errors?.[0]?.pointer).toMatch(/group_by/);
  });

  it('checks a PATCH against the whole widget it would leave', async () => {
    const grouped = await widget('claim_volume', 'bar', { group_by: 'region' });
    const toKpi = await expectProblem(await post(`/v1/widgets/${grouped.id}`, { visualization: 'kpi' }, 'PATCH'), 422, 'validation_failed');
    expect(toKpi.errors).toEqual([{ pointer: 'body/group_by', message: expect.stringMatching(/kpi/) }]);
    const active = await widget('issue_sessions_active', 'bar', { group_by: 'channel' });
    const toLine = await expectProblem(await post(`/v1/widgets/${active.id}`, { visualization: 'line', group_by: null }, 'PATCH'), 422, 'validation_failed');
    expect(toLine.errors).toEqual([{ pointer: 'body/visualization', message: expect.stringMatching(/:start and :end/) }]);
    const line = await widget('claim_volume', 'line');
    await expectProblem(await post(`/v1/widgets/${line.id}`, { group_by: 'region' }, 'PATCH'), 422, 'validation_failed');
  });
});
