/**
 * The KPI snapshot, the time series and the breakdowns, each against the compared window. All
 * three ask `aggregate` the same question shape, so under the same filters the summary's
 * contacts, the sum of any breakdown's contacts and the calls list's total are one number.
 */
import { z } from '@hono/zod-openapi';
import { aggregate, bucketsOf, NONE_KEY } from './aggregate.ts';
import type { AggregateRow, Granularity, KeySpec } from './aggregate.ts';
import { change, ChangeSchema } from './change.ts';
import { FILTER_VALUES } from './filters.ts';
import type { ParsedFilters } from './filters.ts';
import type { Measure, MeasureName } from './measures.ts';
import type { Run } from './run.ts';

export const MeasureInfoSchema = z
  .object({
    name: z.string(),
    label: z.string(),
    unit: z.string(),
    direction: z.enum(['higher_is_better', 'lower_is_better', 'neutral']),
    definition: z.union([
      z.object({ source: z.literal('catalog'), metric: z.string(), version: z.number().int() }),
      z.object({ source: z.literal('analytics') }),
    ]),
    unavailable: z.string().optional().openapi({ description: 'Why this measure has no value (its catalog metric is retired or cannot be read)' }),
  })
  .openapi('AnalyticsMeasure');

export function measureInfo(m: Measure): z.infer<typeof MeasureInfoSchema> {
  return { name: m.name, label: m.label, unit: m.unit, direction: m.direction, definition: m.definition, ...(m.plan.kind === 'missing' ? { unavailable: m.plan.reason } : {}) };
}

const KpiSchema = ChangeSchema.extend({ name: z.string() }).openapi('AnalyticsKpi');

function kpis(measures: readonly Measure[], current: AggregateRow | undefined, previous: AggregateRow | undefined) {
  return measures.map((m) => {
    // No contacts is zero contacts; an average over no contacts has no value.
    const zero = m.name === 'contacts' ? 0 : null;
    return { name: m.name, ...change(current?.values[m.name] ?? zero, previous?.values[m.name] ?? zero, m.unit, m.direction) };
  });
}

export const SummaryDataSchema = z.object({ kpis: z.array(KpiSchema) });
export type SummaryData = z.infer<typeof SummaryDataSchema>;

export async function summary(run: Run, measures: readonly Measure[], parsed: ParsedFilters): Promise<SummaryData> {
  const rows = await aggregate(run, measures, parsed.filters, { current: parsed.period.current, previous: parsed.period.previous }, { kind: 'all' });
  return { kpis: kpis(measures, rows.find((r) => r.period === 'current'), rows.find((r) => r.period === 'previous')) };
}

export const DIMENSIONS = ['channel', 'issue_type', 'region', 'team'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export function dimensionKey(dimension: Dimension): KeySpec {
  switch (dimension) {
    case 'channel':
    case 'issue_type':
      return { kind: 'column', column: dimension, values: FILTER_VALUES[dimension]() };
    case 'region':
      return { kind: 'lookup', table: 'customers', via: 'customer_id', column: 'region', values: FILTER_VALUES.region() };
    case 'team':
      return { kind: 'lookup', table: 'agents', via: 'agent_id', column: 'team', values: FILTER_VALUES.team() };
  }
}

export const BreakdownDataSchema = z.object({
  dimension: z.enum(DIMENSIONS),
  groups: z.array(
    z.object({
      key: z.string().openapi({ description: '`(none)` collects contacts whose customer or agent has no value' }),
      share: z.number().nullable().openapi({ description: 'This group’s share of the contacts (0-1)' }),
      kpis: z.array(KpiSchema),
    }),
  ),
});
export type BreakdownData = z.infer<typeof BreakdownDataSchema>;

export async function breakdown(run: Run, measures: readonly Measure[], parsed: ParsedFilters, dimension: Dimension): Promise<BreakdownData> {
  const rows = await aggregate(run, measures, parsed.filters, { current: parsed.period.current, previous: parsed.period.previous }, dimensionKey(dimension));
  const keys = [...new Set(rows.map((r) => r.key))];
  const total = rows.filter((r) => r.period === 'current').reduce((sum, r) => sum + (r.values.contacts ?? 0), 0);
  const groups = keys.map((key) => {
    const current = rows.find((r) => r.period === 'current' && r.key === key);
    const previous = rows.find((r) => r.period === 'previous' && r.key === key);
    return { key, share: total > 0 ? Math.round(((current?.values.contacts ?? 0) / total) * 10_000) / 10_000 : null, kpis: kpis(measures, current, previous) };
  });
  // Largest first, `(none)` last.
  groups.sort((a, b) => Number(a.key === NONE_KEY) - Number(b.key === NONE_KEY) || (b.kpis[0]?.current ?? 0) - (a.kpis[0]?.current ?? 0) || a.key.localeCompare(b.key));
  return { dimension, groups };
}

export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
/** More points than this is not a chart. */
export const MAX_POINTS = 750;

export const TrendDataSchema = z.object({
  measure: z.string(),
  granularity: z.enum(GRANULARITIES),
  points: z.array(
    z.object({
      start: z.string().openapi({ description: 'Bucket start (ISO, UTC); the first bucket starts at the window’s start' }),
      end: z.string(),
      value: z.number().nullable(),
      previous: z
        .object({ start: z.string(), end: z.string(), value: z.number().nullable() })
        .nullable()
        .openapi({ description: 'The bucket at the same position in the compared window, for an overlay' }),
      change: ChangeSchema,
    }),
  ),
});
export type TrendData = z.infer<typeof TrendDataSchema>;

export function trendPoints(parsed: ParsedFilters, granularity: Granularity): number {
  return bucketsOf(parsed.period.current, granularity).length;
}

export async function trend(run: Run, measure: Measure, parsed: ParsedFilters, granularity: Granularity): Promise<TrendData> {
  const windows = { current: parsed.period.current, previous: parsed.period.previous };
  const rows = await aggregate(run, [measure], parsed.filters, windows, { kind: 'bucket', granularity });
  const zero = measure.name === 'contacts' ? 0 : null;
  const valueAt = (period: 'current' | 'previous', start: Date) => rows.find((r) => r.period === period && r.key === start.toISOString())?.values[measure.name] ?? zero;
  const previous = bucketsOf(windows.previous, granularity);
  const points = bucketsOf(windows.current, granularity).map((b, i) => {
    const p = previous[i];
    const value = valueAt('current', b.start);
    const before = p ? valueAt('previous', p.start) : null;
    return {
      start: b.start.toISOString(),
      end: b.end.toISOString(),
      value,
      previous: p ? { start: p.start.toISOString(), end: p.end.toISOString(), value: before } : null,
      change: change(value, before, measure.unit, measure.direction),
    };
  });
  return { measure: measure.name as MeasureName, granularity, points };
}
