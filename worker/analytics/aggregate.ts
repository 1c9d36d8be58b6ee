/**
 * One question shape behind the summary, trends, breakdowns and the leaderboard: measures over the
 * filtered contacts, split by a key (nothing, a time bucket, a column, a customer or agent
 * attribute) and by period (current and compared window). Lifted measures answer in one GROUP BY
 * statement; composed measures run their catalog query per slice (UNION ALL), in as many
 * statements as the SQL length and parameter limits require, all at once.
 */
import { applyFilters, DATABRICKS_MAX_PARAMETERS, sliceRow, unionAll } from '../metrics/compose/filters-cte.ts';
import type { TypedValue } from '../services/statements.ts';
import { renameParameters } from '../sqlgen/named-params.ts';
import { MAX_SQL_LENGTH } from '../sqlgen/safety.ts';
import { filterPredicate } from './filters.ts';
import type { CallFilters } from './filters.ts';
import { maskAggregates } from './measures.ts';
import type { Measure } from './measures.ts';
import type { Window } from './period.ts';
import type { Run } from './run.ts';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export type KeySpec =
  | { kind: 'all' }
  /** A column of interactions itself. */
  | { kind: 'column'; column: 'channel' | 'issue_type' | 'agent_id'; values?: readonly string[] }
  /** An attribute of the contact's customer or agent. */
  | { kind: 'lookup'; table: 'customers' | 'agents'; via: 'customer_id' | 'agent_id'; column: 'region' | 'team'; values: readonly string[] }
  | { kind: 'bucket'; granularity: Granularity };

export type PeriodName = 'current' | 'previous';

export interface Windows {
  current: Window;
  previous?: Window;
}

export interface AggregateRow {
  period: PeriodName;
  /** The group's value; a bucket's ISO start; `(none)` where the attribute is missing. */
  key: string;
  values: Record<string, number | null>;
}

