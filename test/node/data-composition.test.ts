import { describe, expect, it } from 'vitest';
import { composeSeries, MAX_BUCKETS, orderBuckets, planBuckets } from '../../worker/metrics/compose/buckets.ts';
import { applyFilters, shadowsTable, sliceRow, statementBody } from '../../worker/metrics/compose/filters-cte.ts';
import type { BoundFilter } from '../../worker/metrics/compose/filters.ts';
import { composeGrouped, groupableColumns, groupPlan, MAX_GROUPS, orderGroups, OTHER_LABEL } from '../../worker/metrics/compose/grouping.ts';
import type { GroupPlan } from '../../worker/metrics/compose/grouping.ts';
import { joinTokens, tokenizeSql } from '../../worker/sqlgen/lexer.ts';
import { compileNamedForPostgres, namedParameters, renameParameters } from '../../worker/sqlgen/named-params.ts';
import { checkPresentation, presentationFor } from '../../worker/metrics/compose/presentation.ts';
import { metricShape, outputColumns } from '../../worker/metrics/compose/shape.ts';
import { resolveWindow, WINDOW_PRESETS } from '../../worker/metrics/compose/window.ts';
import { checkSql, MAX_SQL_LENGTH, policyFromTables } from '../../worker/sqlgen/safety.ts';
import { dictionary, metric, qualify, seededMetrics } from './catalog-fixture.ts';

const dict = dictionary();
const policy = policyFromTables(dict.tables);
const metrics = seededMetrics();

function passes(sql: string): string {
  const verdict = checkSql(sql, policy);
  if (!verdict.ok) throw new Error(`refused (${verdict.code}): ${verdict.detail}\n${sql}`);
  return verdict.sql;
}

describe('parameter tokenizer', () => {
  const samples: Array<[string, 'postgres' | 'databricks']> = [
    ["SELECT ':start', \"a:end\", x::date, $$ :start $$, $t$ :end $t$ FROM t -- :start\nWHERE a = :start /* :end /* nested :x */ */", 'postgres'],
    ["SELECT E'it\\'s :start', 'plain\\' AS c, :end FROM t", 'postgres'],
    ["SELECT 'it\\'s :start', \"say \\\":end\\\"\", `col:start` FROM t WHERE a >= :start AND b < :end", 'databricks'],
    ['SELECT a$b, $1 FROM t WHERE x = :f0', 'postgres'],
    ["SELECT 'unterminated :start", 'databricks'],
  ];

  it('gives back exactly its input', () => {
    for (const [sql, dialect] of samples) expect(joinTokens(tokenizeSql(sql, dialect))).toBe(sql);
  });

  it('finds parameters only in code, per dialect', () => {
    expect(namedParameters(samples[0]![0], 'postgres')).toEqual(['start']);
    // Postgres standard strings end at the first quote; E-strings honour backslashes.
    expect(namedParameters(samples[1]![0], 'postgres')).toEqual(['end']);
    expect(namedParameters(samples[2]![0], 'databricks')).toEqual(['start', 'end']);
    expect(namedParameters(samples[3]![0], 'postgres')).toEqual(['f0']);
    expect(namedParameters(samples[4]![0], 'databricks')).toEqual([]);
  });

  it('renames the window parameters and nothing else', () => {
    const sql = "SELECT ':start' AS s, x::timestamp, :startx, :f0 FROM t WHERE at >= :start AND at < :end - INTERVAL '72 hours' -- :end";
    expect(renameParameters(sql, { start: 'b3_start', end: 'b3_end' }, 'postgres')).toBe(
      "SELECT ':start' AS s, x::timestamp, :startx, :f0 FROM t WHERE at >= :b3_start AND at < :b3_end - INTERVAL '72 hours' -- :end",
    );
    const spark = "SELECT `:start`, 'a\\':end' FROM t WHERE at >= :start";
    expect(renameParameters(spark, { start: 's1' }, 'databricks')).toBe("SELECT `:start`, 'a\\':end' FROM t WHERE at >= :s1");
  });

  it('compiles for Postgres with one $n per name and typed casts', () => {
    const out = compileNamedForPostgres('SELECT :a, :b::text, :a, \':c\'', { a: 1, b: 'x' }, (n) => (n === 'a' ? 'integer' : undefined));
    expect(out).toEqual({ text: "SELECT $1::integer, $2::text, $1::integer, ':c'", values: [1, 'x'] });
    expect(() => compileNamedForPostgres('SELECT :missing', {})).toThrow(/no value/);
  });
});

