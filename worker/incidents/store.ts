import type { Postgres, Statement } from '../services/postgres.ts';
import type { ActionKind, ActionStatus, AgentType, IncidentStatus, Severity } from './messages.ts';
import type { Incident, IncidentOptions, TimelineEntry } from './schemas.ts';
import { claimStatement } from './outbox.ts';
import type { Claimed } from './outbox.ts';

type Db = Pick<Postgres, 'query' | 'batch'>;

/** Running incidents: those that count toward INCIDENT_LIMIT and whose steps may still write. */
export const RUNNING: readonly IncidentStatus[] = ['active', 'waiting_approval'];

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** An action row as its `agent_action` message carries it (messages.ts). */
const ACTION_MESSAGE = `jsonb_build_object('incident_id', a.incident_id::text, 'action', jsonb_build_object(
  'agent_type', a.agent_type, 'action_id', a.action_id, 'kind', a.kind, 'step', a.step, 'description', a.description,
  'timestamp', ${iso('a.updated_at')}, 'status', a.status, 'confidence', a.confidence, 'duration_ms', a.duration_ms,
  'attempt', a.attempt, 'details', a.details))`;

const STATUS_MESSAGE = `jsonb_build_object('incident_id', i.incident_id::text, 'status', i.status, 'resolution_time', i.resolution_time,
  'cost_savings', i.cost_savings::float8, 'title', i.title, 'scenario', i.scenario, 'severity', i.severity)`;

/** The running figures, over every incident; GET /v1/incidents/metrics and `performance_metrics`. */
export const METRICS_SQL = `SELECT count(*) FILTER (WHERE status = 'resolved')::int AS incidents_resolved,
       COALESCE(sum(cost_savings) FILTER (WHERE status = 'resolved'), 0)::float8 AS total_cost_savings,
       (avg(resolution_time) FILTER (WHERE status = 'resolved'))::float8 AS avg_mttr,
       (count(*) FILTER (WHERE status = 'resolved'))::float8 / NULLIF(count(*) FILTER (WHERE status IN ('resolved', 'failed')), 0) AS success_rate
  FROM incidents`;

export interface NewIncident {
  incident_id: string;
  scenario: string | null;
  title: string;
  severity: Severity;
  affected_services: string[];
  affected_regions: string[];
  affected_products: string[];
  options: IncidentOptions;
  time_scale: number;
  dashboard: string;
  created_by: string;
  approval_required: boolean;
  notification_configured: boolean;
}

export type Created = { ok: true; incident: Incident } | { ok: false; running: number };

/**
 * Stores a new incident unless INCIDENT_LIMIT are already running, with its first
 * `incident_status` message. One transaction in one round trip: the advisory lock serialises
 * starts, so two at once cannot both take the last place.
 */
export async function createIncident(db: Db, n: NewIncident, limit: number): Promise<Created> {
  const [, inserted, , running] = await db.batch([
    { text: "SELECT pg_advisory_xact_lock(hashtext('incidents:start'))" },
    {
      text: `INSERT INTO incidents (incident_id, scenario, title, severity, status, affected_services, affected_regions, affected_products,
                                    options, time_scale, dashboard, created_by, approval_required, notification_status)
             SELECT $1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10, $11, $12, $13
              WHERE (SELECT count(*) FROM incidents WHERE status = ANY($14::text[])) < $15
             RETURNING ${INCIDENT_COLUMNS}`,
      params: [
        n.incident_id,
        n.scenario,
        n.title,
        n.severity,
        n.affected_services,
        n.affected_regions,
        n.affected_products,
        JSON.stringify(n.options),
        n.time_scale,
        n.dashboard,
        n.created_by,
        n.approval_required,
        n.notification_configured ? 'pending' : 'not_configured',
        RUNNING,
        limit,
      ],
    },
    statusMessage(n.incident_id, 'start'),
    { text: 'SELECT count(*)::int AS running FROM incidents WHERE status = ANY($1::text[])', params: [RUNNING] },
  ]);
  const row = inserted!.rows[0];
  if (!row) return { ok: false, running: Number(running!.rows[0]!.running) };
  return { ok: true, incident: toIncident(row) };
}

