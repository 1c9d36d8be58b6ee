/**
 * The numbers the analytics report. Four of them are catalog metrics and are read from the live
 * catalog definition, never re-typed here, so the analytics page and the dashboard tile give the
 * same number for the same window and filters (and a catalog edit changes both). The other three
 * have no catalog metric yet and are defined once, below.
 *
 * A catalog query of the simple form `SELECT <expr> AS value FROM <interactions> WHERE <cond>` is
 * "lifted": its expression and condition are grouped by any key in one GROUP BY statement. One of
 * the form `WITH <rows> AS (SELECT … OVER (…) … FROM <interactions> WHERE <the window>) SELECT
 * <expr> AS value FROM <rows>` is "windowed": its window functions are partitioned by period and
 * key as well, so one sort answers every slice. Any other form is "composed": its whole query
 * runs once per slice over the filtered rows, as grouped tiles do. All keep the definition's own text.
 */
import type { Metric } from '../metrics/index.ts';
import { joinTokens, tokenizeSql } from '../sqlgen/lexer.ts';
import type { SqlToken } from '../sqlgen/lexer.ts';
import { namedParameters } from '../sqlgen/named-params.ts';
import type { Direction } from './change.ts';

export const MEASURE_NAMES = [
  'contacts',
  'avg_handle_time',
  'csat_avg',
  'nps',
  'first_contact_resolution',
  'transfer_rate',
  'repeat_contact_rate',
] as const;
export type MeasureName = (typeof MEASURE_NAMES)[number];

interface OwnDefinition {
  label: string;
  unit: string;
  direction: Direction;
  /** An aggregate over the filtered interactions, and an optional row condition. */
  expr: string;
  where?: string;
}

/** Measures without a catalog metric: defined here and nowhere else. */
const OWN: Partial<Record<MeasureName, OwnDefinition>> = {
  contacts: { label: 'Contacts', unit: 'count', direction: 'neutral', expr: 'COUNT(*)' },
  nps: {
    label: 'Net Promoter Score',
    unit: 'score',
    direction: 'higher_is_better',
    // Promoters (9-10) minus detractors (0-6), as a share of contacts that answered, -100 to 100.
    expr: 'ROUND(100.0 * (count_if(nps >= 9) - count_if(nps <= 6)) / NULLIF(COUNT(*), 0), 1)',
    where: 'nps IS NOT NULL',
  },
  transfer_rate: {
    label: 'Transfer rate',
    unit: 'percent',
    direction: 'lower_is_better',
    expr: 'ROUND(100.0 * count_if(transferred) / NULLIF(COUNT(*), 0), 2)',
  },
};

/** Measures whose definition is the catalog metric of the same name. */
export const CATALOG_MEASURES: readonly MeasureName[] = ['avg_handle_time', 'csat_avg', 'first_contact_resolution', 'repeat_contact_rate'];

export type MeasurePlan =
  | { kind: 'lifted'; expr: string; where: string }
  /** `select` is the row query's select list, its windows already partitioned by `cc_period, cc_key`. */
  | { kind: 'windowed'; select: string; where: string; expr: string }
  | { kind: 'composed'; sql: string }
  | { kind: 'missing'; reason: string };

export interface Measure {
  name: MeasureName;
  label: string;
  unit: string;
  direction: Direction;
  /** `catalog` with the metric's version, or `analytics` for the three defined here. */
  definition: { source: 'catalog'; metric: string; version: number } | { source: 'analytics' };
  plan: MeasurePlan;
}

/** Resolves each measure against the request's catalog snapshot. */
export function resolveMeasures(
  names: readonly MeasureName[],
  metricOf: (name: string) => Metric | undefined,
  interactionsTable: string,
): Measure[] {
  return names.map((name) => {
    const own = OWN[name];
    if (own) {
      return { name, label: own.label, unit: own.unit, direction: own.direction, definition: { source: 'analytics' }, plan: { kind: 'lifted', expr: own.expr, where: own.where ?? 'TRUE' } };
    }
    const metric = metricOf(name);
    if (!metric) {
      return { name, label: name, unit: 'count', direction: 'neutral', definition: { source: 'analytics' }, plan: { kind: 'missing', reason: `The catalog has no active metric ${name}.` } };
    }
    const base = { name, label: metric.display_name, unit: metric.unit, direction: metric.direction as Direction, definition: { source: 'catalog' as const, metric: metric.name, version: metric.version } };
    const sql = metric.queries.databricks;
    if (!sql) return { ...base, plan: { kind: 'missing', reason: `Catalog metric ${name} has no Databricks query.` } };
    const extra = namedParameters(sql, 'databricks').filter((p) => p !== 'start' && p !== 'end');
    if (extra.length > 0) return { ...base, plan: { kind: 'missing', reason: `Catalog metric ${name} takes parameters the analytics cannot bind: ${extra.join(', ')}.` } };
    return { ...base, plan: liftMetric(sql, interactionsTable) ?? windowMetric(sql, interactionsTable) ?? { kind: 'composed', sql } };
  });
}