describe('filter composition', () => {
  const region: BoundFilter = { table: 'claims', column: 'region', op: 'eq', params: [{ name: 'f0', value: 'EMEA', type: 'STRING' }] };

  it('continues a query’s own WITH list and drops what surrounds the statement', () => {
    const sql = '-- note\nWITH x AS (SELECT * FROM claims) SELECT COUNT(*) AS value FROM x; -- trailing';
    expect(applyFilters(sql, [region], 'postgres', qualify)).toBe(
      'WITH claims AS (SELECT * FROM public.claims WHERE region = :f0), x AS (SELECT * FROM claims) SELECT COUNT(*) AS value FROM x',
    );
    expect(applyFilters('WITH RECURSIVE r AS (SELECT 1) SELECT 1 AS value FROM claims, r', [region], 'postgres', qualify)).toMatch(
      /^WITH RECURSIVE claims AS \(.*\), r AS/,
    );
  });

  it('renames Databricks table references by token, not inside strings or longer names', () => {
    const sql =
      "SELECT COUNT(*) AS value FROM workspace.support_l3.claims c JOIN `workspace`.`support_l3`.`claims` d ON 1 = 1 WHERE note <> 'workspace.support_l3.claims' AND x.workspace.support_l3.claims IS NULL";
    const out = applyFilters(sql, [region], 'databricks', qualify);
    expect(out).toContain('FROM cc_filtered_claims c JOIN cc_filtered_claims d');
    expect(out).toContain("'workspace.support_l3.claims'");
    expect(out).toContain('x.workspace.support_l3.claims IS NULL');
  });

  it('knows whether shadowing a table changes the query', () => {
    expect(shadowsTable('SELECT 1 FROM claims', 'claims', 'postgres', qualify)).toBe(true);
    expect(shadowsTable('SELECT 1 FROM public.claims', 'claims', 'postgres', qualify)).toBe(false);
    expect(shadowsTable("SELECT 'claims' FROM devices", 'claims', 'postgres', qualify)).toBe(false);
    expect(shadowsTable('SELECT 1 FROM workspace.support_l3.claims', 'claims', 'databricks', qualify)).toBe(true);
    expect(shadowsTable('SELECT 1 FROM claims', 'claims', 'databricks', qualify)).toBe(false);
  });

  it('wraps a metric so only its value is read and a trailing comment cannot swallow the parenthesis', () => {
    expect(statementBody('  SELECT 1 AS value; -- done', 'postgres')).toBe('SELECT 1 AS value');
    expect(sliceRow('g0_label', 'SELECT 1 AS value, 2 AS other -- done', 'postgres')).toBe(
      'SELECT :g0_label AS label, (SELECT cc_metric.value FROM (\nSELECT 1 AS value, 2 AS other\n) AS cc_metric) AS value',
    );
  });
});

