import { z } from '@hono/zod-openapi';
import { ApiError } from '../../http/errors.ts';

export const WINDOW_PRESETS = ['1h', '24h', '7d', '30d', '90d', 'mtd'] as const;
const MAX_WINDOW_DAYS = 366;

export const TimeWindowSchema = z
  .union([
    z.strictObject({ preset: z.enum(WINDOW_PRESETS) }),
    z.strictObject({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }),
  ])
  .openapi('TimeWindow');
export type TimeWindow = z.infer<typeof TimeWindowSchema>;

export interface ResolvedWindow {
  start: Date;
  end: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PRESET_MS: Record<Exclude<(typeof WINDOW_PRESETS)[number], 'mtd'>, number> = {
  '1h': HOUR,
  '24h': DAY,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
  '90d': 90 * DAY,
};

/**
 * Rolling windows end at `now` truncated to `granularityMs`, so every request inside one
 * cache period asks the same question and can share one answer.
 */
export function resolveWindow(window: TimeWindow, now: Date, granularityMs = 60_000): ResolvedWindow {
  if ('start' in window) {
    const start = new Date(window.start);
    const end = new Date(window.end);
    if (!(start < end)) throw new ApiError('validation_failed', 'The time window must start before it ends.');
    if (end.getTime() - start.getTime() > MAX_WINDOW_DAYS * DAY) {
      throw new ApiError('validation_failed', `The time window may span at most ${MAX_WINDOW_DAYS} days.`);
    }
    return { start, end };
  }
  const end = new Date(Math.floor(now.getTime() / Math.max(granularityMs, 1_000)) * Math.max(granularityMs, 1_000));
  if (window.preset === 'mtd') {
    return { start: new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1)), end };
  }
  return { start: new Date(end.getTime() - PRESET_MS[window.preset]), end };
}

/** The equal window just before, for period-over-period deltas. */
export function previousWindow(window: ResolvedWindow): ResolvedWindow {
  const length = window.end.getTime() - window.start.getTime();
  return { start: new Date(window.start.getTime() - length), end: window.start };
}
