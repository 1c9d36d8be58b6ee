/**
 * The numbers the analytics report. Four of them are catalog metrics and are read from the live
 * catalog definition, never re-typed here, so the analytics page and the dashboard tile give the
 * same number for the same window and filters (and a catalog edit changes both). The other three
 * have no catalog metric yet and are defined once, below.
 *
 * A catalog query of the simple form `SELECT <expr> AS value FROM <interactions> WHERE <cond>` is
 * "lifted": its expression and condition are grouped by any key in one GROUP BY statement. Any
 * other form (a CTE, a window function) is "composed": its whole query runs once per slice over
 * the filtered rows, as grouped tiles do. Both keep the definition's own text.
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
    return { ...base, plan: liftMetric(sql, interactionsTable) ?? { kind: 'composed', sql } };
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