/** The `incident_status` message for the incident's current row, stored once under `suffix`. */
function statusMessage(incidentId: string, suffix: string, onlyIn?: IncidentStatus): Statement {
  return {
    text: `INSERT INTO incident_messages (incident_id, key, type, data)
           SELECT i.incident_id, $2, 'incident_status', ${STATUS_MESSAGE} FROM incidents i
            WHERE i.incident_id = $1 AND ($3::text IS NULL OR i.status = $3)
           ON CONFLICT (key) DO NOTHING`,
    params: [incidentId, `${incidentId}:status:${suffix}`, onlyIn ?? null],
  };
}

function metricsMessage(incidentId: string): Statement {
  return {
    text: `INSERT INTO incident_messages (incident_id, key, type, data)
           SELECT $1, $2, 'performance_metrics', jsonb_build_object('metrics', to_jsonb(m)) FROM (${METRICS_SQL}) m
           ON CONFLICT (key) DO NOTHING`,
    params: [incidentId, `${incidentId}:metrics`],
  };
}

export interface Transition {
  action_id: string;
  agent_type: AgentType;
  kind: ActionKind;
  step: number | null;
  description: string;
  status: ActionStatus;
  attempt?: number;
  confidence?: number | null;
  /** Merged into the row's details. */
  details?: Record<string, unknown>;
}

export interface Recorded {
  /** False once the incident has ended (cancelled, or finished by another run): stop working on it. */
  running: boolean;
  /** The row as stored; on a replay, what the first run wrote. */
  row: TimelineEntry | null;
  /** With `claim`: the incident's unpublished messages, this one included, leased to the caller to publish. */
  claimed?: Claimed;
}

/** States an action may move to a given state from; anything else is a replay and changes nothing. */
const FROM: Record<ActionStatus, readonly ActionStatus[]> = {
  in_progress: [],
  waiting_approval: [],
  retrying: ['in_progress', 'retrying'],
  completed: ['in_progress', 'retrying'],
  failed: ['in_progress', 'retrying'],
  cancelled: ['in_progress', 'retrying', 'waiting_approval'],
  approved: ['waiting_approval'],
  rejected: ['waiting_approval'],
  timed_out: ['waiting_approval'],
  rolled_back: ['completed'],
  rollback_failed: ['completed'],
};

const ENDING: ReadonlySet<ActionStatus> = new Set(['completed', 'failed', 'cancelled', 'approved', 'rejected', 'timed_out']);

/**
 * Records an action's new state and its `agent_action` message in one transaction. A start
 * (`in_progress`, `waiting_approval`) inserts the row; anything else moves it on from a state
 * FROM allows. Both are no-ops on a replay or once the incident has ended, so a step the engine
 * runs again leaves one row and one message per transition.
 */
