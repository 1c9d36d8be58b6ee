import { authHeaders, call, json } from './helpers.ts';

let counter = 0;
/**
 * A 30-day window ending at a time no other test asks about, so an answer comes from the
 * lakehouse rather than the cache (answers are cached per window and filters).
 */
export function freshWindow(days = 30): { start: string; end: string } {
  const end = new Date(Math.floor(Date.now() / 1000) * 1000 - ++counter * 7_000 - Math.floor(Math.random() * 3_600) * 1000);
  return { start: new Date(end.getTime() - days * 86_400_000).toISOString(), end: end.toISOString() };
}

export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, String(one));
  }
  return out.toString();
}

export async function viewerGet<T>(path: string, status = 200): Promise<T> {
  return json<T>(await call(path, { headers: await authHeaders('viewer') }), status);
}

export async function viewerFetch(path: string): Promise<Response> {
  return call(path, { headers: await authHeaders('viewer') });
}

export interface CallRow {
  interaction_id: string;
  started_at: string;
  channel: string;
  issue_type: string;
  handle_seconds: number;
  resolved_first_contact: boolean;
  transferred: boolean;
  csat: number | null;
  nps: number | null;
  agent: { agent_id: string; name: string | null; team: string | null };
  customer: { customer_id: string; region: string | null; segment: string | null };
  device: { device_id: string; make: string | null; model: string | null } | null;
}

export interface CallsPage {
  data: CallRow[];
  meta: { has_more: boolean; total: number; page_size: number; sort: string; window: { start: string; end: string }; filters: Record<string, string>; cache: string };
  links: { self: string; next: string | null; prev: string | null };
}

export interface Kpi {
  name: string;
  current: number | null;
  previous: number | null;
  absolute: number | null;
  relative: number | null;
  percentage_points?: number | null;
  improving: boolean | null;
}

export interface Meta {
  window: { start: string; end: string };
  period: string;
  compared_with: { start: string; end: string; kind: string; description: string };
  filters: Record<string, string>;
  measures: Array<{ name: string; unit: string; definition: { source: string; metric?: string; version?: number } }>;
  as_of: string;
  cache: string;
  live_data_unavailable: boolean;
  reason?: string;
}
