// Postgres-routed tiles answer filters and groups on dictionary values the way the lakehouse does:
// the app database's rows use the data dictionary's vocabulary, so nothing falls into "(other)".
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import { bundledDictionary } from '../../worker/config/bundled.ts';
import { OTHER_LABEL } from '../../worker/metrics/compose/grouping.ts';
import type { WidgetData } from '../../worker/metrics/tile-data.ts';
import { authHeaders, call, json } from './helpers.ts';

const DAY = 86_400_000;
let windowCounter = 0;
/** A window no other test asks about, so answers come from the source, not the cache. */
function freshWindow(days: number) {
  const end = new Date(Date.now() - ++windowCounter * 71_000 - Math.floor(Math.random() * 5e5) * 1000);
  return { start: new Date(end.getTime() - days * DAY).toISOString(), end: end.toISOString() };
}

// claim_volume is lakehouse-routed; this copy of the app runs it on Postgres instead.
const claimVolumeOnPostgres = createApi({ routingText: routingYaml.replace(/(claim_volume:\s*\{ source: )databricks/, '$1postgres') });

const allowed = (table: string, column: string) => bundledDictionary().column(table, column)!.allowedValues;

async function widget(metric: string, visualization: string, extra: Record<string, unknown> = {}) {
  const res = await call('/v1/widgets', {
    method: 'POST',
    headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' },
    body: JSON.stringify({ title: metric, metric, visualization, ...extra }),
  });
  return json<{ id: string }>(res, 201);
}

async function data(id: string, api?: ReturnType<typeof createApi>): Promise<WidgetData> {
  const init = { method: 'POST', headers: await authHeaders('editor') };
  if (!api) return json<WidgetData>(await call(`/v1/widgets/${id}/data`, init));
  const ctx = createExecutionContext();
  const res = await api.fetch(new Request(`http://cc.test/v1/widgets/${id}/data`, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return json<WidgetData>(res);
}

const scalar = (d: WidgetData) => d.rows[0]?.value as number;
const total = (d: WidgetData) => d.rows.reduce((s, r) => s + (typeof r.value === 'number' ? r.value : 0), 0);

describe('demo data in the dictionary’s vocabulary', () => {
  it('groups claim_volume on Postgres by product into the listed products only, adding up to the whole', async () => {
    const time_window = freshWindow(30);
    const grouped = await widget('claim_volume', 'bar', { time_window, group_by: 'product' });
    const kpi = await widget('claim_volume', 'kpi', { time_window });
    const parts = await data(grouped.id, claimVolumeOnPostgres);
    const whole = await data(kpi.id, claimVolumeOnPostgres);
    expect(parts).toMatchObject({ source: 'postgres', group_by: 'product', live_data_unavailable: false });
    const labels = parts.rows.map((r) => String(r.label));
    expect(labels).not.toContain(OTHER_LABEL);
    expect([...labels].sort()).toEqual([...allowed('claims', 'product')].sort());
    for (const r of parts.rows) expect(r.value, String(r.label)).toBeGreaterThan(0);
    expect(scalar(whole)).toBeGreaterThan(0);
    expect(total(parts)).toBe(scalar(whole));
  });

  it('filters claim_volume on Postgres by an allowed product to a count, as the lakehouse does', async () => {
    const time_window = freshWindow(30);
    const product = allowed('claims', 'product').find((p) => p !== 'Total Protection')!;
    const filtered = await widget('claim_volume', 'kpi', { time_window, filters: [{ column: 'product', op: 'eq', value: product }] });
    const all = await widget('claim_volume', 'kpi', { time_window });
    const [onPostgres, allOnPostgres, onDatabricks] = [
      await data(filtered.id, claimVolumeOnPostgres),
      await data(all.id, claimVolumeOnPostgres),
      await data(filtered.id),
    ];
    expect(onPostgres).toMatchObject({ source: 'postgres' });
    expect(onDatabricks).toMatchObject({ source: 'databricks', live_data_unavailable: false });
    expect(scalar(onPostgres)).toBeGreaterThan(0);
    expect(scalar(onPostgres)).toBeLessThan(scalar(allOnPostgres));
    expect(scalar(onDatabricks)).toBeGreaterThan(0);
  });

  it('groups Postgres-routed session metrics by channel and issue type without an "(other)" row', async () => {
    const time_window = freshWindow(30);
    const byChannel = await data((await widget('nps_impact', 'bar', { time_window, group_by: 'channel' })).id);
    expect(byChannel).toMatchObject({ source: 'postgres', group_by: 'channel' });
    expect(byChannel.rows.map((r) => String(r.label)).sort()).toEqual([...allowed('issue_sessions', 'channel')].sort());

    const byIssue = await data((await widget('nps_impact', 'table', { time_window, group_by: 'issue_type' })).id);
    expect(byIssue).toMatchObject({ source: 'postgres', group_by: 'issue_type' });
    expect(byIssue.rows.map((r) => String(r.label)).sort()).toEqual([...allowed('issue_sessions', 'issue_type')].sort());
    for (const r of byIssue.rows) expect(r.value, String(r.label)).not.toBe(0);
  });
});
