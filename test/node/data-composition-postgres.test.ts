import { describe, expect, it } from 'vitest';
import { composeSeries, planBuckets } from '../../worker/metrics/compose/buckets.ts';
import { applyFilters } from '../../worker/metrics/compose/filters-cte.ts';
import type { TypedValue } from '../../worker/services/statements.ts';
import type { BoundFilter } from '../../worker/metrics/compose/filters.ts';
import { composeGrouped, groupPlan, orderGroups, OTHER_LABEL } from '../../worker/metrics/compose/grouping.ts';
import type { GroupPlan } from '../../worker/metrics/compose/grouping.ts';
import { compileNamedForPostgres } from '../../worker/sqlgen/named-params.ts';
import { dictionary, metric, qualify } from './catalog-fixture.ts';
import { privateDatabase } from './private-database.ts';

// The casts the data path gives each parameter type (worker/services/statements.ts).
const CASTS: Record<string, string> = { TIMESTAMP: 'timestamptz', STRING: 'text', INT: 'integer', DOUBLE: 'double precision' };

const db = privateDatabase('command_center_composition');
const dict = dictionary();
const DAY = 86_400_000;

async function run(sql: string, params: Record<string, TypedValue>): Promise<Array<{ label?: string; value: number | null }>> {
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.value]));
  const compiled = compileNamedForPostgres(sql, values, (name) => CASTS[params[name]?.type ?? '']);
  const { rows } = await db().query(compiled.text, compiled.values);
  return rows.map((r: Record<string, unknown>) => ({ ...r, value: r.value === null ? null : Number(r.value) }) as { label?: string; value: number | null });
}

const window = () => ({ start: new Date(Date.now() - 30 * DAY), end: new Date() });
const windowParams = (w: { start: Date; end: Date }): Record<string, TypedValue> => ({
  start: { value: w.start, type: 'TIMESTAMP' },
  end: { value: w.end, type: 'TIMESTAMP' },
});

function planFor(column: string, name: string): GroupPlan {
  const found = groupPlan(column, metric(name), dict, qualify);
  if (!('plan' in found)) throw new Error(found.problem);
  return found.plan;
}

function filterParams(filters: readonly BoundFilter[]): Record<string, TypedValue> {
  return Object.fromEntries(filters.flatMap((f) => f.params.map((p) => [p.name, { value: p.value, type: p.type }])));
}

describe('composed statements on Postgres', () => {
  it('group an additive metric into parts that add up to the whole, for every groupable column', async () => {
    const w = window();
    const sql = metric('claim_volume').queries.postgres!;
    const [whole] = await run(sql, windowParams(w));
    expect(whole!.value).toBeGreaterThan(0);
    for (const column of ['product', 'claim_type', 'status', 'region']) {
      const plan = planFor(column, 'claim_volume');
      const grouped = composeGrouped(sql, [], plan, 'postgres', qualify);
      const rows = await run(grouped.sql, { ...windowParams(w), ...grouped.params });
      expect(rows.map((r) => r.label)).toEqual([...plan.values, OTHER_LABEL]);
      expect(rows.reduce((s, r) => s + (r.value ?? 0), 0), column).toBe(whole!.value);
      expect(orderGroups(rows, plan).reduce((s, r) => s + ((r.value as number | null) ?? 0), 0), column).toBe(whole!.value);
    }
  });

  it('keep filters on another column inside every group', async () => {
    const w = window();
    const sql = metric('claim_volume').queries.postgres!;
    const emea: BoundFilter[] = [{ table: 'claims', column: 'region', op: 'eq', params: [{ name: 'f0', value: 'EMEA', type: 'STRING' }] }];
    const [all] = await run(sql, windowParams(w));
    const [filtered] = await run(applyFilters(sql, emea, 'postgres', qualify), { ...windowParams(w), ...filterParams(emea) });
    const grouped = composeGrouped(sql, emea, planFor('status', 'claim_volume'), 'postgres', qualify);
    const rows = await run(grouped.sql, { ...windowParams(w), ...filterParams(emea), ...grouped.params });
    expect(filtered!.value).toBeLessThan(all!.value!);
    expect(rows.reduce((s, r) => s + (r.value ?? 0), 0)).toBe(filtered!.value);
  });

  it('group a rounded sum to within its rounding, and run ratio metrics per group', async () => {
    const w = window();
    const nps = metric('nps_impact').queries.postgres!;
    const [whole] = await run(nps, windowParams(w));
    const plan = planFor('channel', 'nps_impact');
    const grouped = composeGrouped(nps, [], plan, 'postgres', qualify);
    const rows = await run(grouped.sql, { ...windowParams(w), ...grouped.params });
    expect(Math.abs(rows.reduce((s, r) => s + (r.value ?? 0), 0) - whole!.value!)).toBeLessThanOrEqual(0.05 * (plan.values.length + 1) + 1e-9);

    const sla = metric('sla_breach_rate').queries.postgres!;
    const ratio = composeGrouped(sla, [], planFor('region', 'sla_breach_rate'), 'postgres', qualify);
    for (const r of await run(ratio.sql, { ...windowParams(w), ...ratio.params })) {
      expect(r.value === null || (r.value >= 0 && r.value <= 100)).toBe(true);
    }
  });

  it('split a window into buckets that add up to the whole window', async () => {
    const sql = metric('claim_volume').queries.postgres!;
    for (const days of [1, 7, 30]) {
      const w = { start: new Date(Date.now() - days * DAY - 123_456), end: new Date(Date.now() - 654_321) };
      const [whole] = await run(sql, windowParams(w));
      const plan = planBuckets(w);
      const series = composeSeries(sql, plan, 'postgres');
      const rows = await run(series.sql, series.params);
      expect(rows).toHaveLength(plan.buckets.length);
      expect(rows.map((r) => r.label).sort()).toEqual(plan.buckets.map((b) => b.start.toISOString()));
      expect(rows.reduce((s, r) => s + (r.value ?? 0), 0), `${days}d`).toBe(whole!.value);
    }
  });

  it('run a time series of a filtered metric whose window end also appears in arithmetic', async () => {
    const w = window();
    const emea: BoundFilter[] = [{ table: 'claims', column: 'region', op: 'eq', params: [{ name: 'f0', value: 'EMEA', type: 'STRING' }] }];
    const sla = applyFilters(metric('sla_breach_rate').queries.postgres!, emea, 'postgres', qualify);
    const series = composeSeries(sla, planBuckets(w), 'postgres');
    const rows = await run(series.sql, { ...series.params, ...filterParams(emea) });
    expect(rows.length).toBeGreaterThan(20);
  });
});
