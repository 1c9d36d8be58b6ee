import { sliceRow, unionAll } from './filters-cte.ts';
import type { TypedValue } from '../../services/statements.ts';
import { renameParameters } from '../../sqlgen/named-params.ts';
import type { ResolvedWindow } from './window.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-05 was a Monday: week-sized buckets start on Mondays, UTC. */
const MONDAY = 4 * DAY;

/** A line has room for about a month of daily points; more buckets only crowd the chart. */
export const MAX_BUCKETS = 32;

/**
 * Bucket sizes, finest first. Each divides the next boundary it aligns to (sub-day sizes divide a
 * day, so buckets start on the clock: :00, :05 …), and a window gets the finest size that keeps
 * it within MAX_BUCKETS: 1h → 5 minutes, 24h → hourly, 7d → 6-hourly, 30d and mtd → daily,
 * 90d → weekly, a year → 4-weekly.
 */
const STEPS: ReadonlyArray<{ name: string; ms: number; origin: number }> = [
  { name: '5m', ms: 5 * MINUTE, origin: 0 },
  { name: '15m', ms: 15 * MINUTE, origin: 0 },
  { name: '30m', ms: 30 * MINUTE, origin: 0 },
  { name: '1h', ms: HOUR, origin: 0 },
  { name: '3h', ms: 3 * HOUR, origin: 0 },
  { name: '6h', ms: 6 * HOUR, origin: 0 },
  { name: '12h', ms: 12 * HOUR, origin: 0 },
  { name: '1d', ms: DAY, origin: 0 },
  { name: '7d', ms: 7 * DAY, origin: MONDAY },
  { name: '14d', ms: 14 * DAY, origin: MONDAY },
  { name: '28d', ms: 28 * DAY, origin: MONDAY },
  { name: '91d', ms: 91 * DAY, origin: MONDAY },
  { name: '182d', ms: 182 * DAY, origin: MONDAY },
];

export interface Bucket {
  start: Date;
  end: Date;
}

export interface BucketPlan {
  /** The bucket size's name (`1h`, `1d` …), or `window` when the whole window is one bucket. */
  step: string;
  stepMs: number;
  /** Consecutive sub-windows that exactly cover the window; the first and last may be partial. */
  buckets: Bucket[];
}

function alignedStart(window: ResolvedWindow, step: { ms: number; origin: number }): number {
  return Math.floor((window.start.getTime() - step.origin) / step.ms) * step.ms + step.origin;
}

function alignedCount(window: ResolvedWindow, step: { ms: number; origin: number }): number {
  return Math.ceil((window.end.getTime() - alignedStart(window, step)) / step.ms);
}

function aligned(window: ResolvedWindow, step: { name: string; ms: number; origin: number }): BucketPlan {
  const start = window.start.getTime();
  const end = window.end.getTime();
  let at = alignedStart(window, step);
  const buckets: Bucket[] = [];
  while (at < end) {
    const next = at + step.ms;
    buckets.push({ start: new Date(Math.max(at, start)), end: new Date(Math.min(next, end)) });
    at = next;
  }
  return { step: step.name, stepMs: step.ms, buckets };
}

/**
 * Splits the window into calendar-aligned buckets, clipped to the window so that they partition
 * it: an additive metric's buckets add up to its whole-window value. `fits` lets the caller step
 * to coarser buckets when the composed statement would be too large for its source.
 */
export function planBuckets(window: ResolvedWindow, fits: (plan: BucketPlan) => boolean = () => true): BucketPlan {
  for (const step of STEPS) {
    if (alignedCount(window, step) > MAX_BUCKETS) continue;
    const plan = aligned(window, step);
    if (fits(plan)) return plan;
  }
  const length = window.end.getTime() - window.start.getTime();
  return { step: 'window', stepMs: length, buckets: [{ start: window.start, end: window.end }] };
}

/**
 * The time series as one statement: per bucket, the metric's query with its `:start`/`:end`
 * renamed to that bucket's (`:b0_start`, `:b0_end` …) by the parameter tokenizer, as one
 * `label, value` row labelled with the bucket's start (an ISO timestamp, bound as a string).
 */
export function composeSeries(sql: string, plan: BucketPlan, source: 'postgres' | 'databricks'): { sql: string; params: Record<string, TypedValue> } {
  const params: Record<string, TypedValue> = {};
  const rows = plan.buckets.map((bucket, k) => {
    const b = `b${k}`;
    params[`${b}_start`] = { value: bucket.start, type: 'TIMESTAMP' };
    params[`${b}_end`] = { value: bucket.end, type: 'TIMESTAMP' };
    params[`${b}_label`] = { value: bucket.start.toISOString(), type: 'STRING' };
    return sliceRow(`${b}_label`, renameParameters(sql, { start: `${b}_start`, end: `${b}_end` }, source), source);
  });
  return { sql: unionAll(rows), params };
}

/** Bucket labels are ISO timestamps of one format, so they sort in time order as strings. */
export function orderBuckets(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return [...rows].sort((a, b) => (String(a.label) < String(b.label) ? -1 : String(a.label) > String(b.label) ? 1 : 0));
}
