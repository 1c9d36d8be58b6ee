import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem, json, newWidget } from './helpers.ts';
import { freshWindow, query, viewerFetch, viewerGet } from './analytics-helpers.ts';
import type { CallsPage, Kpi, Meta } from './analytics-helpers.ts';
import { describeRange, planPeriod } from '../../worker/analytics/period.ts';
import { liftMetric, maskAggregates, windowMetric } from '../../worker/analytics/measures.ts';

type Params = Record<string, string | string[]>;
interface Summary { data: { kpis: Kpi[] } | null; meta: Meta }
interface Breakdown { data: { dimension: string; groups: Array<{ key: string; share: number | null; kpis: Kpi[] }> } | null; meta: Meta }
interface Trend {
  data: { measure: string; granularity: string; points: Array<{ start: string; end: string; value: number | null; previous: { start: string; end: string; value: number | null } | null; change: Kpi }> } | null;
  meta: Meta;
}

const kpi = (kpis: Kpi[], name: string) => kpis.find((k) => k.name === name)!;

describe('GET /v1/analytics/summary', () => {
  it('answers every KPI against the equal window before, named, with absolute, relative and point changes', async () => {
    const w = freshWindow(30);
    const s = await viewerGet<Summary>(`/v1/analytics/summary?${query(w)}`);
    expect(s.meta).toMatchObject({ window: w, period: 'custom', live_data_unavailable: false, cache: 'miss' });
    const length = Date.parse(w.end) - Date.parse(w.start);
    expect(s.meta.compared_with).toMatchObject({ kind: 'previous_equal_window', end: w.start, start: new Date(Date.parse(w.start) - length).toISOString() });
    expect(s.meta.compared_with.description).toContain('30 days before');
    const names = s.data!.kpis.map((k) => k.name);
    expect(names).toEqual(['contacts', 'avg_handle_time', 'csat_avg', 'nps', 'first_contact_resolution', 'transfer_rate', 'repeat_contact_rate']);
    for (const k of s.data!.kpis) {
      expect(k.current, k.name).not.toBeNull();
      expect(k.previous, k.name).not.toBeNull();
      expect(k.absolute).toBeCloseTo(k.current! - k.previous!, 3);
      expect(k.relative).toBeCloseTo((k.current! - k.previous!) / Math.abs(k.previous!), 3);
    }
    const fcr = kpi(s.data!.kpis, 'first_contact_resolution');
    expect(fcr.percentage_points).toBe(fcr.absolute);
    expect(kpi(s.data!.kpis, 'avg_handle_time')).not.toHaveProperty('percentage_points');
    // The catalog's metrics say where their definition came from.
    expect(s.meta.measures.find((m) => m.name === 'csat_avg')!.definition).toMatchObject({ source: 'catalog', metric: 'csat_avg', version: expect.any(Number) });
    expect(s.meta.measures.find((m) => m.name === 'nps')!.definition).toEqual({ source: 'analytics' });
    const again = await viewerGet<Summary>(`/v1/analytics/summary?${query(w)}`);
    expect(again.meta.cache).toBe('hit');
    expect(again.data).toEqual(s.data);
  });

  it('compares a period to date with the same elapsed part of the previous period', async () => {
    const s = await viewerGet<Summary>('/v1/analytics/summary?period=mtd');
    const start = new Date(s.meta.window.start);
    expect(start.getUTCDate()).toBe(1);
    expect(s.meta.compared_with.kind).toBe('previous_period_to_date');
    const prevStart = new Date(s.meta.compared_with.start);
    expect(prevStart.toISOString()).toBe(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)).toISOString());
    const elapsed = Date.parse(s.meta.window.end) - start.getTime();
    expect(Date.parse(s.meta.compared_with.end)).toBe(Math.min(prevStart.getTime() + elapsed, start.getTime()));
    expect(s.meta.compared_with.description).toMatch(/same elapsed part of last month/);
  });

  it('names today’s compared window in words: the same hours of yesterday, no raw timestamps', async () => {
    const s = await viewerGet<Summary>('/v1/analytics/summary?period=today');
    expect(s.meta.period).toBe('today');
    expect(s.meta.compared_with.kind).toBe('previous_period_to_date');
    const start = new Date(s.meta.window.start);
    expect(start.getTime() % 86_400_000).toBe(0);
    expect(Date.parse(s.meta.compared_with.start)).toBe(start.getTime() - 86_400_000);
    const d = s.meta.compared_with.description;
    expect(d).toMatch(/^the same elapsed part of yesterday \(.+ into the day\): /);
    expect(d).not.toMatch(/the today|\d{4}-\d{2}-\d{2}T/);
    expect(d).toContain('(UTC)');
  });

  it('describes compared windows as people read dates, keeping the exact bounds beside them', () => {
    const at = (iso: string) => new Date(iso);
    expect(describeRange(at('2026-12-01T00:00:00Z'), at('2026-12-08T00:00:00Z'))).toBe('1–7 Dec 2026 (UTC)');
    expect(describeRange(at('2026-11-28T00:00:00Z'), at('2026-12-05T00:00:00Z'))).toBe('28 Nov – 4 Dec 2026 (UTC)');
    expect(describeRange(at('2025-12-29T00:00:00Z'), at('2026-01-02T00:00:00Z'))).toBe('29 Dec 2025 – 1 Jan 2026 (UTC)');
    expect(describeRange(at('2026-12-06T00:00:00Z'), at('2026-12-07T00:00:00Z'))).toBe('6 Dec 2026 (UTC)');
    expect(describeRange(at('2026-12-06T00:00:00Z'), at('2026-12-06T14:05:00Z'))).toBe('6 Dec 2026, 00:00–14:05 (UTC)');
    expect(describeRange(at('2026-11-06T09:30:00Z'), at('2026-12-06T09:30:00Z'))).toBe('6 Nov 2026, 09:30 – 6 Dec 2026, 09:30 (UTC)');

    const now = at('2026-12-06T14:05:30Z');
    const today = planPeriod({ period: 'today' }, now);
    if (!('plan' in today)) throw new Error('today has no plan');
    expect(today.plan.current).toEqual({ start: at('2026-12-06T00:00:00Z'), end: at('2026-12-06T14:05:00Z') });
    expect(today.plan.previous).toEqual({ start: at('2026-12-05T00:00:00Z'), end: at('2026-12-05T14:05:00Z') });
    expect(today.plan.comparison.description).toBe('the same elapsed part of yesterday (14 h 5 min into the day): 5 Dec 2026, 00:00–14:05 (UTC)');
    // In the day's first minute the window is that minute, compared with yesterday's first minute.
    const midnight = planPeriod({ period: 'today' }, at('2026-12-06T00:00:10Z'));
    if (!('plan' in midnight)) throw new Error('today has no plan');
    expect(midnight.plan.previous).toEqual({ start: at('2026-12-05T00:00:00Z'), end: at('2026-12-05T00:01:00Z') });
    expect(midnight.plan.comparison.description).toBe('the same elapsed part of yesterday (1 min into the day): 5 Dec 2026, 00:00–00:01 (UTC)');
    const week = planPeriod({ period: '7d' }, at('2026-12-08T00:00:00Z'));
    if (!('plan' in week)) throw new Error('7d has no plan');
    expect(week.plan.comparison.description).toBe('the 7 days before: 24–30 Nov 2026 (UTC)');
  });

  it('gives the catalog metric’s number: the summary and a dashboard tile agree', async () => {
    const w = freshWindow(14);
    const s = await viewerGet<Summary>(`/v1/analytics/summary?${query({ ...w, channel: 'chat' })}`);
    for (const metric of ['avg_handle_time', 'csat_avg', 'first_contact_resolution', 'repeat_contact_rate']) {
      const created = await json<{ id: string }>(
        await newWidget('editor', { title: metric, metric, visualization: 'kpi', time_window: w, filters: [{ column: 'channel', op: 'eq', value: 'chat' }] }),
        201,
      );
      const headers = await authHeaders('editor');
      try {
        const tile = await json<{ rows: Array<{ value: number }>; source: string }>(await call(`/v1/widgets/${created.id}/data`, { method: 'POST', headers }));
        expect(tile.source).toBe('databricks');
        expect(kpi(s.data!.kpis, metric).current, metric).toBe(tile.rows[0]!.value);
      } finally {
        await call(`/v1/widgets/${created.id}`, { method: 'DELETE', headers });
      }
    }
  });

  it('refuses unknown and bad parameters', async () => {
    await expectProblem(await viewerFetch('/v1/analytics/summary?page%5Bsize%5D=10'), 422, 'validation_failed');
    await expectProblem(await viewerFetch('/v1/analytics/summary?team=marketing'), 422, 'validation_failed');
  });
});

