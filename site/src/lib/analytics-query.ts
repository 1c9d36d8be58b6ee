/**
 * The analytics pages' state as it lives in the address bar, so a view can be shared and the
 * browser's back and forward step through filter changes. The same parameter names as the API
 * (`period`, `region`, `csat_min` …), so a page's query is the API's query.
 */

export const PERIODS = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['today', 'Today'],
  ['wtd', 'Week to date'],
  ['mtd', 'Month to date'],
  ['qtd', 'Quarter to date'],
  ['ytd', 'Year to date'],
] as const;
export const DEFAULT_PERIOD = '30d';

/** Multi-valued filters (comma-separated in the URL, as the API takes them). */
export const LIST_FILTERS = ['region', 'channel', 'issue_type', 'team', 'agent_id'] as const;
export const SCALAR_FILTERS = ['period', 'start', 'end', 'fcr', 'transferred', 'csat_min', 'csat_max', 'nps_min', 'nps_max', 'q'] as const;
export const FILTER_KEYS = [...SCALAR_FILTERS, ...LIST_FILTERS] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Filters only; empty values are absent. */
export type Filters = Partial<Record<FilterKey, string>>;

export function readFilters(params: URLSearchParams): Filters {
  const out: Filters = {};
  for (const key of FILTER_KEYS) {
    const all = params.getAll(key).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    if (all.length > 0) out[key] = (LIST_FILTERS as readonly string[]).includes(key) ? [...new Set(all)].join(',') : all[0]!;
  }
  return out;
}

/** Writes filters and any page extras (`sort`, `group`, `call`) in a stable order. */
export function toSearch(filters: Filters, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) params.set(key, filters[key]!);
  for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
  const text = params.toString().replaceAll('%2C', ',');
  return text ? `?${text}` : '';
}

export const listOf = (v: string | undefined): string[] => (v ? v.split(',').filter(Boolean) : []);

/**
 * The bucket that makes a readable chart for a window: hours within two days, days within three
 * months, weeks beyond (the trend route's limits hold for every period).
 */
export function granularityFor(filters: Filters): 'hour' | 'day' | 'week' {
  let days: number;
  if (filters.start && filters.end) days = (Date.parse(filters.end) - Date.parse(filters.start)) / 86_400_000;
  else days = { '24h': 1, today: 1, '7d': 7, wtd: 7, '30d': 30, mtd: 31, '90d': 90, qtd: 92, ytd: 366 }[filters.period ?? DEFAULT_PERIOD] ?? 30;
  return days <= 2 ? 'hour' : days <= 92 ? 'day' : 'week';
}

/** How many filters narrow the view (the period does not count). */
export function activeFilterCount(filters: Filters): number {
  return FILTER_KEYS.filter((k) => k !== 'period' && k !== 'start' && k !== 'end' && filters[k]).length;
}
