/**
 * The agents leaderboard: per agent (or team) the leaderboard measures, each ranked among the
 * entries with enough contacts to be judged, with a percentile badge. An entry under the minimum
 * volume is listed but neither ranked nor badged, so one lucky contact does not top the board.
 */
import { z } from '@hono/zod-openapi';
import { aggregate } from './aggregate.ts';
import { FILTER_VALUES } from './filters.ts';
import type { ParsedFilters } from './filters.ts';
import type { Measure, MeasureName } from './measures.ts';
import type { Run } from './run.ts';

export const LEADERBOARD_MEASURES: readonly MeasureName[] = ['contacts', 'avg_handle_time', 'csat_avg', 'first_contact_resolution', 'transfer_rate'];
export const DEFAULT_MIN_CONTACTS = 20;
export const BADGES = ['top_10_percent', 'top_quartile', 'bottom_quartile'] as const;

const RankedSchema = z
  .object({
    value: z.number().nullable(),
    rank: z.number().int().nullable().openapi({ description: '1 is best by the measure’s direction (most contacts for volume); ties share a rank; null when not ranked' }),
    percentile: z.number().nullable().openapi({ description: 'Share of ranked entries this one is at least as good as (0-100)' }),
    badge: z.enum(BADGES).nullable(),
  })
  .openapi('LeaderboardValue');

export const LeaderboardEntrySchema = z
  .object({
    key: z.string(),
    name: z.string(),
    team: z.string().nullable(),
    region: z.string().nullable(),
    contacts: z.number().int(),
    eligible: z.boolean().openapi({ description: 'Has at least min_contacts contacts, so it is ranked' }),
    measures: z.record(z.string(), RankedSchema),
  })
  .openapi('LeaderboardEntry');
export type LeaderboardEntry = z.infer<typeof LeaderboardEntrySchema>;

export interface AgentInfo {
  agent_id: string;
  name: string;
  team: string | null;
  region: string | null;
}

function badgeFor(rank: number, n: number): (typeof BADGES)[number] | null {
  const top = rank / n;
  if (top <= 0.1) return 'top_10_percent';
  if (top <= 0.25) return 'top_quartile';
  if (n >= 4 && top > 0.75) return 'bottom_quartile';
  return null;
}

/** Ranks one measure among eligible entries: competition ranking (1, 2, 2, 4) by the measure's direction. */
function rankMeasure(entries: LeaderboardEntry[], m: Measure): void {
  const better = m.direction === 'lower_is_better' ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const ranked = entries.filter((e) => e.eligible && e.measures[m.name]!.value !== null);
  const n = ranked.length;
  for (const e of ranked) {
    const v = e.measures[m.name]!.value!;
    const rank = 1 + ranked.filter((o) => better(o.measures[m.name]!.value!, v)).length;
    const notBetter = ranked.filter((o) => !better(o.measures[m.name]!.value!, v)).length;
    e.measures[m.name] = { value: v, rank, percentile: Math.round((notBetter / n) * 1000) / 10, badge: badgeFor(rank, n) };
  }
}

export async function leaderboard(
  run: Run,
  measures: readonly Measure[],
  parsed: ParsedFilters,
  group: 'agent' | 'team',
  minContacts: number,
  agents: readonly AgentInfo[],
): Promise<LeaderboardEntry[]> {
  const key = group === 'agent' ? ({ kind: 'column', column: 'agent_id' } as const) : ({ kind: 'lookup', table: 'agents', via: 'agent_id', column: 'team', values: FILTER_VALUES.team() } as const);
  const rows = await aggregate(run, measures, parsed.filters, { current: parsed.period.current }, key);
  const byId = new Map(agents.map((a) => [a.agent_id, a]));
  const entries: LeaderboardEntry[] = rows.map((r) => {
    const contacts = r.values.contacts ?? 0;
    const agent = group === 'agent' ? byId.get(r.key) : undefined;
    return {
      key: r.key,
      name: group === 'agent' ? (agent?.name ?? r.key) : r.key,
      team: group === 'agent' ? (agent?.team ?? null) : r.key,
      region: agent?.region ?? null,
      contacts,
      eligible: contacts >= minContacts,
      measures: Object.fromEntries(measures.map((m) => [m.name, { value: r.values[m.name] ?? null, rank: null, percentile: null, badge: null }])),
    };
  });
  // Volume is ranked too (most contacts first), so the table can sort on any column.
  for (const m of measures) rankMeasure(entries, m.name === 'contacts' ? { ...m, direction: 'higher_is_better' } : m);
  return entries;
}

export type LeaderboardSort = `${'' | '-'}${'name' | 'contacts' | 'avg_handle_time' | 'csat_avg' | 'first_contact_resolution' | 'transfer_rate'}`;

/** Sorts by a measure's value (ineligible and empty entries last) or by name; ties by key. */
export function sortEntries(entries: LeaderboardEntry[], sort: string): LeaderboardEntry[] {
  const desc = sort.startsWith('-');
  const field = sort.replace(/^-/, '');
  const value = (e: LeaderboardEntry) => (field === 'contacts' ? e.contacts : (e.measures[field]?.value ?? null));
  return [...entries].sort((a, b) => {
    if (field === 'name') return (desc ? -1 : 1) * a.name.localeCompare(b.name) || a.key.localeCompare(b.key);
    if (field !== 'contacts' && a.eligible !== b.eligible) return a.eligible ? -1 : 1;
    const [x, y] = [value(a), value(b)];
    if (x === null || y === null) return x === y ? a.key.localeCompare(b.key) : x === null ? 1 : -1;
    return (desc ? y - x : x - y) || a.key.localeCompare(b.key);
  });
}