const significant = (t: SqlToken) => t.kind !== 'space' && t.kind !== 'comment';
const word = (t: SqlToken | undefined, w: string) => t?.kind === 'word' && t.text.toUpperCase() === w;
/** Top-level words that mean the query is more than one aggregate over one table. */
const NOT_LIFTABLE = new Set(['WITH', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'UNION', 'INTERSECT', 'EXCEPT', 'JOIN', 'WINDOW', 'QUALIFY', 'DISTINCT', 'OVER', 'LATERAL']);

/**
 * `SELECT <expr> AS value FROM <interactions> [WHERE <cond>]`, read from the tokens; null when
 * the query has any other shape (then it is composed instead).
 */
export function liftMetric(sql: string, interactionsTable: string): { kind: 'lifted'; expr: string; where: string } | null {
  const tokens = tokenizeSql(sql, 'databricks');
  while (tokens.length > 0 && (!significant(tokens.at(-1)!) || tokens.at(-1)!.text === ';')) tokens.pop();
  let depth = 0;
  const top: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'symbol' && t.text === '(') depth++;
    else if (t.kind === 'symbol' && t.text === ')') depth--;
    else if (depth === 0 && significant(t)) top.push(i);
    if (depth < 0) return null;
  }
  if (depth !== 0) return null;
  if (!word(tokens[top[0]!], 'SELECT')) return null;
  if (top.some((i) => tokens[i]!.kind === 'word' && NOT_LIFTABLE.has(tokens[i]!.text.toUpperCase()))) return null;
  if (top.some((i) => tokens[i]!.kind === 'symbol' && tokens[i]!.text === ',')) return null;
  const from = top.findIndex((i) => word(tokens[i], 'FROM'));
  if (from < 3) return null;
  // … <expr> AS value FROM
  const alias = tokens[top[from - 1]!]!;
  if (!word(tokens[top[from - 2]!], 'AS') || (alias.name ?? alias.text).toLowerCase() !== 'value') return null;
  // FROM catalog . schema . table, then nothing or WHERE …
  const parts = interactionsTable.toLowerCase().split('.');
  const nameAt = (k: number) => {
    const t = tokens[top[k]!];
    return t && (t.kind === 'word' || t.kind === 'quoted') ? (t.name ?? t.text).toLowerCase() : null;
  };
  for (let p = 0; p < parts.length; p++) {
    if (nameAt(from + 1 + 2 * p) !== parts[p]) return null;
    if (p < parts.length - 1 && tokens[top[from + 2 + 2 * p]!]?.text !== '.') return null;
  }
  const after = from + 2 * parts.length;
  const expr = joinTokens(tokens.slice(top[0]! + 1, top[from - 2]!)).trim();
  if (after === top.length) return { kind: 'lifted', expr, where: 'TRUE' };
  if (!word(tokens[top[after]!], 'WHERE')) return null;
  const where = joinTokens(tokens.slice(top[after]! + 1)).trim();
  return expr && where ? { kind: 'lifted', expr, where } : null;
}

const WINDOW_NOT_ALLOWED = new Set([...NOT_LIFTABLE].filter((w) => w !== 'OVER'));
/** The only row condition a windowed definition may have: its own window, which each slice's rows already satisfy. */
const WINDOW_CONDITIONS = new Set(['started_at>=:startandstarted_at<:end', 'started_at<:endandstarted_at>=:start']);

