import type { Metric } from '../metrics/catalog/store.ts';
import type { Filter } from '../metrics/compose/filters.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import { WINDOW_LABELS, defaultTitle, missingFields } from './spec.ts';
import type { Draft, RequiredField, Visualization, WindowPreset } from './spec.ts';

/**
 * The offline clarifier (BUILDER_MODE=offline): a deterministic keyword matcher over the catalog.
 * It reads every user message in order, later messages overriding earlier ones, and takes from
 * them what it can be sure of — a catalog metric (by name, display name or a synonym), a window
 * preset, a chart type, and filters whose values the dictionary lists. Whatever it cannot infer,
 * it asks for, one thing at a time. Same conversation in, same answer out.
 */

/** Other ways people name catalog metrics; used only for metrics the live catalog has. */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  nps_impact: ['nps', 'net promoter'],
  issue_sessions_active: ['active sessions', 'open sessions', 'sessions in progress'],
  claim_volume: ['claims', 'claim count', 'number of claims', 'claims filed'],
  claim_status_mix: ['claim status', 'claims by status', 'status mix'],
  cost_avoided_mtd: ['cost avoided', 'savings', 'avoided cost'],
  avg_handle_time: ['aht', 'handle time', 'handling time'],
  first_contact_resolution: ['fcr', 'first contact'],
  csat_avg: ['csat', 'satisfaction', 'customer satisfaction'],
  repeat_contact_rate: ['repeat contacts', 'recontact'],
  sla_breach_rate: ['sla', 'sla breaches', 'breach rate'],
  open_alerts: ['alerts'],
  agent_utilization: ['utilization', 'utilisation', 'agent occupancy'],
};

/** Words that carry no meaning for matching a metric. */
const STOP_WORDS = new Set(['a', 'an', 'the', 'by', 'per', 'of', 'to', 'for', 'in', 'on', 'as', 'and', 'with', 'me', 'show', 'avg', 'average', 'rate', 'total']);

/** Lower case, punctuation to spaces, a trailing plural `s` dropped: "Claims" and "claim" match. */
function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((t) => t !== '')
    .map((t) => (t.length > 3 && t.endsWith('s') && !t.endsWith('ss') ? t.slice(0, -1) : t));
}

function contentTokens(text: string): string[] {
  return [...new Set(tokens(text).filter((t) => !STOP_WORDS.has(t)))];
}

function phrasesOf(metric: Metric): string[] {
  return [metric.name.replaceAll('_', ' '), metric.display_name, ...(SYNONYMS[metric.name] ?? [])];
}

/**
 * A metric matches when every meaningful word of one of its phrases occurs in the text; the
 * phrase with the most such words scores. The most specific match wins; a tie is ambiguous.
 */
export function matchMetric(text: string, catalog: readonly Metric[]): { metric: Metric } | { ambiguous: Metric[] } | null {
  const words = new Set(tokens(text));
  let best = 0;
  let winners: Metric[] = [];
  for (const metric of catalog) {
    let score = 0;
    for (const phrase of phrasesOf(metric)) {
      const needed = contentTokens(phrase);
      if (needed.length > 0 && needed.every((t) => words.has(t))) score = Math.max(score, needed.length);
    }
    if (score === 0) continue;
    if (score > best) {
      best = score;
      winners = [metric];
    } else if (score === best) {
      winners.push(metric);
    }
  }
  if (winners.length === 0) return null;
  return winners.length === 1 ? { metric: winners[0]! } : { ambiguous: winners };
}

const NUMBER_WORDS: Readonly<Record<string, number>> = { a: 1, an: 1, one: 1, two: 2, three: 3, seven: 7, thirty: 30, ninety: 90 };
const UNIT_HOURS: ReadonlyArray<[RegExp, number]> = [
  [/^(h|hr|hrs|hour|hours)$/, 1],
  [/^(d|day|days)$/, 24],
  [/^(w|wk|wks|week|weeks)$/, 24 * 7],
  [/^(mo|month|months)$/, 24 * 30],
  [/^(quarter|quarters)$/, 24 * 90],
];
const PRESET_BY_HOURS: ReadonlyMap<number, WindowPreset> = new Map([
  [1, '1h'],
  [24, '24h'],
  [24 * 7, '7d'],
  [24 * 30, '30d'],
  [24 * 28, '30d'],
  [24 * 90, '90d'],
  [24 * 91, '90d'],
]);

/** A window preset, `unsupported` when a window is named that no preset matches, or null. */
export function matchWindow(text: string): WindowPreset | 'unsupported' | null {
  const lower = text.toLowerCase();
  if (/\b(month[- ]to[- ]date|mtd|this month)\b/.test(lower)) return 'mtd';
  if (/\btoday\b/.test(lower)) return '24h';
  // Digits may touch their unit ("7d"); a number word needs a space, or "and" would read as "a d".
  const counted = /\b(?:(\d{1,3})\s*-?\s*|(an?|one|two|three|seven|thirty|ninety)\s+)(h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|months?|quarters?)\b/.exec(lower);
  const bare = /\b(?:last|past|previous)\s+(hour|day|week|month|quarter)\b/.exec(lower);
  let hours: number | null = null;
  if (counted) {
    const n = counted[1] !== undefined ? Number(counted[1]) : (NUMBER_WORDS[counted[2]!] ?? Number.NaN);
    const unit = UNIT_HOURS.find(([re]) => re.test(counted[3]!))?.[1];
    if (unit !== undefined && Number.isFinite(n)) hours = n * unit;
  } else if (bare) {
    hours = UNIT_HOURS.find(([re]) => re.test(bare[1]!))?.[1] ?? null;
  }
  if (hours === null) return null;
  return PRESET_BY_HOURS.get(hours) ?? 'unsupported';
}