describe('metric shape', () => {
  it('reads output columns from the SQL', () => {
    expect(outputColumns('SELECT product AS label, COUNT(*) AS value FROM claims GROUP BY product')).toEqual(['label', 'value']);
    expect(outputColumns('SELECT value FROM t')).toEqual(['value']);
    expect(outputColumns('SELECT * FROM t')).toBeNull();
    expect(outputColumns('SELECT COUNT(*) FROM t')).toBeNull();
    expect(outputColumns('not sql at all')).toBeNull();
  });

  it('classifies every seeded metric', () => {
    const shapes = Object.fromEntries(metrics.map((m) => [m.name, metricShape(m)]));
    expect(metrics).toHaveLength(13);
    expect(shapes.claims_by_product).toEqual({ output: 'labelled', windowed: true });
    expect(shapes.claim_status_mix).toEqual({ output: 'labelled', windowed: true });
    expect(shapes.issue_sessions_active).toEqual({ output: 'scalar', windowed: false });
    expect(shapes.cost_avoided_mtd).toEqual({ output: 'scalar', windowed: false });
    expect(shapes.open_alerts).toEqual({ output: 'scalar', windowed: false });
    for (const name of ['nps_impact', 'claim_volume', 'avg_handle_time', 'first_contact_resolution', 'csat_avg', 'repeat_contact_rate', 'sla_breach_rate', 'agent_utilization']) {
      expect(shapes[name], name).toEqual({ output: 'scalar', windowed: true });
    }
  });
});