/**
 * `WITH <rows> AS (SELECT <list> FROM <interactions> WHERE started_at >= :start AND started_at < :end)
 * SELECT <expr> AS value FROM <rows>`, where the list may use window functions: its windows are
 * partitioned by `cc_period, cc_key` first, so they see exactly one slice's rows, as the
 * definition run once per slice sees them. Null for any other shape (then it is composed).
 */
export function windowMetric(sql: string, interactionsTable: string): { kind: 'windowed'; select: string; where: string; expr: string } | null {
  const tokens = tokenizeSql(sql, 'databricks').filter((t) => t.kind !== 'comment');
  while (tokens.length > 0 && (tokens.at(-1)!.kind === 'space' || tokens.at(-1)!.text === ';')) tokens.pop();
  const sig = tokens.map((t, i) => [t, i] as const).filter(([t]) => significant(t));
  // Names this rewrite adds must not be the definition's, and subqueries would read unfiltered rows.
  if (sig.some(([t]) => t.kind === 'word' && ['CC_PERIOD', 'CC_KEY'].includes(t.text.toUpperCase()))) return null;
  if (sig.filter(([t]) => word(t, 'SELECT')).length !== 2) return null;
  if (!word(sig[0]?.[0], 'WITH') || !word(sig[2]?.[0], 'AS') || sig[3]?.[0].text !== '(') return null;
  const name = sig[1]![0];
  if (name.kind !== 'word') return null;
  // The row query: from its `(` to the matching `)`.
  let depth = 0;
  let close = -1;
  for (let k = 3; k < sig.length; k++) {
    const text = sig[k]![0].text;
    if (text === '(') depth++;
    else if (text === ')' && --depth === 0) {
      close = k;
      break;
    }
  }
  if (close < 0) return null;
  const inner = tokens.slice(sig[3]![1] + 1, sig[close]![1]);
  const outer = joinTokens(tokens.slice(sig[close]![1] + 1)).trim();
  // The outer query is one aggregate over the rows: the lifted shape, with the rows for the table.
  const rows = liftMetric(outer, name.text);
  if (!rows || rows.where !== 'TRUE') return null;
  if (tokenizeSql(rows.expr, 'databricks').some((t) => t.kind === 'word' && t.text.toLowerCase() === name.text.toLowerCase())) return null;

  // SELECT <list> FROM <interactions> WHERE <the window>, nothing else at its top level.
  const innerSig = inner.map((t, i) => [t, i] as const).filter(([t]) => significant(t));
  if (!word(innerSig[0]?.[0], 'SELECT')) return null;
  let d = 0;
  let from = -1;
  for (let k = 0; k < innerSig.length; k++) {
    const t = innerSig[k]![0];
    if (t.text === '(') d++;
    else if (t.text === ')') d--;
    else if (d === 0 && t.kind === 'word' && WINDOW_NOT_ALLOWED.has(t.text.toUpperCase())) return null;
    else if (d === 0 && t.text === '*') return null;
    else if (d === 0 && word(t, 'FROM') && from < 0) from = k;
  }
  if (from < 2) return null;
  const parts = interactionsTable.toLowerCase().split('.');
  const nameAt = (k: number) => {
    const t = innerSig[k]?.[0];
    return t && (t.kind === 'word' || t.kind === 'quoted') ? (t.name ?? t.text).toLowerCase() : null;
  };
  for (let p = 0; p < parts.length; p++) {
    if (nameAt(from + 1 + 2 * p) !== parts[p]) return null;
    if (p < parts.length - 1 && innerSig[from + 2 + 2 * p]?.[0].text !== '.') return null;
  }
  const whereAt = from + 2 * parts.length;
  if (!word(innerSig[whereAt]?.[0], 'WHERE')) return null;
  const where = joinTokens(inner.slice(innerSig[whereAt]![1] + 1)).trim();
  if (!WINDOW_CONDITIONS.has(where.replace(/\s+/g, '').toLowerCase())) return null;

  // Every window partitioned by slice as well. The slice goes last: the definition's own keys
  // (a customer) tell rows apart sooner in the sort than the period and group do.
  const list = inner.slice(innerSig[0]![1] + 1, innerSig[from]![1]).map((t) => ({ ...t }));
  const listSig = list.filter(significant);
  for (let k = 0; k < listSig.length; k++) {
    if (!word(listSig[k], 'OVER')) continue;
    const open = listSig[k + 1];
    if (open?.text !== '(') return null;
    if (!(word(listSig[k + 2], 'PARTITION') && word(listSig[k + 3], 'BY'))) {
      open.text = '(PARTITION BY cc_period, cc_key ';
      continue;
    }
    // The partition list ends at ORDER, ROWS, RANGE or the window's `)`, at the window's depth.
    let depth = 0;
    let last = -1;
    for (let j = k + 4; j < listSig.length; j++) {
      const t = listSig[j]!;
      if (t.text === '(') depth++;
      else if (t.text === ')' && depth-- === 0) break;
      else if (depth === 0 && t.kind === 'word' && ['ORDER', 'ROWS', 'RANGE', 'GROUPS'].includes(t.text.toUpperCase())) break;
      last = j;
    }
    if (last < 0) return null;
    listSig[last]!.text = `${listSig[last]!.text}, cc_period, cc_key`;
  }
  const select = joinTokens(list).trim();
  return select ? { kind: 'windowed', select, where, expr: rows.expr } : null;
}

