import type { Provenance } from '../components/badges.tsx';
import type { InferResponseType } from 'hono/client';
import { browserClient } from './browser-client.ts';

/** The dashboard's data as the island uses it: GET /v1/dashboard/state and POST /v1/widgets/{id}/data. */
export interface WidgetData extends Provenance {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  delta?: { current: number | null; previous: number | null; relative: number | null; improving: boolean | null };
}
export interface Kpi {
  metric: string;
  display_name: string;
  unit: string;
  direction: string;
  /** Null while pending, or when a follow-up fetch failed before any data arrived. */
  data: WidgetData | null;
  /** The server did not have it within its time budget; the island fetches it on its own. */
  pending: boolean;
  /** Set on the client when fetching it failed. */
  problem?: string | null;
}
export interface TileWidget {
  id: string;
  title: string;
  visualization: string;
  metric: { name: string; unit: string };
}
export interface Tile {
  widget: TileWidget;
  data: WidgetData | null;
  problem: string | null;
  pending: boolean;
  /** The problem came from a fetch that may work if tried again (not from the tile's definition). */
  retryable?: boolean;
}
export interface DashboardState {
  kpis: Kpi[];
  tiles: Tile[];
  layout: { version: number; tiles: Array<{ widget_id: string; w: number; h: number }> };
}
export interface Records {
  /** The dictionary table the rows come from, which names their headers. */
  table: string;
  columns: string[];
  rows: Array<Record<string, unknown>>;
}

/** `code` is the problem's stable code when the server sent one (`databricks_unavailable` …). */
export type Loaded<T> = { ok: true; value: T } | { ok: false; problem: string; code?: string };

/**
 * A reload while the dashboard is already on screen: long enough for cached answers, short
 * enough that a slow source shows as a refreshing tile instead of freezing the others.
 */
export const REFRESH_BUDGET_MS = 250;

/** How often an open dashboard asks for all of its numbers again, and how often while a source is unavailable. */
export const REFRESH_MS = 60_000;
export const DEGRADED_REFRESH_MS = 10_000;

/**
 * Past the slowest route's deadlines (a KPI asks its source twice, up to 10 s each) the answer is
 * not coming; the tile says so rather than keep its skeleton.
 */
const FETCH_TIMEOUT_MS = 45_000;

/** Turns a typed client call into data or a sentence for the tile: it never throws, and never waits forever. */
export async function settle<T>(
  send: (options: { init: RequestInit }) => Promise<{ status: number; json(): Promise<unknown> }>,
  read: (body: unknown) => T | undefined,
): Promise<Loaded<T>> {
  let res;
  try {
    res = await send({ init: { credentials: 'same-origin', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) } });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return { ok: false, problem: timedOut ? 'The server took too long to answer.' : 'The server could not be reached.' };
  }
  const body = (await res.json().catch(() => undefined)) as { detail?: unknown; code?: unknown } | undefined;
  if (res.status === 200) {
    const value = read(body);
    return value === undefined ? { ok: false, problem: 'The server sent an unreadable answer.' } : { ok: true, value };
  }
  return {
    ok: false,
    problem: typeof body?.detail === 'string' ? body.detail : `The server answered ${res.status}.`,
    ...(typeof body?.code === 'string' ? { code: body.code } : {}),
  };
}

// Each reader's parameter is the route's own response type, so a contract change that breaks the
// island breaks the typecheck.
type Client = ReturnType<typeof browserClient>;
type StateBody = InferResponseType<Client['v1']['dashboard']['state']['$get'], 200>;
type DataBody = InferResponseType<Client['v1']['widgets'][':id']['data']['$post'], 200>;
type RecordsBody = InferResponseType<Client['v1']['widgets'][':id']['records']['$post'], 200>;

const asState = (body: StateBody): DashboardState => body;
const asData = (body: DataBody): WidgetData => body;
const asRecords = (body: RecordsBody): Records => body;

export function loadState(budgetMs: number): Promise<Loaded<DashboardState>> {
  return settle((o) => browserClient().v1.dashboard.state.$get({ query: { budget_ms: String(budgetMs) } }, o), (b) => asState(b as StateBody));
}

/** One KPI of the strip, waited for in full. */
export async function loadKpi(metric: string): Promise<Loaded<Kpi>> {
  return settle(
    (o) => browserClient().v1.dashboard.state.$get({ query: { kpi: metric } }, o),
    (b) => asState(b as StateBody).kpis.find((k) => k.metric === metric),
  );
}

export function loadTileData(widgetId: string): Promise<Loaded<WidgetData>> {
  return settle((o) => browserClient().v1.widgets[':id'].data.$post({ param: { id: widgetId } }, o), (b) => asData(b as DataBody));
}

export function loadRecords(widgetId: string, pageSize = 25): Promise<Loaded<Records>> {
  return settle(
    (o) => browserClient().v1.widgets[':id'].records.$post({ param: { id: widgetId }, json: { page: 1, page_size: pageSize } }, o),
    (b) => asRecords(b as RecordsBody),
  );
}
