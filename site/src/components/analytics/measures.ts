import { formatCount, formatDecimal, formatDuration, formatFixed, formatPercent, formatUnit } from '../../lib/format.ts';
import type { AnalyticsMeta } from '../../lib/analytics-data.ts';

export interface MeasureView {
  name: string;
  label: string;
  unit: string;
  direction: string;
}

/**
 * The measures the analytics answer, in the order the cards show them. The answers name their
 * own labels and units (`meta.measures`, where a catalog edit shows); these stand in before the
 * first answer arrives, so a selector never waits for the lakehouse.
 */
export const MEASURES: readonly MeasureView[] = [
  { name: 'contacts', label: 'Contacts', unit: 'count', direction: 'neutral' },
  { name: 'avg_handle_time', label: 'Average handle time', unit: 'seconds', direction: 'lower_is_better' },
  { name: 'csat_avg', label: 'Average CSAT', unit: 'score', direction: 'higher_is_better' },
  { name: 'nps', label: 'Net Promoter Score', unit: 'score', direction: 'higher_is_better' },
  { name: 'first_contact_resolution', label: 'First contact resolution', unit: 'percent', direction: 'higher_is_better' },
  { name: 'transfer_rate', label: 'Transfer rate', unit: 'percent', direction: 'lower_is_better' },
  { name: 'repeat_contact_rate', label: 'Repeat contact rate', unit: 'percent', direction: 'lower_is_better' },
];

export function measuresOf(meta: AnalyticsMeta | undefined): MeasureView[] {
  return MEASURES.map((m) => {
    const live = meta?.measures.find((x) => x.name === m.name) as Partial<MeasureView> | undefined;
    return { ...m, ...(live?.label ? { label: live.label } : {}), ...(live?.unit ? { unit: live.unit } : {}), ...(live?.direction ? { direction: live.direction } : {}) };
  });
}

/** Scores keep their decimals (a CSAT of 4.00 beside 4.02; an NPS of 16.8). */
export const formatMeasure = (v: number, unit: string) => (unit === 'score' ? formatFixed(v, Math.abs(v) >= 10 ? 1 : 2) : formatUnit(v, unit));

/** The size of a change in the measure's own terms (points for a rate, time for a time); the arrow beside it gives the way. */
export function formatAbsolute(v: number, unit: string): string {
  const a = Math.abs(v);
  switch (unit) {
    case 'percent':
      return `${formatDecimal(a, 2)} pts`;
    case 'seconds':
      return formatDuration(a);
    case 'count':
      return formatCount(a);
    default:
      return formatDecimal(a, 2);
  }
}

export function formatRelative(r: number): string {
  return `${r > 0 ? '+' : r < 0 ? '−' : '±'}${formatPercent(Math.abs(r) * 100)}`;
}