/** Aggregates that skip NULL inputs, so `f(CASE WHEN <cond> THEN x END)` is `f(x)` over the rows meeting cond. */
const MASKABLE_AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'COUNT_IF']);
/** Scalar functions and keywords that may stand before `(` in an expression being masked. */
const SCALAR_CALLS = new Set(['ROUND', 'NULLIF', 'COALESCE', 'ABS', 'FLOOR', 'CEIL', 'CEILING', 'GREATEST', 'LEAST', 'CAST', 'TRY_DIVIDE', 'AND', 'OR', 'NOT', 'WHEN', 'THEN', 'ELSE', 'IN']);

/**
 * A lifted measure's aggregate expression restricted to the rows meeting its condition, so several
 * measures with different conditions share one GROUP BY pass: each aggregate's input is masked by
 * the condition (COUNT(*) counts the rows meeting it), and a group with no such row has no value,
 * as a GROUP BY over just those rows has no group. The safety layer's grammar takes CASE inside
 * every aggregate, where it takes FILTER (WHERE …) on some only (not on count_if). Null when the
 * expression calls anything not known to be safe to mask; that measure then keeps its own pass.
 */
export function maskAggregates(expr: string, where: string): string | null {
  if (where.replace(/\s+/g, '').toUpperCase() === 'TRUE') return expr;
  const tokens = tokenizeSql(expr, 'databricks').filter((t) => t.kind !== 'comment');
  const cond = `CASE WHEN (${where}) THEN`;
  if (tokens.some((t) => t.kind === 'word' && ['OVER', 'FILTER', 'SELECT', 'WITHIN'].includes(t.text.toUpperCase()))) return null;
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let j = i + 1;
    while (tokens[j]?.kind === 'space') j++;
    if (t.kind !== 'word' || tokens[j]?.text !== '(') {
      out.push(t.text);
      continue;
    }
    const fn = t.text.toUpperCase();
    if (SCALAR_CALLS.has(fn)) {
      out.push(t.text);
      continue;
    }
    if (!MASKABLE_AGGREGATES.has(fn)) return null;
    // The single argument, to the matching `)`.
    let depth = 0;
    let end = -1;
    for (let k = j; k < tokens.length; k++) {
      if (tokens[k]!.text === '(') depth++;
      else if (tokens[k]!.text === ')' && --depth === 0) {
        end = k;
        break;
      }
      else if (depth === 1 && tokens[k]!.text === ',') return null;
      else if (tokens[k]!.kind === 'word' && MASKABLE_AGGREGATES.has(tokens[k]!.text.toUpperCase())) return null;
    }
    if (end < 0) return null;
    const arg = tokens.slice(j + 1, end);
    const argSig = arg.filter(significant);
    if (argSig.length === 0) return null;
    const distinct = word(argSig[0], 'DISTINCT');
    const value = distinct ? joinTokens(arg.slice(arg.indexOf(argSig[0]!) + 1)).trim() : joinTokens(arg).trim();
    if (value === '' || (distinct && value === '*')) return null;
    out.push(`${t.text}(${distinct ? 'DISTINCT ' : ''}${cond} ${value === '*' ? '1' : value} END)`);
    i = end;
  }
  return `CASE WHEN COUNT(${cond} 1 END) > 0 THEN ${out.join('')} END`;
}