export async function recordAction(
  db: Db,
  incidentId: string,
  t: Transition,
  options: { claim?: boolean; /** Incident statuses the write is taken in; running ones unless a cancellation's rollback says otherwise. */ during?: readonly IncidentStatus[] } = {},
): Promise<Recorded> {
  const during = options.during ?? RUNNING;
  const attempt = t.attempt ?? 1;
  const details = JSON.stringify(t.details ?? {});
  const write: Statement =
    FROM[t.status].length === 0
      ? {
          text: `INSERT INTO incident_actions (incident_id, action_id, agent_type, step, kind, description, status, started_at, updated_at, attempt, confidence, details)
                 SELECT $1, $2, $3, $4, $5, $6, $7, now(), now(), $8, $9, $10::jsonb
                  WHERE EXISTS (SELECT 1 FROM incidents WHERE incident_id = $1 AND status = ANY($11::text[]))
                 ON CONFLICT (incident_id, action_id) DO NOTHING`,
          params: [incidentId, t.action_id, t.agent_type, t.step, t.kind, t.description, t.status, attempt, t.confidence ?? null, details, during],
        }
      : {
          // Undoing a completed step (rolled_back) happens while the incident is failing, still running.
          text: `UPDATE incident_actions a
                    SET status = $3, updated_at = now(), attempt = GREATEST(a.attempt, $4),
                        confidence = COALESCE($5, a.confidence), details = a.details || $6::jsonb,
                        ended_at = CASE WHEN $7 THEN now() ELSE a.ended_at END,
                        duration_ms = CASE WHEN $7 THEN round(extract(epoch FROM now() - a.started_at) * 1000) ELSE a.duration_ms END
                  WHERE a.incident_id = $1 AND a.action_id = $2 AND a.status = ANY($8::text[])
                    AND ($3 <> 'retrying' OR a.attempt < $4)
                    AND EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = $1 AND i.status = ANY($9::text[]))`,
          params: [incidentId, t.action_id, t.status, attempt, t.confidence ?? null, details, ENDING.has(t.status), FROM[t.status], during],
        };
  const results = await db.batch([
    write,
    {
      // Keyed by the state the row is in, with its attempt: a retry moves the attempt on, anything replayed finds its key taken.
      text: `INSERT INTO incident_messages (incident_id, key, type, data)
             SELECT a.incident_id, a.incident_id || ':' || a.action_id || ':' || a.status || ':' || a.attempt, 'agent_action', ${ACTION_MESSAGE}
               FROM incident_actions a WHERE a.incident_id = $1 AND a.action_id = $2 AND a.status = $3
             ON CONFLICT (key) DO NOTHING`,
      params: [incidentId, t.action_id, t.status],
    },
    { text: 'SELECT status FROM incidents WHERE incident_id = $1', params: [incidentId] },
    { text: `SELECT ${ACTION_COLUMNS} FROM incident_actions a WHERE a.incident_id = $1 AND a.action_id = $2`, params: [incidentId, t.action_id] },
    ...(options.claim ? [claimStatement(incidentId)] : []),
  ]);
  const [, , state, row, claimed] = results;
  const status = state!.rows[0]?.status as IncidentStatus | undefined;
  return {
    running: status !== undefined && RUNNING.includes(status),
    row: row!.rows[0] ? toEntry(row!.rows[0]) : null,
    ...(claimed ? { claimed: claimed.rows as Claimed } : {}),
  };
}

export interface IncidentChange {
  to: IncidentStatus;
  /** Names this status message among the incident's; a replay with the same key adds nothing. */
  key: string;
  from?: readonly IncidentStatus[];
  /** Opens the approval gate (pending, with its deadline) or closes it as timed out. */
  approval?: { state: 'pending' | 'timed_out'; deadline?: Date };
  /** Ends it: ended_at, resolution_time and, for resolved, the savings from the cost formula. */
  end?: { cost_per_minute: number; manual_mttr_minutes: number };
}

/**
 * Moves the incident to `to` (only from a running status, unless `from` says otherwise) with its
 * `incident_status` message; an ending also stores the cost figures and a `performance_metrics`
 * message with the running totals. Answers the status it has now.
 */
export async function changeIncident(db: Db, incidentId: string, c: IncidentChange): Promise<IncidentStatus | null> {
  return (await changeIncidentClaiming(db, incidentId, c, false)).status;
}

/**
 * changeIncident with the outbox claim in the same round trip (as recordAction's `claim`), and the
 * count of the incident's unpublished messages at that moment: publishing all of them leaves
 * nothing behind.
 */
export async function changeAndClaim(db: Db, incidentId: string, c: IncidentChange): Promise<{ status: IncidentStatus | null; claimed: Claimed; pending: number }> {
  const r = await changeIncidentClaiming(db, incidentId, c, true);
  return { status: r.status, claimed: r.claimed ?? [], pending: r.pending ?? 0 };
}

