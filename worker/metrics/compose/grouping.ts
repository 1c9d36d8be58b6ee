import type { Metric } from '../catalog/store.ts';
import type { DataDictionary } from '../../dictionary/load.ts';
import { applyFilters, shadowsTable, sliceRow, unionAll } from './filters-cte.ts';
import type { Narrowing } from './filters-cte.ts';
import type { TypedValue } from '../../services/statements.ts';
import type { BoundFilter } from './filters.ts';
import { metricShape } from './shape.ts';

/** More groups than this is not a chart, and each group repeats the metric's query once. */
export const MAX_GROUPS = 24;

const NUMERIC_KINDS = new Set(['TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'DOUBLE', 'FLOAT', 'DECIMAL']);

/** How one metric splits by one column: which tables are narrowed, and to which values. */
export interface GroupPlan {
  column: string;
  /** Lineage tables that have the column; each is narrowed to the group's value. */
  tables: string[];
  /** The column's allowed values, in dictionary order: one group each. */
  values: string[];
  /** Dictionary type of the column, for binding the values. */
  kind: string;
}

type Source = 'postgres' | 'databricks';

/**
 * A group_by column must be a dictionary column of the metric's lineage tables with a listed,
 * bounded set of values, and the metric must return one value that the query computes from a
 * table it names (so narrowing that table changes the number). Answers the plan or why not.
 */
export function groupPlan(
  column: string,
  metric: Pick<Metric, 'name' | 'lineage' | 'queries'>,
  dictionary: DataDictionary,
  qualify: (table: string) => string,
): { plan: GroupPlan } | { problem: string } {
  const tables = metric.lineage.tables;
  const found = tables.flatMap((t) => {
    const c = dictionary.column(t, column);
    return c ? [{ table: t, column: c }] : [];
  });
  if (found.length === 0) {
    const elsewhere = dictionary.columns.some((c) => c.name.toLowerCase() === column.toLowerCase());
    return {
      problem: elsewhere
        ? `${column} is not a column of ${tables.join(', ') || 'any table'} (the tables ${metric.name} reads)`
        : `${column} is not a column in the data dictionary`,
    };
  }
  const first = found[0]!.column;
  if (first.allowedValues.length === 0) {
    return { problem: `${first.table}.${first.name} has no listed set of values in the data dictionary, so it cannot split ${metric.name} into groups` };
  }
  if (first.allowedValues.length > MAX_GROUPS) {
    return { problem: `${first.table}.${first.name} has ${first.allowedValues.length} values; group_by takes columns with at most ${MAX_GROUPS}` };
  }
  const shape = metricShape(metric);
  if (shape.output === 'labelled') {
    return { problem: `${metric.name} already returns one row per label; group_by applies to metrics that return a single value` };
  }
  if (shape.output === 'unknown') {
    return { problem: `the output columns of ${metric.name}'s query cannot be read, so it cannot be split into groups` };
  }
  const narrowed = found.map((f) => f.table);
  for (const source of ['postgres', 'databricks'] as const) {
    const sql = metric.queries[source];
    if (sql && !narrowed.some((t) => shadowsTable(sql, t, source, qualify))) {
      return { problem: `${metric.name}'s ${source} query does not read ${narrowed.join(' or ')} by name, so grouping by ${column} would not change its value` };
    }
  }
  return { plan: { column: first.name, tables: narrowed, values: [...first.allowedValues], kind: first.type.kind } };
}

function typed(value: string, kind: string): string | number | boolean {
  if (NUMERIC_KINDS.has(kind)) return Number(value);
  if (kind === 'BOOLEAN') return value.toLowerCase() === 'true';
  return value;
}

/** Label of the row for rows whose value is not one the dictionary lists (or is null). */
export const OTHER_LABEL = '(other)';

/**
 * The grouped question as one statement: per allowed value, the metric's query with the grouped
 * tables narrowed to that value (by the same CTE shadowing filters use, together with them), as
 * one `label, value` row. Values and labels are bound parameters (`:g0`, `:g0_label` …). A last
 * row covers whatever the listed values miss, so the groups partition the rows: data that
 * strays from the dictionary still counts, and an additive metric's groups add up to its total.
 */
export function composeGrouped(
  sql: string,
  filters: readonly BoundFilter[],
  plan: GroupPlan,
  source: Source,
  qualify: (table: string) => string,
): { sql: string; params: Record<string, TypedValue> } {
  const params: Record<string, TypedValue> = {};
  const names = plan.values.map((_, i) => `g${i}`);
  const rows = plan.values.map((value, i) => {
    const name = names[i]!;
    params[name] = { value: typed(value, plan.kind), type: plan.kind };
    params[`${name}_label`] = { value, type: 'STRING' };
    const narrowing: Narrowing[] = plan.tables.map((table) => ({ table, where: `${plan.column} = :${name}` }));
    return sliceRow(`${name}_label`, applyFilters(sql, [...filters, ...narrowing], source, qualify), source);
  });
  params.g_other_label = { value: OTHER_LABEL, type: 'STRING' };
  const rest = `(${plan.column} IS NULL OR ${plan.column} NOT IN (${names.map((n) => `:${n}`).join(', ')}))`;
  const other: Narrowing[] = plan.tables.map((table) => ({ table, where: rest }));
  rows.push(sliceRow('g_other_label', applyFilters(sql, [...filters, ...other], source, qualify), source));
  return { sql: unionAll(rows), params };
}

/**
 * Largest value first, the way the catalog's own breakdowns order; groups without a value
 * (an average over no rows) after them; ties keep the dictionary's order. The `(other)` row
 * comes last, and only when it holds something: usually every row has a listed value.
 */
export function orderGroups(rows: Record<string, unknown>[], plan: GroupPlan): Record<string, unknown>[] {
  const rank = new Map(plan.values.map((v, i) => [v, i]));
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const listed = rows.filter((r) => rank.has(String(r.label)));
  const other = rows.filter((r) => !rank.has(String(r.label)) && num(r.value) !== null && num(r.value) !== 0);
  listed.sort((a, b) => {
    const [x, y] = [num(a.value), num(b.value)];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return y - x;
    }
    return rank.get(String(a.label))! - rank.get(String(b.label))!;
  });
  return [...listed, ...other];
}

/** Columns a metric can be grouped by, for clients building a group_by picker. */
export function groupableColumns(metric: Pick<Metric, 'name' | 'lineage' | 'queries'>, dictionary: DataDictionary, qualify: (table: string) => string): string[] {
  const names = new Set<string>();
  for (const table of metric.lineage.tables) {
    for (const c of dictionary.table(table)?.columns ?? []) {
      if (!names.has(c.name) && c.allowedValues.length > 0 && 'plan' in groupPlan(c.name, metric, dictionary, qualify)) names.add(c.name);
    }
  }
  return [...names];
}