const CHARTS: ReadonlyArray<[Visualization, RegExp]> = [
  ['bar', /\b(bars?|bar chart|column chart|histogram)\b/],
  ['line', /\b(lines?|line chart|trend|trends|over time|time series)\b/],
  ['pie', /\b(pie|donut|doughnut)\b/],
  ['table', /\b(table|tabular)\b/],
  ['kpi', /\b(kpi|single (number|value)|big number|scorecard|number tile)\b/],
];

/** The chart named first in the text. */
export function matchVisualization(text: string): Visualization | null {
  const lower = text.toLowerCase();
  let found: { kind: Visualization; at: number } | null = null;
  for (const [kind, re] of CHARTS) {
    const m = re.exec(lower);
    if (m && (found === null || m.index < found.at)) found = { kind, at: m.index };
  }
  return found?.kind ?? null;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Filters from values the dictionary lists for the metric's text columns ("EMEA", "Device Care").
 * Short values are skipped: too many ordinary words would match them.
 */
export function matchFilters(text: string, metric: Metric, dictionary: DataDictionary): Filter[] {
  const byColumn = new Map<string, string[]>();
  for (const table of metric.lineage.tables) {
    for (const column of dictionary.table(table)?.columns ?? []) {
      if (column.type.kind !== 'STRING') continue;
      for (const value of column.allowedValues) {
        if (value.length < 3) continue;
        if (!new RegExp(`(?<![a-z0-9])${escapeRegex(value)}(?![a-z0-9])`, 'i').test(text)) continue;
        const values = byColumn.get(column.name) ?? [];
        if (!values.includes(value)) values.push(value);
        byColumn.set(column.name, values);
      }
    }
  }
  return [...byColumn].map(([column, values]) => (values.length === 1 ? { column, op: 'eq', value: values[0]! } : { column, op: 'in', value: values }));
}

export interface OfflineTurn {
  draft: Draft;
  reply: string;
  missing: RequiredField[];
}

const PRESET_LIST = 'last hour, last 24 hours, last 7 days, last 30 days, last 90 days or month to date';

function listMetrics(metrics: readonly Metric[], max = 8): string {
  const shown = metrics.slice(0, max).map((m) => `${m.display_name} (${m.name})`);
  return metrics.length > max ? `${shown.join(', ')}, …` : shown.join(', ');
}

function describeFilters(filters: readonly Filter[]): string {
  if (filters.length === 0) return '';
  const parts = filters.map((f) => `${f.column} ${f.op === 'in' ? 'in' : f.op === 'eq' ? '=' : '≠'} ${Array.isArray(f.value) ? f.value.join(', ') : String(f.value)}`);
  return `, filtered to ${parts.join('; ')}`;
}

/** One offline turn over the whole transcript's user messages. */
export function offlineTurn(userMessages: readonly string[], catalog: readonly Metric[], dictionary: DataDictionary): OfflineTurn {
  const draft: Draft = {};
  let metric: Metric | undefined;
  let ambiguous: Metric[] = [];
  let unsupportedWindow = false;
  for (const text of userMessages) {
    const m = matchMetric(text, catalog);
    if (m && 'metric' in m) {
      metric = m.metric;
      ambiguous = [];
    } else if (m && !metric) {
      ambiguous = m.ambiguous;
    }
    const w = matchWindow(text);
    if (w === 'unsupported') unsupportedWindow = !draft.window_preset;
    else if (w) {
      draft.window_preset = w;
      unsupportedWindow = false;
    }
    const v = matchVisualization(text);
    if (v) draft.visualization = v;
  }
  if (metric) {
    draft.metric = metric.name;
    const filters = matchFilters(userMessages.join('\n'), metric, dictionary);
    if (filters.length > 0) draft.filters = filters;
  }

  const missing = missingFields(draft);
  let reply: string;
  if (missing[0] === 'metric') {
    reply =
      ambiguous.length > 0
        ? `Which metric do you mean: ${listMetrics(ambiguous)}?`
        : `Which catalog metric should the tile show? For example: ${listMetrics(catalog)}.`;
  } else if (missing[0] === 'time_window') {
    reply = `${unsupportedWindow ? 'That window is not one the dashboard offers. ' : ''}Over which time window: ${PRESET_LIST}?`;
  } else if (missing[0] === 'visualization') {
    reply = `How should ${metric!.display_name} be drawn: as a kpi, line, bar, table or pie chart?`;
  } else {
    draft.title = defaultTitle(metric!, draft.window_preset!);
    reply = `Here is the tile: ${metric!.display_name} as a ${draft.visualization} chart over the ${WINDOW_LABELS[draft.window_preset!]}${describeFilters(draft.filters ?? [])}. Add it to the dashboard?`;
  }
  return { draft, reply, missing };
}
