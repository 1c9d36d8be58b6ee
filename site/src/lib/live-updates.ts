import * as z from 'zod/mini';
import { periodDelta } from '../../../worker/metrics/compose/delta.ts';
import type { Kpi, WidgetData } from './dashboard-data.ts';

/*
 * The data of the published messages the dashboard applies. The hub's protocol checks the frame
 * around them and leaves `data` to its publisher, so the shapes are checked here, where they are
 * read: `kpi_update` from worker/dashboard/events/publish.ts, `layout_update` from
 * worker/routes/dashboard-layout.ts. A message that does not fit is ignored.
 */
export const KpiUpdateSchema = z.object({
  metric: z.string(),
  source: z.enum(['postgres', 'databricks', 'template']),
  as_of: z.string(),
  rows: z.array(z.record(z.string(), z.unknown())),
});
export type KpiUpdate = z.infer<typeof KpiUpdateSchema>;

export const LayoutUpdateSchema = z.object({ user_id: z.string(), version: z.int() });

/**
 * A KPI after a live update: the new rows, and the delta recomputed against the previous period
 * the tile already holds (that window has not moved), so the arrow follows the number. A KPI
 * still loading has no SQL or delta to pair the update with (its fetch brings both), and an
 * update from another source answers another question: both stay as they are.
 */
export function withLiveUpdate(k: Kpi, update: KpiUpdate): Kpi {
  const data = k.data;
  if (k.metric !== update.metric || !data || data.source !== update.source) return k;
  const value = update.rows[0]?.value;
  const current = typeof value === 'number' && Number.isFinite(value) ? value : null;
  const delta = data.delta ? periodDelta(current, data.delta.previous, k.direction) : undefined;
  return { ...k, data: { ...data, rows: update.rows, as_of: update.as_of, cache: 'miss', ...(delta ? { delta } : {}) } };
}

/**
 * After a reload, the newer answer wins: a cached one must not undo a live update that arrived
 * since. Only for the same question: a tile whose definition changed takes the new answer.
 */
export function newer(before: WidgetData | null | undefined, next: WidgetData | null): WidgetData | null {
  return before && (!next || (before.sql === next.sql && before.as_of > next.as_of)) ? before : next;
}