describe('consistency', () => {
  const sets: Params[] = [
    {},
    { channel: 'call' },
    { region: ['EMEA', 'APAC'], fcr: 'true' },
    { team: 'devices', csat_min: '4' },
    { issue_type: 'billing,setup', transferred: 'false', nps_max: '6' },
  ];
  for (const filters of sets) {
    it(`list total = summary contacts = every breakdown’s sum, under ${JSON.stringify(filters)}`, async () => {
      const w = freshWindow(21);
      const params = { ...w, ...filters };
      const [page, s] = await Promise.all([
        viewerGet<CallsPage>(`/v1/calls?${query({ ...params, 'page[size]': 1 })}`),
        viewerGet<Summary>(`/v1/analytics/summary?${query(params)}`),
      ]);
      const contacts = kpi(s.data!.kpis, 'contacts');
      expect(contacts.current).toBe(page.meta.total);
      expect(page.meta.total).toBeGreaterThan(0);
      for (const by of ['channel', 'issue_type', 'region', 'team']) {
        const b = await viewerGet<Breakdown>(`/v1/analytics/breakdowns?${query({ ...params, by })}`);
        const sum = (period: 'current' | 'previous') => b.data!.groups.reduce((n, g) => n + (kpi(g.kpis, 'contacts')[period] ?? 0), 0);
        expect(sum('current'), by).toBe(contacts.current);
        expect(sum('previous'), by).toBe(contacts.previous);
      }
    });
  }
});