describe('time buckets', () => {
  const now = new Date('2026-03-18T14:37:00.000Z');
  const expected: Record<string, string> = { '1h': '5m', '24h': '1h', '7d': '6h', '30d': '1d', '90d': '7d', mtd: '1d' };

  it('pick a step from the window length, aligned to the clock, and cover the window exactly', () => {
    for (const preset of WINDOW_PRESETS) {
      const window = resolveWindow({ preset }, now);
      const plan = planBuckets(window);
      expect(plan.step, preset).toBe(expected[preset]);
      expect(plan.buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
      expect(plan.buckets[0]!.start).toEqual(window.start);
      expect(plan.buckets.at(-1)!.end).toEqual(window.end);
      plan.buckets.forEach((b, i) => {
        expect(b.start < b.end).toBe(true);
        if (i > 0) expect(b.start).toEqual(plan.buckets[i - 1]!.end);
        if (i > 0) expect(b.start.getTime() % plan.stepMs === 0 || plan.stepMs >= 7 * 86_400_000).toBe(true);
      });
    }
    // Weekly buckets start on Mondays.
    const weekly = planBuckets(resolveWindow({ preset: '90d' }, now));
    expect(weekly.buckets.slice(1).every((b) => b.start.getUTCDay() === 1 && b.start.getUTCHours() === 0)).toBe(true);
  });

  it('stay within the cap for the longest window and step up when a plan does not fit', () => {
    const year = { start: new Date('2025-03-18T00:00:00Z'), end: new Date('2026-03-18T00:00:00Z') };
    expect(planBuckets(year).buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
    const day = resolveWindow({ preset: '24h' }, now);
    expect(planBuckets(day, (p) => p.buckets.length <= 10).step).toBe('3h');
    expect(planBuckets(day, () => false)).toMatchObject({ step: 'window', buckets: [{ start: day.start, end: day.end }] });
  });

  it('compose one statement with per-bucket parameters that passes the safety layer for every windowed metric', () => {
    const window = resolveWindow({ preset: '7d' }, now);
    const plan = planBuckets(window);
    for (const m of metrics.filter((x) => metricShape(x).windowed && x.queries.databricks)) {
      const { sql, params } = composeSeries(m.queries.databricks!, plan, 'databricks');
      const names = namedParameters(sql, 'databricks');
      expect(names).not.toContain('start');
      expect(names).not.toContain('end');
      expect(new Set(names)).toEqual(new Set(Object.keys(params)));
      expect(params.b0_start).toEqual({ value: window.start, type: 'TIMESTAMP' });
      expect(params.b0_label).toEqual({ value: window.start.toISOString(), type: 'STRING' });
      expect(sql.match(/UNION ALL/g)).toHaveLength(plan.buckets.length - 1);
      passes(sql);
    }
  });

  it('order rows by time', () => {
    const rows = [{ label: '2026-01-02T00:00:00.000Z', value: 2 }, { label: '2026-01-01T00:00:00.000Z', value: 1 }];
    expect(orderBuckets(rows).map((r) => r.value)).toEqual([1, 2]);
  });
});

describe('grouping', () => {
  const plan = (column: string, name: string): GroupPlan => {
    const found = groupPlan(column, metric(name), dict, qualify);
    if (!('plan' in found)) throw new Error(found.problem);
    return found.plan;
  };

  it('groups by categorical lineage columns only, and says why not otherwise', () => {
    expect(plan('region', 'claim_volume')).toEqual({ column: 'region', tables: ['claims'], values: ['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM'], kind: 'STRING' });
    const problem = (column: string, name: string) => {
      const found = groupPlan(column, metric(name), dict, qualify);
      return 'problem' in found ? found.problem : null;
    };
    expect(problem('no_such_column', 'claim_volume')).toMatch(/not a column in the data dictionary/);
    expect(problem('channel', 'claim_volume')).toMatch(/not a column of claims/);
    expect(problem('claim_id', 'claim_volume')).toMatch(/no listed set of values/);
    expect(problem('product', 'claims_by_product')).toMatch(/already returns one row per label/);
    expect(problem('region', 'open_alerts')).toMatch(/not a column of any table/);
    expect(MAX_GROUPS).toBe(24);
  });

  it('lists each metric’s groupable columns', () => {
    expect(groupableColumns(metric('claim_volume'), dict, qualify)).toEqual(['product', 'claim_type', 'status', 'region']);
    expect(groupableColumns(metric('nps_impact'), dict, qualify)).toEqual(['issue_type', 'channel', 'outcome']);
    expect(groupableColumns(metric('claims_by_product'), dict, qualify)).toEqual([]);
    expect(groupableColumns(metric('open_alerts'), dict, qualify)).toEqual([]);
  });

  it('binds values as typed parameters, never as text, and keeps filters in every group', () => {
    const p = plan('csat', 'csat_avg');
    const filter: BoundFilter = { table: 'interactions', column: 'channel', op: 'eq', params: [{ name: 'f0', value: 'chat', type: 'STRING' }] };
    const { sql, params } = composeGrouped(metric('csat_avg').queries.databricks!, [filter], p, 'databricks', qualify);
    expect(params.g0).toEqual({ value: 1, type: 'INT' });
    expect(params.g0_label).toEqual({ value: '1', type: 'STRING' });
    expect(params.g_other_label).toEqual({ value: OTHER_LABEL, type: 'STRING' });
    expect(Object.keys(params)).toHaveLength(11);
    expect(sql.match(/WHERE channel = :f0 AND csat = :g\d\)/g)).toHaveLength(5);
    expect(sql).toContain('WHERE channel = :f0 AND (csat IS NULL OR csat NOT IN (:g0, :g1, :g2, :g3, :g4)))');
    expect(sql).not.toMatch(/'chat'|= 1\b/);
    passes(sql);
  });

  it('passes the safety layer for every groupable column of every Databricks metric', () => {
    for (const m of metrics.filter((x) => x.queries.databricks)) {
      for (const column of groupableColumns(m, dict, qualify)) {
        const { sql } = composeGrouped(m.queries.databricks!, [], plan(column, m.name), 'databricks', qualify);
        expect(sql.length).toBeLessThan(MAX_SQL_LENGTH);
        passes(sql);
      }
    }
  });

  it('shadows the Postgres table under its own name inside each group', () => {
    const { sql } = composeGrouped(metric('nps_impact').queries.postgres!, [], plan('channel', 'nps_impact'), 'postgres', qualify);
    expect(sql).toContain('(SELECT cc_metric.value FROM (\nWITH issue_sessions AS (SELECT * FROM public.issue_sessions WHERE channel = :g0) SELECT COALESCE');
  });

  it('orders groups by value, empty groups after, ties in dictionary order, and the rest last when it holds anything', () => {
    const p = plan('region', 'claim_volume');
    const rows = [
      { label: OTHER_LABEL, value: 9 },
      { label: 'LATAM', value: 3 },
      { label: 'EMEA', value: null },
      { label: 'NA-West', value: 7 },
      { label: 'NA-East', value: 3 },
    ];
    expect(orderGroups(rows, p).map((r) => r.label)).toEqual(['NA-West', 'NA-East', 'LATAM', 'EMEA', OTHER_LABEL]);
    expect(orderGroups([...rows.slice(1), { label: OTHER_LABEL, value: 0 }], p).map((r) => r.label)).not.toContain(OTHER_LABEL);
  });
});

describe('widget presentation', () => {
  const check = (name: string, widget: { visualization: string; group_by?: string | null }) =>
    checkPresentation({ filters: [], ...widget }, metric(name), dict, qualify);

  it('accepts grouped bar, pie and table tiles and line tiles of windowed metrics', () => {
    for (const visualization of ['bar', 'pie', 'table']) expect(check('claim_volume', { visualization, group_by: 'region' })).toEqual([]);
    expect(check('claim_volume', { visualization: 'line' })).toEqual([]);
    expect(check('issue_sessions_active', { visualization: 'bar', group_by: 'channel' })).toEqual([]);
    expect(check('claim_volume', { visualization: 'kpi', group_by: null })).toEqual([]);
  });

  it('refuses what cannot run, pointing at the field', () => {
    expect(check('claim_volume', { visualization: 'kpi', group_by: 'region' })).toEqual([{ pointer: 'body/group_by', message: expect.stringMatching(/kpi/) }]);
    expect(check('claim_volume', { visualization: 'line', group_by: 'region' })).toEqual([{ pointer: 'body/group_by', message: expect.stringMatching(/line/) }]);
    expect(check('claim_volume', { visualization: 'bar', group_by: 'claim_id' })).toEqual([{ pointer: 'body/group_by', message: expect.any(String) }]);
    expect(check('claims_by_product', { visualization: 'bar', group_by: 'region' })).toEqual([{ pointer: 'body/group_by', message: expect.stringMatching(/label/) }]);
    expect(check('issue_sessions_active', { visualization: 'line' })).toEqual([
      { pointer: 'body/visualization', message: expect.stringMatching(/not measured over a time window.*:start and :end/) },
    ]);
  });

  it('refuses a grouping whose statement would need more parameters than Databricks takes', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `C-${i}`);
    const filters = ['claim_id', 'customer_id', 'device_id', 'claim_id', 'customer_id'].map((column) => ({ column, op: 'in' as const, value: ids }));
    expect(checkPresentation({ visualization: 'bar', group_by: 'region', filters }, metric('claim_volume'), dict, qualify)).toEqual([
      { pointer: 'body/group_by', message: expect.stringMatching(/261 parameters, more than the 256/) },
    ]);
    expect(checkPresentation({ visualization: 'bar', group_by: 'region', filters: filters.slice(0, 4) }, metric('claim_volume'), dict, qualify)).toEqual([]);
  });

  it('chooses series for line tiles of single-value windowed metrics only', () => {
    const choose = (name: string, visualization: string, group_by: string | null = null) => presentationFor({ visualization, group_by, filters: [] }, metric(name), dict, qualify).kind;
    expect(choose('claim_volume', 'line')).toBe('series');
    expect(choose('claims_by_product', 'line')).toBe('value');
    expect(choose('issue_sessions_active', 'line')).toBe('value');
    expect(choose('claim_volume', 'kpi')).toBe('value');
    expect(choose('claim_volume', 'bar', 'status')).toBe('grouped');
    expect(() => choose('claim_volume', 'kpi', 'status')).toThrow(/cannot be grouped/);
  });
});