async function changeIncidentClaiming(db: Db, incidentId: string, c: IncidentChange, claim: boolean): Promise<{ status: IncidentStatus | null; claimed?: Claimed; pending?: number }> {
  const ending = c.end !== undefined;
  const statements: Statement[] = [
    {
      text: `UPDATE incidents SET status = $2,
                    approval_state = COALESCE($4, approval_state),
                    approval_deadline = COALESCE(approval_deadline, $5),
                    ended_at = CASE WHEN $6 THEN now() ELSE ended_at END,
                    resolution_time = CASE WHEN $6 THEN round(extract(epoch FROM now() - created_at)::numeric, 3)::float8 ELSE resolution_time END,
                    cost_inputs = CASE WHEN $6 THEN jsonb_build_object('cost_per_minute', $7::float8, 'manual_mttr_minutes', $8::float8,
                                         'resolution_minutes', round((extract(epoch FROM now() - created_at)::float8 / 60)::numeric, 4)::float8) ELSE cost_inputs END,
                    cost_savings = CASE WHEN $6 AND $2 = 'resolved'
                                        THEN round(($7::float8 * GREATEST(0, $8::float8 - extract(epoch FROM now() - created_at)::float8 / 60))::numeric, 2) ELSE cost_savings END
              WHERE incident_id = $1 AND status = ANY($3::text[])`,
      params: [
        incidentId,
        c.to,
        c.from ?? RUNNING,
        c.approval?.state ?? null,
        c.approval?.deadline?.toISOString() ?? null,
        ending,
        c.end?.cost_per_minute ?? 0,
        c.end?.manual_mttr_minutes ?? 0,
      ],
    },
    // Only the run that made the change finds the incident in it with no message yet under this key.
    statusMessage(incidentId, c.key, c.to),
  ];
  if (ending) statements.push(metricsMessage(incidentId));
  statements.push({ text: 'SELECT status FROM incidents WHERE incident_id = $1', params: [incidentId] });
  const at = statements.length - 1;
  if (claim) {
    statements.push(claimStatement(incidentId), {
      text: 'SELECT count(*)::int AS n FROM incident_messages WHERE incident_id = $1 AND published_seq IS NULL',
      params: [incidentId],
    });
  }
  const results = await db.batch(statements);
  const status = (results[at]!.rows[0]?.status as IncidentStatus | undefined) ?? null;
  if (!claim) return { status };
  return { status, claimed: results[at + 1]!.rows as Claimed, pending: Number(results[at + 2]!.rows[0]?.n ?? 0) };
}

/**
 * Cancels a running incident: its open actions become `cancelled`, each with its message, and
 * the incident's status and the metrics follow. Answers false when it was not running.
 */
export async function cancelIncident(db: Db, incidentId: string): Promise<boolean> {
  const [cancelled] = await db.batch([
    {
      text: `UPDATE incidents SET status = 'cancelled', ended_at = now(),
                    resolution_time = round(extract(epoch FROM now() - created_at)::numeric, 3)::float8,
                    approval_state = CASE WHEN approval_state = 'pending' THEN NULL ELSE approval_state END
              WHERE incident_id = $1 AND status = ANY($2::text[]) RETURNING incident_id`,
      params: [incidentId, RUNNING],
    },
    {
      text: `WITH open AS (
               UPDATE incident_actions a SET status = 'cancelled', updated_at = now(), ended_at = now(),
                      duration_ms = round(extract(epoch FROM now() - a.started_at) * 1000)
                WHERE a.incident_id = $1 AND a.status IN ('in_progress', 'retrying', 'waiting_approval')
                  AND EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = $1 AND i.status = 'cancelled' AND i.ended_at = now())
               RETURNING a.*)
             INSERT INTO incident_messages (incident_id, key, type, data)
             SELECT a.incident_id, a.incident_id || ':' || a.action_id || ':cancelled:' || a.attempt, 'agent_action', ${ACTION_MESSAGE}
               FROM open a ORDER BY a.position
             ON CONFLICT (key) DO NOTHING`,
      params: [incidentId],
    },
    statusMessage(incidentId, 'cancelled', 'cancelled'),
    metricsMessage(incidentId),
  ]);
  return cancelled!.rows.length > 0;
}

export type ApprovalDecision = 'approved' | 'rejected';

