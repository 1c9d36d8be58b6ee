import type { z as zod } from '@hono/zod-openapi';
import type { Loaded } from './dashboard-data.ts';
import type { AgentAction as FrameAction } from '../../../worker/incidents/messages.ts';
import type {
  Incident,
  IncidentDetail as Detail,
  IncidentMetricsSchema,
  ScenarioSummarySchema,
  TimelineEntry,
} from '../../../worker/incidents/schemas.ts';

/*
 * Incident response as the site reads it. The hub's three incident messages are parsed with the
 * backend's own zod/mini schemas (worker/incidents/messages.ts), where they are read, as
 * live-updates.ts does for the dashboard's; the REST shapes are the API's types.
 */
export {
  AGENT_TYPES as AGENTS,
  AgentActionMessageSchema as AgentActionSchema,
  IncidentStatusMessageSchema as IncidentStatusSchema,
  PerformanceMetricsMessageSchema as PerformanceMetricsSchema,
} from '../../../worker/incidents/messages.ts';
export type { ActionKind, ActionStatus, AgentType, PerformanceMetrics } from '../../../worker/incidents/messages.ts';

/** One step of an incident, from the timeline (GET) or an `agent_action` frame; the same fields either way. */
export type Action = Omit<TimelineEntry, 'ended_at'> & { ended_at?: string | null };
export type Scenario = zod.infer<typeof ScenarioSummarySchema>;
/** What the dashboard knows of an incident: from the list or its detail, or, until those answer, its frames (no severity yet). */
export type IncidentSummary = Pick<Incident, 'incident_id' | 'scenario' | 'title' | 'status' | 'created_at'> & { severity: Incident['severity'] | 'unknown' } & Partial<
    Omit<Incident, 'incident_id' | 'scenario' | 'title' | 'severity' | 'status' | 'created_at'>
  >;
export type IncidentDetail = Detail;
export type IncidentMetrics = zod.infer<typeof IncidentMetricsSchema>;
export type IncidentList = { data: Incident[]; links: { next: string | null } };

export function actionFromFrame(a: FrameAction): Action {
  return { ...a, started_at: a.timestamp };
}

/** A browser call to /v1/incidents…, answered as data or a sentence with the problem's code, like the other islands' loaders. */
export async function incidentApi<T>(path: string, init: RequestInit = {}): Promise<Loaded<T>> {
  try {
    const res = await fetch(path, {
      credentials: 'same-origin',
      ...init,
      headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });
    const body = (await res.json().catch(() => undefined)) as (T & { detail?: unknown; code?: unknown }) | undefined;
    if (res.ok && body !== undefined) return { ok: true, value: body };
    return {
      ok: false,
      problem: typeof body?.detail === 'string' ? body.detail : `The server answered ${res.status}.`,
      ...(typeof body?.code === 'string' ? { code: body.code } : {}),
    };
  } catch {
    return { ok: false, problem: 'The server could not be reached.' };
  }
}

export const loadIncident = (id: string) => incidentApi<IncidentDetail>(`/v1/incidents/${encodeURIComponent(id)}`);

export const startIncident = (scenario: string) =>
  incidentApi<IncidentSummary>('/v1/incidents', { method: 'POST', body: JSON.stringify({ scenario }) });

export const decide = (id: string, decision: 'approve' | 'reject' | 'cancel') =>
  incidentApi<unknown>(`/v1/incidents/${encodeURIComponent(id)}/${decision}`, { method: 'POST' });