export const NONE_KEY = '(none)';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Calendar buckets (UTC; weeks from Monday) clipped to the window, as date_trunc cuts them. */
export function bucketsOf(window: Window, granularity: Granularity): Window[] {
  const truncate = (t: number): number => {
    const d = new Date(t);
    switch (granularity) {
      case 'hour':
        return Math.floor(t / HOUR) * HOUR;
      case 'day':
        return Math.floor(t / DAY) * DAY;
      case 'week': {
        const day = Math.floor(t / DAY) * DAY;
        return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
      }
      case 'month':
        return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  };
  const next = (t: number): number => {
    if (granularity === 'hour') return t + HOUR;
    if (granularity === 'day') return t + DAY;
    if (granularity === 'week') return t + 7 * DAY;
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  };
  const out: Window[] = [];
  for (let at = truncate(window.start.getTime()); at < window.end.getTime(); at = next(at)) {
    out.push({ start: new Date(Math.max(at, window.start.getTime())), end: new Date(Math.min(next(at), window.end.getTime())) });
  }
  return out;
}

const UNIT: Record<Granularity, string> = { hour: 'HOUR', day: 'DAY', week: 'WEEK', month: 'MONTH' };

function keyExpression(key: KeySpec, qualify: (t: string) => string): { expr: string; join: string } {
  switch (key.kind) {
    case 'all':
      return { expr: `'all'`, join: '' };
    case 'column':
      return { expr: `COALESCE(f.${key.column}, '${NONE_KEY}')`, join: '' };
    case 'lookup':
      return { expr: `COALESCE(cc_j.${key.column}, '${NONE_KEY}')`, join: ` LEFT JOIN ${qualify(key.table)} cc_j ON cc_j.${key.via} = f.${key.via}` };
    case 'bucket':
      // Buckets start on the window's start when it falls inside one; labels say so (see bucketKey).
      return { expr: `date_trunc('${UNIT[key.granularity]}', f.started_at)`, join: '' };
  }
}

/** A bucket key as the label of its clipped bucket: its ISO start, or the window's start. */
function bucketKey(value: unknown, windows: Windows, period: PeriodName): string {
  const at = new Date(String(value));
  const window = period === 'current' ? windows.current : windows.previous!;
  return new Date(Math.max(at.getTime(), window.start.getTime())).toISOString();
}

/**
 * The lifted and windowed measures in one statement over the same keyed rows. Lifted measures
 * share one GROUP BY pass, each aggregate masked by its measure's condition; a lifted measure
 * whose expression cannot be masked keeps a GROUP BY of its own. Each windowed measure sorts the
 * rows once, partitioned by period and key, and groups the result.
 */
function liftedStatement(
  measures: readonly Measure[],
  filters: CallFilters,
  windows: Windows,
  key: KeySpec,
  qualify: (t: string) => string,
): { sql: string; params: Record<string, TypedValue> } {
  const spans = windows.previous ? [windows.current, windows.previous] : [windows.current];
  const predicate = filterPredicate(filters, spans, qualify);
  const { expr, join } = keyExpression(key, qualify);
  const params: Record<string, TypedValue> = {
    ...predicate.params,
    // The metric's own window covers both periods; the base rows are already limited to them.
    start: { value: new Date(Math.min(...spans.map((s) => s.start.getTime()))), type: 'TIMESTAMP' },
    end: { value: new Date(Math.max(...spans.map((s) => s.end.getTime()))), type: 'TIMESTAMP' },
  };
  // The period as 0 (current) or 1 (previous): a number sorts faster than a string where a window is partitioned by it.
  const period = windows.previous ? `CASE WHEN f.started_at >= :w0_start AND f.started_at < :w0_end THEN 0 ELSE 1 END` : `0`;
  const ctes = [
    `cc_filtered_interactions AS (SELECT * FROM ${qualify('interactions')} WHERE ${predicate.where})`,
    `cc_keyed AS (SELECT f.*, ${period} AS cc_period, ${expr} AS cc_key FROM cc_filtered_interactions f${join})`,
  ];
  const shared: string[] = [];
  const columns: string[] = [];
  const joins: string[] = [];
  measures.forEach((m, i) => {
    const plan = m.plan;
    const masked = plan.kind === 'lifted' ? maskAggregates(plan.expr, plan.where) : null;
    if (masked !== null) {
      shared.push(`, ${masked} AS m${i}`);
      columns.push(`k.m${i} AS m${i}`);
      return;
    }
    if (plan.kind === 'lifted') {
      ctes.push(`cc_m${i} AS (SELECT cc_period, cc_key, ${plan.expr} AS value FROM cc_keyed WHERE ${plan.where} GROUP BY cc_period, cc_key)`);
    } else if (plan.kind === 'windowed') {
      ctes.push(`cc_w${i} AS (SELECT cc_period, cc_key, ${plan.select} FROM cc_keyed WHERE ${plan.where})`);
      ctes.push(`cc_m${i} AS (SELECT cc_period, cc_key, ${plan.expr} AS value FROM cc_w${i} GROUP BY cc_period, cc_key)`);
    } else throw new Error(`${m.name} is not answered in the shared statement`);
    columns.push(`cc_m${i}.value AS m${i}`);
    joins.push(`LEFT JOIN cc_m${i} ON cc_m${i}.cc_period = k.cc_period AND cc_m${i}.cc_key = k.cc_key`);
  });
  ctes.push(`cc_groups AS (SELECT cc_period, cc_key${shared.join('')} FROM cc_keyed GROUP BY cc_period, cc_key)`);
  const sql =
    `WITH ${ctes.join(',\n')}\n` +
    `SELECT k.cc_period AS period, k.cc_key AS cc_key${columns.map((c) => `, ${c}`).join('')}\n` +
    `FROM cc_groups k${joins.map((j) => `\n${j}`).join('')}`;
  return { sql, params };
}

interface Slice {
  period: PeriodName;
  key: string;
  window: Window;
  /** A condition on interactions for this slice's group, with its parameters. */
  narrowing?: { where: string; params: Record<string, TypedValue> };
}

/** The slices a composed measure runs once each: per period, per group value or time bucket. */
function slicesOf(key: KeySpec, windows: Windows, qualify: (t: string) => string): Slice[] {
  const periods: Array<[PeriodName, Window]> = [['current', windows.current]];
  if (windows.previous) periods.push(['previous', windows.previous]);
  const out: Slice[] = [];
  for (const [period, window] of periods) {
    if (key.kind === 'all') out.push({ period, key: 'all', window });
    else if (key.kind === 'bucket') for (const b of bucketsOf(window, key.granularity)) out.push({ period, key: b.start.toISOString(), window: b });
    else if (key.kind === 'column') {
      (key.values ?? []).forEach((v, i) => out.push({ period, key: v, window, narrowing: { where: `${key.column} = :k${i}`, params: { [`k${i}`]: { value: v, type: 'STRING' } } } }));
    } else {
      key.values.forEach((v, i) =>
        out.push({
          period,
          key: v,
          window,
          narrowing: { where: `${key.via} IN (SELECT ${key.via} FROM ${qualify(key.table)} WHERE ${key.column} = :k${i})`, params: { [`k${i}`]: { value: v, type: 'STRING' } } },
        }),
      );
    }
  }
  return out;
}

// Room for the LIMIT the safety layer appends.
const SQL_BUDGET = MAX_SQL_LENGTH - 64;

/** One composed measure over its slices, packed into as few statements as fit the limits. */
function composedStatements(
  measure: Measure,
  sql: string,
  filters: CallFilters,
  slices: readonly Slice[],
  qualify: (t: string) => string,
): Array<{ sql: string; params: Record<string, TypedValue>; labels: Map<string, Slice> }> {
  const base = filterPredicate(filters, [], qualify);
  const statements: Array<{ sql: string; params: Record<string, TypedValue>; labels: Map<string, Slice> }> = [];
  let rows: string[] = [];
  let params: Record<string, TypedValue> = {};
  let labels = new Map<string, Slice>();
  let length = 0;
  const flush = () => {
    if (rows.length > 0) statements.push({ sql: unionAll(rows), params, labels });
    rows = [];
    params = {};
    labels = new Map();
    length = 0;
  };
  slices.forEach((slice, n) => {
    const s = `s${n}`;
    const narrowings = [{ table: 'interactions', where: base.where }];
    if (slice.narrowing) narrowings.push({ table: 'interactions', where: slice.narrowing.where });
    const text = sliceRow(`${s}_label`, applyFilters(renameParameters(sql, { start: `${s}_start`, end: `${s}_end` }, 'databricks'), narrowings, 'databricks', qualify), 'databricks');
    const own: Record<string, TypedValue> = {
      ...base.params,
      ...(slice.narrowing?.params ?? {}),
      [`${s}_start`]: { value: slice.window.start, type: 'TIMESTAMP' },
      [`${s}_end`]: { value: slice.window.end, type: 'TIMESTAMP' },
      [`${s}_label`]: { value: s, type: 'STRING' },
    };
    const count = Object.keys({ ...params, ...own }).length;
    if (rows.length > 0 && (length + text.length + 12 > SQL_BUDGET || count > DATABRICKS_MAX_PARAMETERS)) flush();
    rows.push(text);
    Object.assign(params, own);
    labels.set(s, slice);
    length += text.length + 12;
  });
  flush();
  if (statements.some((st) => st.sql.length > SQL_BUDGET)) {
    throw new Error(`${measure.name}'s catalog query is too long to compose per slice`);
  }
  return statements;
}

/** Most slices a composed measure may be asked for in one request (each repeats its query). */
export const MAX_COMPOSED_SLICES = 400;

export function composedSliceCount(measures: readonly Measure[], key: KeySpec, windows: Windows): number {
  const composed = measures.filter((m) => m.plan.kind === 'composed').length;
  if (composed === 0) return 0;
  return composed * slicesOf(key, windows, (t) => t).length;
}

/**
 * The groups a per-slice measure has a value for: every period and bucket, but of a column or
 * attribute only the dictionary's values (the `(none)` group is no slice of its own).
 */
function hasSlice(key: KeySpec, k: string): boolean {
  if (key.kind === 'all' || key.kind === 'bucket') return true;
  return (key.values ?? []).includes(k);
}

/**
 * Every measure split by key and period. Rows come back for each (period, key) that has contacts;
 * windowed and composed measures fill in their value where their slice matches one.
 */
export async function aggregate(
  run: Run,
  measures: readonly Measure[],
  filters: CallFilters,
  windows: Windows,
  key: KeySpec,
): Promise<AggregateRow[]> {
  const lifted = measures.filter((m) => m.plan.kind === 'lifted');
  const shared = measures.filter((m) => m.plan.kind === 'lifted' || m.plan.kind === 'windowed');
  const composed = measures.filter((m) => m.plan.kind === 'composed');
  const sharedRun = shared.length > 0 ? run.statement(liftedStatement(shared, filters, windows, key, run.qualify)) : Promise.resolve({ rows: [] });
  const slices = slicesOf(key, windows, run.qualify);
  const composedRuns = composed.map((m) =>
    Promise.all(
      composedStatements(m, (m.plan as { sql: string }).sql, filters, slices, run.qualify).map(async (st) => {
        const answer = await run.statement(st);
        return answer.rows.map((r) => ({ slice: st.labels.get(String(r.label))!, value: numberOrNull(r.value) }));
      }),
    ).then((parts) => parts.flat()),
  );
  const [sharedAnswer, ...composedAnswers] = await Promise.all([sharedRun, ...composedRuns]);

  const rows = new Map<string, AggregateRow>();
  const rowFor = (period: PeriodName, k: string) => {
    const id = `${period}\u0000${k}`;
    let row = rows.get(id);
    if (!row) {
      row = { period, key: k, values: Object.fromEntries(measures.map((m) => [m.name, null])) };
      rows.set(id, row);
    }
    return row;
  };
  // A per-slice value alone does not make a group appear: groups are those with contacts.
  const fill = (period: PeriodName, k: string, name: string, value: number | null) => {
    const row = rows.get(`${period}\u0000${k}`) ?? (lifted.length === 0 && value !== null ? rowFor(period, k) : undefined);
    if (row) row.values[name] = value;
  };
  for (const r of sharedAnswer.rows) {
    const period = Number(r.period) === 1 ? 'previous' : 'current';
    const k = key.kind === 'bucket' ? bucketKey(r.cc_key, windows, period) : String(r.cc_key);
    if (lifted.length > 0) rowFor(period, k);
    shared.forEach((m, i) => {
      const value = numberOrNull(r[`m${i}`]);
      if (m.plan.kind === 'lifted') rows.get(`${period}\u0000${k}`)!.values[m.name] = value;
      else if (hasSlice(key, k)) fill(period, k, m.name, value);
    });
  }
  composed.forEach((m, i) => {
    for (const { slice, value } of composedAnswers[i]!) fill(slice.period, slice.key, m.name, value);
  });
  return [...rows.values()];
}

function numberOrNull(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}
