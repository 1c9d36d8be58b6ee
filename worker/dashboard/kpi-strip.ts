import type { TimeWindow } from '../metrics/compose/window.ts';

/**
 * The headline strip every dashboard opens with, in display order, each over its own window.
 * The dashboard state answers it and ingest's live updates recompute it: both read this list, so
 * a live number is always the same question as the number it replaces.
 */
export const KPI_STRIP: ReadonlyArray<{ metric: string; window: TimeWindow }> = [
  { metric: 'nps_impact', window: { preset: '24h' } },
  { metric: 'claim_volume', window: { preset: '24h' } },
  { metric: 'cost_avoided_mtd', window: { preset: 'mtd' } },
  { metric: 'avg_handle_time', window: { preset: '24h' } },
  { metric: 'sla_breach_rate', window: { preset: '7d' } },
  { metric: 'issue_sessions_active', window: { preset: '24h' } },
  { metric: 'open_alerts', window: { preset: '24h' } },
];
