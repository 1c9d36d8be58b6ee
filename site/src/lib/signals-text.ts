import { formatDecimal, formatDuration, formatUnit } from './format.ts';
import { fullTimeLabel } from './time-labels.ts';
import { SEVERITY_LABEL, STATUS_LABEL } from './signals-data.ts';
import type { ActivityEvent, Person, SignalSummary } from './signals-data.ts';

/** How the Signals page says things: values in the metric's unit, the deviation, the trail of activity. */

export const readable = (v: string) => v.replace(/_/g, ' ');

export function personName(p: unknown): string | null {
  if (p === null || p === undefined || p === '') return null;
  if (typeof p === 'string') return p;
  if (typeof p === 'object') {
    const o = p as Partial<Person>;
    return o.name || o.email || o.id || null;
  }
  return String(p);
}

/** A value in its metric's unit when the detail knows it, else a plain decimal. */
export function metricValue(v: number | null | undefined, unit?: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return unit ? formatUnit(v, unit) : formatDecimal(v);
}

/** "+38 % vs expected": how far the observed value is from the baseline. */
export function deviation(s: Pick<SignalSummary, 'observed_value' | 'expected_value'>): string | null {
  const { observed_value: o, expected_value: e } = s;
  if (o === null || e === null || !Number.isFinite(o) || !Number.isFinite(e) || e === 0) return null;
  const pct = ((o - e) / Math.abs(e)) * 100;
  return `${pct > 0 ? '+' : pct < 0 ? '−' : ''}${formatDecimal(Math.abs(pct), Math.abs(pct) < 10 ? 1 : 0)} %`;
}

export function zText(z: number | null): string {
  if (z === null || !Number.isFinite(z)) return '—';
  return `${z > 0 ? '+' : z < 0 ? '−' : ''}${formatDecimal(Math.abs(z), 1)}σ`;
}

const labelOf = (kind: ActivityEvent['kind'], v: unknown): string => {
  if (kind === 'status' && typeof v === 'string' && v in STATUS_LABEL) return STATUS_LABEL[v as keyof typeof STATUS_LABEL];
  if (kind === 'severity' && typeof v === 'string' && v in SEVERITY_LABEL) return SEVERITY_LABEL[v as keyof typeof SEVERITY_LABEL];
  return personName(v) ?? 'nobody';
};

/** One line of the timeline, in a support lead's words. */
export function describeActivity(e: ActivityEvent): string {
  const who = personName(e.actor);
  const by = who ?? 'The system';
  switch (e.kind) {
    case 'status':
      return `${by} moved it from ${labelOf('status', e.from)} to ${labelOf('status', e.to)}`;
    case 'assignee': {
      const to = personName(e.to);
      if (!to) return `${by} unassigned it${personName(e.from) ? ` from ${personName(e.from)}` : ''}`;
      if (!who) return `Assigned to ${to} by the ownership rules`;
      return `${by} assigned it to ${e.actor && typeof e.to === 'object' && (e.to as Person).id === e.actor.id ? 'themselves' : to}`;
    }
    case 'severity':
      return `Severity changed from ${labelOf('severity', e.from)} to ${labelOf('severity', e.to)} by the marts`;
    case 'note':
      return `${by} added a note`;
    case 'hydrated':
      return e.from === null || e.from === undefined ? 'Detected by the marts' : 'Refreshed from the marts';
    case 'stale':
      return e.to === 'fresh' ? 'Back in the marts' : 'No longer in the marts: marked stale';
    default:
      return `${by}: ${String(e.kind)}`;
  }
}

/** A response or resolution time: minutes below an hour and a half, hours below two days, then days. */
export function responseTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 5_400) return formatDuration(seconds);
  if (seconds < 172_800) return `${formatDecimal(seconds / 3600, 1)} h`;
  return `${formatDecimal(seconds / 86_400, 1)} d`;
}

/** "2 min ago", "3 h ago": for the queue, where the exact time is in the title. */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/**
 * The marts' windows are buckets aligned in UTC, so they read in UTC as the charts' axes do: one
 * day is its date, anything else its two ends.
 */
export function windowLabel(start: string, end: string): string {
  const [a, b] = [Date.parse(start), Date.parse(end)];
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '—';
  const wholeDay = b - a === 86_400_000 && a % 86_400_000 === 0;
  return wholeDay ? `${fullTimeLabel(a, false)} (UTC day)` : `${fullTimeLabel(a, true)} – ${fullTimeLabel(b, true)}`;
}