describe('one pass per question', () => {
  // The breakdown answers every group in one statement (one window sort for repeat contacts); a
  // summary narrowed to one group answers that group alone, as the catalog query run for it.
  // They must be the same numbers, measure by measure, in both periods.
  const cases: Array<{ by: string; narrow: (key: string) => Params; filters: Params }> = [
    { by: 'channel', narrow: (key) => ({ channel: key }), filters: {} },
    { by: 'region', narrow: (key) => ({ region: key }), filters: { transferred: 'false' } },
    { by: 'team', narrow: (key) => ({ team: key }), filters: { csat_min: '3' } },
  ];
  for (const { by, narrow, filters } of cases) {
    it(`every ${by} group of a breakdown equals the summary narrowed to it, under ${JSON.stringify(filters)}`, async () => {
      const w = freshWindow(21);
      const b = await viewerGet<Breakdown>(`/v1/analytics/breakdowns?${query({ ...w, ...filters, by })}`);
      const groups = b.data!.groups.filter((g) => g.key !== '(none)');
      expect(groups.length).toBeGreaterThan(1);
      for (const g of groups) {
        const s = await viewerGet<Summary>(`/v1/analytics/summary?${query({ ...w, ...filters, ...narrow(g.key) })}`);
        for (const k of s.data!.kpis) {
          const mine = kpi(g.kpis, k.name);
          expect([mine.current, mine.previous], `${by}=${g.key} ${k.name}`).toEqual([k.current, k.previous]);
        }
      }
    });
  }

  it('every week of a repeat-contact series equals the summary over that week', async () => {
    const w = freshWindow(28);
    const t = await viewerGet<Trend>(`/v1/analytics/trends?${query({ ...w, channel: 'chat', metric: 'repeat_contact_rate', granularity: 'week' })}`);
    const points = t.data!.points;
    expect(points.filter((p) => p.value !== null).length).toBeGreaterThan(2);
    for (const p of points) {
      const s = await viewerGet<Summary>(`/v1/analytics/summary?${query({ start: p.start, end: p.end, channel: 'chat' })}`);
      expect(kpi(s.data!.kpis, 'repeat_contact_rate').current, p.start).toBe(p.value);
    }
  });

  it('reads the catalog’s repeat-contact query as one windowed pass, partitioned by slice', () => {
    const table = 'workspace.support_l3.interactions';
    const repeat =
      `WITH contacts AS (SELECT customer_id, started_at, LAG(started_at) OVER (PARTITION BY customer_id ORDER BY started_at) AS previous_started_at FROM ${table} WHERE started_at >= :start AND started_at < :end) ` +
      `SELECT ROUND(100.0 * COUNT(DISTINCT CASE WHEN previous_started_at >= started_at - INTERVAL '7' DAY THEN customer_id END) / NULLIF(COUNT(DISTINCT customer_id), 0), 2) AS value FROM contacts`;
    const plan = windowMetric(repeat, table)!;
    expect(plan.select).toContain('OVER (PARTITION BY customer_id, cc_period, cc_key ORDER BY started_at)');
    expect(windowMetric(repeat.replace('PARTITION BY customer_id ', ''), table)!.select).toContain('OVER (PARTITION BY cc_period, cc_key ORDER BY started_at)');
    expect(plan.expr).toMatch(/^ROUND\(100\.0 \* COUNT\(DISTINCT/);
    // Shapes whose rows a slice's window would not bound the same way stay composed.
    expect(windowMetric(repeat.replace('started_at >= :start', 'started_at >= :start - INTERVAL \'7\' DAY'), table)).toBeNull();
    expect(windowMetric(repeat.replace(`FROM ${table}`, `FROM ${table} JOIN ${table} x USING (customer_id)`), table)).toBeNull();
    expect(windowMetric(repeat.replace('SELECT ROUND', 'SELECT (SELECT 1) + ROUND'), table)).toBeNull();
    expect(windowMetric(repeat.replace('customer_id, started_at,', '*,'), table)).toBeNull();
  });

  it('masks each aggregate by its measure’s condition, and keeps its own pass for anything else', () => {
    const csat = liftMetric('SELECT ROUND(AVG(csat), 2) AS value FROM t WHERE csat IS NOT NULL', 't')!;
    expect(maskAggregates(csat.expr, csat.where)).toBe('CASE WHEN COUNT(CASE WHEN (csat IS NOT NULL) THEN 1 END) > 0 THEN ROUND(AVG(CASE WHEN (csat IS NOT NULL) THEN csat END), 2) END');
    expect(maskAggregates('COUNT(DISTINCT customer_id)', 'x = 1')).toContain('COUNT(DISTINCT CASE WHEN (x = 1) THEN customer_id END)');
    expect(maskAggregates('COUNT(*)', 'TRUE')).toBe('COUNT(*)');
    expect(maskAggregates('percentile(handle_seconds, 0.5)', 'x = 1')).toBeNull();
    expect(maskAggregates('SUM(x) / (SELECT COUNT(*) FROM t)', 'x = 1')).toBeNull();
    expect(maskAggregates('SUM(x) OVER ()', 'x = 1')).toBeNull();
  });
});

describe('GET /v1/analytics/breakdowns', () => {
  it('splits every KPI by a dimension, largest group first, with shares', async () => {
    const b = await viewerGet<Breakdown>(`/v1/analytics/breakdowns?${query({ ...freshWindow(30), by: 'region' })}`);
    const keys = b.data!.groups.map((g) => g.key);
    expect(new Set(keys)).toEqual(new Set(['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM']));
    const volumes = b.data!.groups.map((g) => kpi(g.kpis, 'contacts').current!);
    expect([...volumes].sort((x, y) => y - x)).toEqual(volumes);
    expect(b.data!.groups.reduce((n, g) => n + g.share!, 0)).toBeCloseTo(1, 3);
    for (const g of b.data!.groups) expect(kpi(g.kpis, 'repeat_contact_rate').current).not.toBeNull();
  });

  it('needs a known dimension', async () => {
    await expectProblem(await viewerFetch('/v1/analytics/breakdowns'), 422, 'validation_failed');
    await expectProblem(await viewerFetch('/v1/analytics/breakdowns?by=agent_name'), 422, 'validation_failed');
  });
});

describe('GET /v1/analytics/trends', () => {
  it('answers one point per calendar bucket, each beside the same position in the compared window', async () => {
    const w = freshWindow(30);
    const t = await viewerGet<Trend>(`/v1/analytics/trends?${query({ ...w, metric: 'contacts', granularity: 'day' })}`);
    const points = t.data!.points;
    expect(points).toHaveLength(31);
    expect(points[0]!.start).toBe(w.start);
    expect(points.at(-1)!.end).toBe(w.end);
    for (const p of points.slice(1)) expect(p.start.endsWith('T00:00:00.000Z')).toBe(true);
    const s = await viewerGet<Summary>(`/v1/analytics/summary?${query(w)}`);
    const total = kpi(s.data!.kpis, 'contacts');
    expect(points.reduce((n, p) => n + p.value!, 0)).toBe(total.current);
    expect(points.reduce((n, p) => n + (p.previous?.value ?? 0), 0)).toBe(total.previous);
    expect(points[0]!.previous!.start).toBe(s.meta.compared_with.start);
  });

  it('plots a composed catalog metric by week and a rate with its point change', async () => {
    const w = freshWindow(60);
    const t = await viewerGet<Trend>(`/v1/analytics/trends?${query({ ...w, metric: 'repeat_contact_rate', granularity: 'week' })}`);
    expect(t.data!.points.length).toBeGreaterThanOrEqual(9);
    expect(t.data!.points.filter((p) => p.value !== null).length).toBeGreaterThan(5);
    const fcr = await viewerGet<Trend>(`/v1/analytics/trends?${query({ ...w, metric: 'first_contact_resolution', granularity: 'month' })}`);
    const p = fcr.data!.points.at(-1)!;
    expect(p.change.percentage_points).toBe(p.change.absolute);
  });

  it('refuses more points than a chart can hold, and unknown measures', async () => {
    const problem = await expectProblem(await viewerFetch('/v1/analytics/trends?period=90d&granularity=hour'), 422, 'validation_failed');
    expect(problem.errors?.[0]?.pointer).toBe('query/granularity');
    await expectProblem(await viewerFetch('/v1/analytics/trends?metric=revenue'), 422, 'validation_failed');
  });
});