/**
 * Takes the editor's decision on a pending approval, once: answers false when none is pending
 * (decided before, timed out, or the incident is not waiting).
 */
export async function decideApproval(db: Db, incidentId: string, decision: ApprovalDecision, by: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE incidents SET approval_state = $2, approval_decided_by = $3, approval_decided_at = now()
      WHERE incident_id = $1 AND status = 'waiting_approval' AND approval_state = 'pending' AND approval_deadline > now()
      RETURNING incident_id`,
    [incidentId, decision, by],
  );
  return rows.length > 0;
}

/** Puts a decision back when it could not reach the workflow, so it can be taken again. */
export async function undoApproval(db: Db, incidentId: string): Promise<void> {
  await db.query(
    `UPDATE incidents SET approval_state = 'pending', approval_decided_by = NULL, approval_decided_at = NULL
      WHERE incident_id = $1 AND status = 'waiting_approval' AND approval_state IN ('approved', 'rejected')`,
    [incidentId],
  );
}

/** Stores a KPI sample (`before`, `peak`, `after`) the first time it is taken; answers what is stored. */
export async function recordKpis(db: Db, incidentId: string, sample: 'before' | 'peak' | 'after', values: Record<string, number | null>): Promise<Record<string, number | null>> {
  const rows = await db.query<{ values: Record<string, number | null> }>(
    `UPDATE incidents SET kpis = jsonb_build_object($2::text, $3::jsonb) || kpis WHERE incident_id = $1 RETURNING kpis -> $2 AS values`,
    [incidentId, sample, JSON.stringify(values)],
  );
  return rows[0]?.values ?? values;
}

/** The incident's effects window: `from` set at injection, `until` at recovery, each once. */
export async function markEffects(db: Db, incidentId: string, edge: 'from' | 'until'): Promise<Date> {
  const column = edge === 'from' ? 'effects_from' : 'effects_until';
  const rows = await db.query<{ at: string | Date }>(
    `UPDATE incidents SET ${column} = COALESCE(${column}, now()) WHERE incident_id = $1 RETURNING ${column} AS at`,
    [incidentId],
  );
  return new Date(rows[0]!.at);
}

export async function setNotification(db: Db, incidentId: string, status: 'delivered' | 'failed' | 'not_configured'): Promise<void> {
  await db.query(
    `UPDATE incidents SET notification_status = $2, notification_delivered_at = CASE WHEN $2 = 'delivered' THEN COALESCE(notification_delivered_at, now()) END
      WHERE incident_id = $1 AND notification_status <> 'delivered'`,
    [incidentId, status],
  );
}

export const INCIDENT_COLUMNS = `incident_id::text, scenario, title, severity, status, affected_services, affected_regions, affected_products,
  options, time_scale, dashboard, created_by::text, ${iso('created_at')} AS created_at, ${iso('ended_at')} AS ended_at, resolution_time,
  cost_savings::float8 AS cost_savings, cost_inputs, approval_required, approval_state, ${iso('approval_deadline')} AS approval_deadline,
  kpis, ${iso('effects_from')} AS effects_from, ${iso('effects_until')} AS effects_until, notification_status,
  ${iso('notification_delivered_at')} AS notification_delivered_at`;

export const ACTION_COLUMNS = `a.action_id, a.agent_type, a.step, a.kind, a.description, a.status, ${iso('a.started_at')} AS started_at,
  ${iso('a.ended_at')} AS ended_at, a.duration_ms, a.attempt, a.confidence, a.details`;

export interface IncidentRow extends Incident {
  dashboard: string;
  created_by: string | null;
  cost_inputs: Record<string, number>;
  approval_state: 'pending' | 'approved' | 'rejected' | 'timed_out' | null;
  approval_deadline: string | null;
  kpis: Partial<Record<'before' | 'peak' | 'after', Record<string, number | null>>>;
  effects_from: string | null;
  effects_until: string | null;
  notification_status: 'not_configured' | 'pending' | 'delivered' | 'failed';
  notification_delivered_at: string | null;
}

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toIncident(r: Record<string, unknown>): IncidentRow {
  return {
    incident_id: String(r.incident_id),
    scenario: (r.scenario as string | null) ?? null,
    title: String(r.title),
    severity: r.severity as Severity,
    status: r.status as IncidentStatus,
    affected_services: r.affected_services as string[],
    affected_regions: r.affected_regions as string[],
    affected_products: r.affected_products as string[],
    created_at: String(r.created_at),
    ended_at: (r.ended_at as string | null) ?? null,
    resolution_time: num(r.resolution_time),
    cost_savings: num(r.cost_savings),
    approval_required: Boolean(r.approval_required),
    time_scale: Number(r.time_scale),
    options: (json(r.options) ?? {}) as Record<string, unknown>,
    dashboard: String(r.dashboard),
    created_by: (r.created_by as string | null) ?? null,
    cost_inputs: (json(r.cost_inputs) ?? {}) as Record<string, number>,
    approval_state: (r.approval_state as IncidentRow['approval_state']) ?? null,
    approval_deadline: (r.approval_deadline as string | null) ?? null,
    kpis: (json(r.kpis) ?? {}) as IncidentRow['kpis'],
    effects_from: (r.effects_from as string | null) ?? null,
    effects_until: (r.effects_until as string | null) ?? null,
    notification_status: r.notification_status as IncidentRow['notification_status'],
    notification_delivered_at: (r.notification_delivered_at as string | null) ?? null,
  };
}

export function toEntry(r: Record<string, unknown>): TimelineEntry {
  return {
    action_id: String(r.action_id),
    agent_type: r.agent_type as AgentType,
    step: num(r.step),
    kind: r.kind as ActionKind,
    description: String(r.description),
    status: r.status as ActionStatus,
    started_at: String(r.started_at),
    ended_at: (r.ended_at as string | null) ?? null,
    duration_ms: num(r.duration_ms),
    attempt: Number(r.attempt),
    confidence: num(r.confidence),
    details: (json(r.details) ?? {}) as Record<string, unknown>,
  };
}

export async function getIncident(db: Pick<Postgres, 'query'>, incidentId: string): Promise<IncidentRow | null> {
  const rows = await db.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE incident_id = $1`, [incidentId]);
  return rows[0] ? toIncident(rows[0]) : null;
}

