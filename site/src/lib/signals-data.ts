// Types only: the API's own schemas name every shape, so a contract change breaks the typecheck;
// the values the page needs at run time are repeated below without pulling zod into the browser.
import type { ActivityEvent, BulkResult, Person, ResponseTimes, Severity, SignalDetail, SignalPage, SignalSummary, Status } from '../../../worker/signals/schemas.ts';
import { settle } from './dashboard-data.ts';
import type { Loaded } from './dashboard-data.ts';

/**
 * The Signals page's reads and writes against /v1/signals, settled into data or a sentence (with
 * the problem's code), never a throw. Writes that lose a race come back with the signal as the
 * server now has it, so the page can show the winner instead of guessing.
 */
export type { Loaded };

export type { ActivityEvent, BulkResult, Person, ResponseTimes, Severity, SignalDetail, SignalSummary };
export type SignalStatus = Status;
export type SignalsPage = SignalPage;
export type OwnerTimes = ResponseTimes['data'][number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const satisfies readonly Severity[];
export const STATUSES = ['new', 'acknowledged', 'investigating', 'resolved', 'false_positive', 'expected'] as const satisfies readonly SignalStatus[];
export const OPEN_STATUSES: readonly SignalStatus[] = ['new', 'acknowledged', 'investigating'];

export const STATUS_LABEL: Record<SignalStatus, string> = {
  new: 'New',
  acknowledged: 'Acknowledged',
  investigating: 'Investigating',
  resolved: 'Resolved',
  false_positive: 'False positive',
  expected: 'Expected',
};

/** What the button that moves a signal into a status says. */
export const STATUS_ACTION: Record<SignalStatus, string> = {
  new: 'Mark new',
  acknowledged: 'Acknowledge',
  investigating: 'Start investigating',
  resolved: 'Resolve',
  false_positive: 'False positive',
  expected: 'Expected',
};

export const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' };

export const PAGE_SIZE = 50;

/** The page's query (already in the API's parameter names) as the list request's query. */
export function listUrl(query: Record<string, string | undefined>, cursor?: { after?: string; before?: string }): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  params.set('page[size]', String(PAGE_SIZE));
  if (cursor?.after) params.set('page[after]', cursor.after);
  if (cursor?.before) params.set('page[before]', cursor.before);
  return `/v1/signals?${params.toString().replaceAll('%2C', ',')}`;
}

const get = <T>(url: string, read: (body: unknown) => T | undefined = (b) => b as T) =>
  settle((o) => fetch(url, { ...o.init, headers: { accept: 'application/json' } }), read);

export const loadSignals = (query: Record<string, string | undefined>, cursor?: { after?: string; before?: string }): Promise<Loaded<SignalsPage>> =>
  get(listUrl(query, cursor));

export const loadSignal = (id: string): Promise<Loaded<SignalDetail>> => get(`/v1/signals/${encodeURIComponent(id)}`);

export const loadResponseTimes = (): Promise<Loaded<ResponseTimes>> => get('/v1/signals/response-times');

/** A write's outcome: the new state, or the refusal with the signal as it now stands when the server sent it. */
export type Written<T> = { ok: true; value: T } | { ok: false; status: number; problem: string; code?: string; current?: SignalSummary };

async function write<T>(method: 'PATCH' | 'POST', url: string, body: unknown): Promise<Written<T>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
  } catch {
    return { ok: false, status: 0, problem: 'The server could not be reached.' };
  }
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (res.ok && json) return { ok: true, value: json as T };
  const current = (json?.current ?? json?.signal) as SignalSummary | undefined;
  return {
    ok: false,
    status: res.status,
    problem: typeof json?.detail === 'string' ? json.detail : `The server answered ${res.status}.`,
    ...(typeof json?.code === 'string' ? { code: json.code } : {}),
    ...(current && typeof current === 'object' && 'status' in current ? { current } : {}),
  };
}

export type Change = { status: SignalStatus } | { assignee: string | null };

export const updateSignal = (id: string, change: Change, version: number) =>
  write<SignalDetail>('PATCH', `/v1/signals/${encodeURIComponent(id)}`, { ...change, version });

export const addNote = (id: string, body: string) => write<{ id: string }>('POST', `/v1/signals/${encodeURIComponent(id)}/notes`, { body });

/** Each id with the version on screen, so a signal someone changed meanwhile is refused rather than overwritten. */
export const bulkUpdate = (items: Array<{ id: string; version: number }>, change: Change) => write<BulkResult>('POST', '/v1/signals/bulk', { ids: items, ...change });
