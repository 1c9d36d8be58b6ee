import type { InferResponseType } from 'hono/client';
import { browserClient } from './browser-client.ts';
import { settle } from './dashboard-data.ts';
import type { Loaded } from './dashboard-data.ts';
import type { Filters } from './analytics-query.ts';

/**
 * The analytics pages' reads, each typed by its route's own response schema (a contract change
 * breaks the typecheck) and settled into data or a sentence, never a throw.
 */
type Client = ReturnType<typeof browserClient>;
export type CallsPage = InferResponseType<Client['v1']['calls']['$get'], 200>;
export type Call = CallsPage['data'][number];
export type CallDetail = InferResponseType<Client['v1']['calls'][':id']['$get'], 200>;
export type Summary = InferResponseType<Client['v1']['analytics']['summary']['$get'], 200>;
export type Trend = InferResponseType<Client['v1']['analytics']['trends']['$get'], 200>;
export type Leaderboard = InferResponseType<Client['v1']['agents']['$get'], 200>;
export type LeaderboardEntry = NonNullable<Leaderboard['data']>[number];
export type FilterOptions = InferResponseType<Client['v1']['filters']['options']['$get'], 200>;
export type AnalyticsMeta = Summary['meta'];
export type Kpi = NonNullable<Summary['data']>['kpis'][number];

export type { Loaded };

export const CALLS_PAGE_SIZE = 25;

/** A page's cursor as the API gave it: from `links.next` (page[after]) or `links.prev` (page[before]). */
export interface PageCursor {
  param: 'page[after]' | 'page[before]';
  value: string;
}

/** The cursor inside a `links.next` or `links.prev` URL. */
export function cursorIn(link: string | null): PageCursor | undefined {
  if (!link) return undefined;
  const params = new URL(link, 'http://x').searchParams;
  for (const param of ['page[after]', 'page[before]'] as const) {
    const value = params.get(param);
    if (value) return { param, value };
  }
  return undefined;
}

export function loadCalls(filters: Filters, sort: string, cursor?: PageCursor): Promise<Loaded<CallsPage>> {
  const query = { ...filters, sort: sort as never, 'page[size]': String(CALLS_PAGE_SIZE), ...(cursor ? { [cursor.param]: cursor.value } : {}) };
  return settle((o) => browserClient().v1.calls.$get({ query }, o), (b) => b as CallsPage);
}

export function loadCall(id: string): Promise<Loaded<CallDetail>> {
  return settle((o) => browserClient().v1.calls[':id'].$get({ param: { id } }, o), (b) => b as CallDetail);
}

export function loadSummary(filters: Filters): Promise<Loaded<Summary>> {
  return settle((o) => browserClient().v1.analytics.summary.$get({ query: filters }, o), (b) => b as Summary);
}

export function loadTrend(filters: Filters, metric: string, granularity: string): Promise<Loaded<Trend>> {
  return settle(
    (o) => browserClient().v1.analytics.trends.$get({ query: { ...filters, metric: metric as never, granularity: granularity as never } }, o),
    (b) => b as Trend,
  );
}

export function loadLeaderboard(filters: Filters, group: string, sort: string): Promise<Loaded<Leaderboard>> {
  return settle((o) => browserClient().v1.agents.$get({ query: { ...filters, group: group as never, sort: sort as never } }, o), (b) => b as Leaderboard);
}

export function loadOptions(): Promise<Loaded<FilterOptions>> {
  return settle((o) => browserClient().v1.filters.options.$get({ query: {} }, o), (b) => b as FilterOptions);
}

/** The export of what the page shows: the same filters and sort, as a CSV link (no script needed to download). */
export function exportHref(search: string): string {
  return `/v1/calls/export${search}`;
}