export async function getTimeline(db: Pick<Postgres, 'query'>, incidentId: string): Promise<TimelineEntry[]> {
  const rows = await db.query(`SELECT ${ACTION_COLUMNS} FROM incident_actions a WHERE a.incident_id = $1 ORDER BY a.position`, [incidentId]);
  return rows.map(toEntry);
}

export interface ListFilters {
  status?: IncidentStatus | undefined;
  scenario?: string | undefined;
  severity?: Severity | undefined;
}

/** Newest first, keyset-paged on (created_at, incident_id). */
export async function listIncidents(
  db: Pick<Postgres, 'query'>,
  filters: ListFilters,
  after: { created_at: string; incident_id: string } | null,
  limit: number,
): Promise<IncidentRow[]> {
  const rows = await db.query(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR scenario = $2) AND ($3::text IS NULL OR severity = $3)
        AND ($4::timestamptz IS NULL OR (created_at, incident_id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, incident_id DESC
      LIMIT $6`,
    [filters.status ?? null, filters.scenario ?? null, filters.severity ?? null, after?.created_at ?? null, after?.incident_id ?? null, limit],
  );
  return rows.map(toIncident);
}

export interface Metrics {
  incidents_resolved: number;
  total_cost_savings: number;
  avg_mttr: number | null;
  success_rate: number | null;
}

export async function incidentMetrics(db: Pick<Postgres, 'query'>): Promise<Metrics> {
  const [r] = await db.query(METRICS_SQL);
  return {
    incidents_resolved: Number(r!.incidents_resolved),
    total_cost_savings: Number(r!.total_cost_savings),
    avg_mttr: num(r!.avg_mttr),
    success_rate: num(r!.success_rate),
  };
}
