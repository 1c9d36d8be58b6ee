import type { z as zod } from '@hono/zod-openapi';
import type { InferResponseType } from 'hono/client';
import { browserClient } from './browser-client.ts';
import { settle } from './dashboard-data.ts';
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
import type { PerformanceMetrics } from '../../../worker/incidents/messages.ts';

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

type Client = ReturnType<typeof browserClient>;
type DetailBody = InferResponseType<Client['v1']['incidents'][':id']['$get'], 200>;
type ListBody = InferResponseType<Client['v1']['incidents']['$get'], 200>;
type MetricsBody = InferResponseType<Client['v1']['incidents']['metrics']['$get'], 200>;
type ScenariosBody = InferResponseType<Client['v1']['incidents']['scenarios']['$get'], 200>;
type StartedBody = InferResponseType<Client['v1']['incidents']['$post'], 202>;

/**
 * A write the API accepts with 202 (the workflow takes it from there), as data or a sentence
 * with the problem's code, like `settle` does for reads.
 */
async function accepted<T>(send: (options: { init: RequestInit }) => Promise<{ status: number; json(): Promise<unknown> }>): Promise<Loaded<T>> {
  let res;
  try {
    res = await send({ init: { credentials: 'same-origin', signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) } });
  } catch {
    return { ok: false, problem: 'The server could not be reached.' };
  }
  const body = (await res.json().catch(() => undefined)) as { detail?: unknown; code?: unknown } | undefined;
  if (res.status === 202 && body !== undefined) return { ok: true, value: body as T };
  return {
    ok: false,
    problem: typeof body?.detail === 'string' ? body.detail : `The server answered ${res.status}.`,
    ...(typeof body?.code === 'string' ? { code: body.code } : {}),
  };
}
const WRITE_TIMEOUT_MS = 15_000;

export const loadIncident = (id: string): Promise<Loaded<IncidentDetail>> =>
  settle((o) => browserClient().v1.incidents[':id'].$get({ param: { id } }, o), (b) => b as DetailBody);

/** The incidents still running: active, or waiting for a decision. */
export async function loadOpenIncidents(): Promise<Loaded<IncidentSummary[]>> {
  const [active, waiting] = await Promise.all(
    (['active', 'waiting_approval'] as const).map((status) =>
      settle((o) => browserClient().v1.incidents.$get({ query: { status, 'page[size]': '100' } }, o), (b) => (b as ListBody).data),
    ),
  );
  if (!active!.ok) return active!;
  if (!waiting!.ok) return waiting!;
  return { ok: true, value: [...active!.value, ...waiting!.value] };
}

export const loadIncidentMetrics = (): Promise<Loaded<PerformanceMetrics>> =>
  settle((o) => browserClient().v1.incidents.metrics.$get({}, o), (b) => b as MetricsBody);

export const loadScenarios = (): Promise<Loaded<Scenario[]>> =>
  settle((o) => browserClient().v1.incidents.scenarios.$get({}, o), (b) => (b as ScenariosBody).data);

export const startIncident = (scenario: string) =>
  accepted<StartedBody>((o) => browserClient().v1.incidents.$post({ json: { scenario } }, o));

export const decide = (id: string, decision: 'approve' | 'reject' | 'cancel') =>
  accepted<unknown>((o) => browserClient().v1.incidents[':id'][decision].$post({ param: { id } }, o));
