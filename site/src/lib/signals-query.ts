import { OPEN_STATUSES, SEVERITIES, STATUSES } from './signals-data.ts';

/**
 * The Signals page's state as it lives in the address bar. Filters use the API's own parameter
 * names (`status`, `severity`, `assignee` …) so a view's query is the list request's query; the
 * page adds `detected` (a rolling window turned into `since` when asking) and `signal` (the one
 * open in the detail). With no `status` the queue shows what is open; `status=any` shows all.
 */
export const FILTER_KEYS = ['status', 'severity', 'signal_type', 'metric', 'entity_type', 'entity_id', 'assignee', 'detected'] as const;
export type SignalFilterKey = (typeof FILTER_KEYS)[number];
export type SignalFilters = Partial<Record<SignalFilterKey, string>>;

export const ENTITY_TYPES = ['region', 'product', 'team', 'agent', 'channel', 'issue_type'] as const;
export const DETECTED = [
  ['24h', 'Last 24 hours', 1],
  ['7d', 'Last 7 days', 7],
  ['30d', 'Last 30 days', 30],
  ['90d', 'Last 90 days', 90],
] as const;

const LISTS: Record<string, readonly string[]> = { status: [...STATUSES, 'any'], severity: SEVERITIES };

export function readSignalsState(search: string): { filters: SignalFilters; open: string | null } {
  const params = new URLSearchParams(search);
  const filters: SignalFilters = {};
  for (const key of FILTER_KEYS) {
    const values = params
      .getAll(key)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const allowed = LISTS[key];
    const kept = allowed ? [...new Set(values)].filter((v) => allowed.includes(v)) : values.slice(0, 1);
    if (kept.length > 0) filters[key] = kept.join(',');
  }
  if (filters.status?.split(',').includes('any')) filters.status = 'any';
  if (filters.detected && !DETECTED.some(([v]) => v === filters.detected)) delete filters.detected;
  return { filters, open: params.get('signal') };
}

export function signalsSearch(filters: SignalFilters, open?: string | null): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) params.set(key, filters[key]!);
  if (open) params.set('signal', open);
  const text = params.toString().replaceAll('%2C', ',');
  return text ? `?${text}` : '';
}

/** The statuses the queue asks for: the open ones unless the URL says otherwise. */
export function statusesOf(filters: SignalFilters): readonly string[] {
  if (filters.status === 'any') return [];
  return filters.status ? filters.status.split(',') : OPEN_STATUSES;
}

/**
 * The list request's query. `now` is passed in so the server and the island ask the same
 * question for a rolling window within the same minute (the key includes the minute).
 */
export function apiQuery(filters: SignalFilters, now = Date.now()): Record<string, string | undefined> {
  const days = DETECTED.find(([v]) => v === filters.detected)?.[2];
  const minute = Math.floor(now / 60_000) * 60_000;
  return {
    status: statusesOf(filters).join(',') || undefined,
    severity: filters.severity,
    signal_type: filters.signal_type,
    metric: filters.metric,
    entity_type: filters.entity_type,
    entity_id: filters.entity_id,
    assignee: filters.assignee,
    since: days ? new Date(minute - days * 86_400_000).toISOString() : undefined,
  };
}

/** Filters that narrow the queue beyond the default open view. */
export function narrowingCount(filters: SignalFilters): number {
  return FILTER_KEYS.filter((k) => filters[k]).length;
}

/** A toggled value in a comma list filter; an empty list removes the filter. */
export function toggled(list: string | undefined, value: string): string | undefined {
  const values = list ? list.split(',') : [];
  const next = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
  return next.length ? next.join(',') : undefined;
}
