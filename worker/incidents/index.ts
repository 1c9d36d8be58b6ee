/**
 * Incident response: what the routes ask of the domain. Starting stores the incident and creates
 * its IncidentWorkflow instance (workflow.ts); decisions reach the instance as events; reads
 * come from Postgres, where every step has written what it did.
 */
import type { Context } from 'hono';
import { decodeCursor, encodeCursor, scopeHash } from '../analytics/cursor.ts';
import type { AppEnv, Bindings } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Postgres } from '../services/postgres.ts';
import { recoveryEvents, ingest, LINKED_KPIS } from './effects.ts';
import { drainIncident } from './outbox.ts';
import { bundledPlaybook } from './playbook.ts';
import type { Playbook, Scenario } from './scenarios.ts';
import type { IncidentDetail, IncidentOptions, StartIncident } from './schemas.ts';
import { incidentSettings } from './settings.ts';
import type { IncidentSettings } from './settings.ts';
import {
  cancelIncident,
  createIncident,
  decideApproval,
  getIncident,
  getTimeline,
  incidentMetrics,
  listIncidents,
  recordAction,
  RUNNING,
  undoApproval,
} from './store.ts';
import type { IncidentRow, ListFilters } from './store.ts';
import { APPROVAL_EVENT } from './workflow.ts';
import type { ApprovalPayload, IncidentParams } from './workflow.ts';

/** The dashboard incidents are shown on. */
export const INCIDENT_DASHBOARD = 'default';

export const COST_FORMULA = 'savings = cost_per_minute × max(0, manual_mttr_minutes − resolution_minutes)';

const LABELS: Record<(typeof LINKED_KPIS)[number], string> = {
  nps_impact: 'NPS impact',
  issue_sessions_active: 'Active issue sessions',
  open_alerts: 'Open alerts',
};
const LOWER_IS_BETTER = new Set(['issue_sessions_active', 'open_alerts']);
const UNITS: Record<string, string> = { nps_impact: 'points', issue_sessions_active: 'count', open_alerts: 'count' };

export function workflowOf(env: Bindings): Workflow<IncidentParams> {
  const binding = env.INCIDENT_WORKFLOW as Workflow<IncidentParams> | undefined;
  if (!binding) throw new ApiError('config_invalid', 'The INCIDENT_WORKFLOW binding is missing from the worker configuration.');
  return binding;
}

/** The scenarios (checked when the worker loaded, playbook.ts) and the incident settings, or 500 naming what is wrong. */
export function incidentConfig(c: Context<AppEnv>): { playbook: Playbook; settings: IncidentSettings } {
  const settings = incidentSettings(c.env);
  if (!settings.ok) throw new ApiError('config_invalid', `Incident settings are invalid: ${settings.problems.join('; ')}`);
  return { playbook: bundledPlaybook(), settings: settings.settings };
}

export function scenarioSummary(s: Scenario) {
  return {
    id: s.id,
    label: s.label,
    title: s.title,
    severity: s.severity,
    description: s.description,
    affected_services: s.affected.services,
    affected_regions: s.affected.regions,
    affected_products: s.affected.products,
    approval: { required: s.approval.required, timeout_seconds: s.approval.required ? s.approval.timeout_seconds : null },
    remediation_steps: s.remediation.map((r, i) => ({ step: i + 1, action: r.action, compensation: r.compensation })),
  };
}

export async function startIncident(c: Context<AppEnv>, body: StartIncident): Promise<IncidentRow> {
  const { playbook, settings } = incidentConfig(c);
  const options: IncidentOptions = body.options ?? {};
  if (options.fail_rollback && (options.fail_step ?? 0) < 2) {
    throw new ApiError('validation_failed', 'fail_rollback needs a fail_step of 2 or more: step 1 failing leaves nothing to roll back.', {
      errors: [{ pointer: 'body/options/fail_rollback', message: 'needs fail_step ≥ 2' }],
    });
  }
  let scenario: Scenario;
  let described: { title: string; severity: Scenario['severity']; services: string[] } | null = null;
  if ('scenario' in body) {
    const found = playbook.scenarios.get(body.scenario);
    if (!found) {
      throw new ApiError('validation_failed', `No scenario is named ${body.scenario}; the scenarios are ${[...playbook.scenarios.keys()].join(', ')}.`, {
        errors: [{ pointer: 'body/scenario', message: `unknown scenario ${body.scenario}` }],
      });
    }
    scenario = found;
  } else {
    scenario = playbook.custom;
    described = { title: body.title, severity: body.severity, services: body.affected_services };
  }
  const db = c.get('services').postgres;
  const identity = c.get('identity')!;
  const created = await createIncident(
    db,
    {
      incident_id: crypto.randomUUID(),
      scenario: described ? null : scenario.id,
      title: described?.title ?? scenario.title,
      severity: described?.severity ?? scenario.severity,
      affected_services: described?.services ?? scenario.affected.services,
      affected_regions: scenario.affected.regions,
      affected_products: scenario.affected.products,
      options,
      time_scale: settings.INCIDENT_TIME_SCALE,
      dashboard: INCIDENT_DASHBOARD,
      created_by: identity.userId,
      approval_required: scenario.approval.required,
      notification_configured: settings.INCIDENT_WEBHOOK_URL !== undefined,
    },
    settings.INCIDENT_LIMIT,
  );
  if (!created.ok) {
    throw new ApiError('incident_limit', `${created.running} incidents are running; at most ${settings.INCIDENT_LIMIT} may run at once. Retry when one ends.`, {
      headers: { 'retry-after': '5', 'x-incident-limit': String(settings.INCIDENT_LIMIT) },
    });
  }
  const incident = created.incident as IncidentRow;
  try {
    await workflowOf(c.env).create({ id: incident.incident_id, params: { incident_id: incident.incident_id } });
  } catch (err) {
    // Without its workflow the incident would sit "active" forever: take it back, whole.
    await db.query('DELETE FROM incidents WHERE incident_id = $1', [incident.incident_id]);
    if (err instanceof ApiError) throw err;
    c.get('log').error('incident workflow not created', { incident_id: incident.incident_id, error: err });
    throw new ApiError('workflow_unavailable', 'The incident workflow could not be started; nothing was kept. Try again.');
  }
  await drainIncident(c.env, db, incident.incident_id, incident.dashboard, c.get('log'));
  return incident;
}

async function runningIncident(db: Pick<Postgres, 'query'>, id: string): Promise<IncidentRow> {
  const incident = await getIncident(db, id);
  if (!incident) throw new ApiError('not_found', `No incident ${id}.`);
  return incident;
}

/** Approve or reject the pending remediation: once, while it is pending and before its deadline. */
export async function decide(c: Context<AppEnv>, id: string, decision: ApprovalPayload['decision']): Promise<IncidentRow> {
  const db = c.get('services').postgres;
  const incident = await runningIncident(db, id);
  const by = c.get('identity')!.userId;
  if (!(await decideApproval(db, id, decision, by))) {
    const now = await getIncident(db, id);
    throw new ApiError('incident_state', stateSentence(now ?? incident, 'decide on'));
  }
  try {
    const instance = await workflowOf(c.env).get(id);
    await instance.sendEvent({ type: APPROVAL_EVENT, payload: { decision, by } satisfies ApprovalPayload });
  } catch (err) {
    await undoApproval(db, id);
    if (err instanceof ApiError) throw err;
    c.get('log').error('approval not delivered to the workflow', { incident_id: id, error: err });
    throw new ApiError('workflow_unavailable', 'The decision could not reach the incident’s workflow; it is still pending. Try again.');
  }
  return (await getIncident(db, id)) ?? incident;
}

/** Stops a running incident: the workflow is terminated, open actions cancelled, completed remediation rolled back, its effects cleared. */
export async function cancel(c: Context<AppEnv>, id: string): Promise<IncidentRow> {
  const db = c.get('services').postgres;
  const incident = await runningIncident(db, id);
  if (!(await cancelIncident(db, id))) throw new ApiError('incident_state', stateSentence(incident, 'cancel'));
  const log = c.get('log');
  try {
    const instance = await workflowOf(c.env).get(id);
    await instance.terminate();
  } catch (err) {
    // The run stops at its next step anyway: every step checks that the incident is still running.
    log.warn('workflow not terminated; it stops at its next step', { incident_id: id, error: err });
  }
  await rollBackCompleted(db, incident, log);
  await clearEffects(c.env, db, incident, log);
  await drainIncident(c.env, db, id, incident.dashboard, log);
  return (await getIncident(db, id)) ?? incident;
}

/**
 * A cancelled incident's completed remediation steps are undone, newest first, as a failed
 * step's are in the workflow: each compensation is a `rollback.n` action taking its scripted
 * time, and the step it undoes becomes `rolled_back`, or `rollback_failed` when the compensation
 * fails (the others still run). The incident is already cancelled, so the stopped run cannot
 * complete another step meanwhile; the writes are keyed like every other transition.
 */
async function rollBackCompleted(db: Postgres, incident: IncidentRow, log: Logger): Promise<void> {
  const playbook = bundledPlaybook();
  const scenario = (incident.scenario ? playbook.scenarios.get(incident.scenario) : undefined) ?? playbook.custom;
  const timeline = await getTimeline(db, incident.incident_id);
  const during = ['cancelled'] as const;
  // A step start the run wrote as the cancel committed escaped its sweep; the run is terminated now, so this one is the last.
  for (const t of timeline.filter((a) => a.status === 'in_progress' || a.status === 'retrying')) {
    await recordAction(db, incident.incident_id, { action_id: t.action_id, agent_type: t.agent_type, kind: t.kind, step: t.step, description: t.description, status: 'cancelled' }, { during });
  }
  const completed = timeline
    .filter((t) => t.kind === 'remediation' && t.status === 'completed' && t.step !== null)
    .map((t) => t.step!)
    .sort((a, b) => b - a);
  const failRollback = incident.options.fail_rollback === true;
  for (const n of completed) {
    const s = scenario.remediation[n - 1];
    if (!s) continue;
    const base = { action_id: `rollback.${n}`, agent_type: 'resolution' as const, kind: 'rollback' as const, step: n, description: s.compensation };
    const forward = { action_id: `remediation.${n}`, agent_type: 'resolution' as const, kind: 'remediation' as const, step: n, description: s.action };
    await recordAction(db, incident.incident_id, { ...base, status: 'in_progress', details: { reason: 'cancelled' } }, { during });
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.round((s.seconds / 2) * 1_000 * incident.time_scale))));
    // The scripted compensation failure (fail_rollback) strikes the newest completed step, as in the workflow.
    if (failRollback && n === completed[0]) {
      const error = `${s.compensation} failed`;
      log.warn('compensation failed on cancel', { incident_id: incident.incident_id, step: n });
      await recordAction(db, incident.incident_id, { ...base, status: 'failed', details: { error } }, { during });
      await recordAction(db, incident.incident_id, { ...forward, status: 'rollback_failed', details: { rollback_error: error } }, { during });
      continue;
    }
    await recordAction(db, incident.incident_id, { ...base, status: 'completed' }, { during });
    await recordAction(db, incident.incident_id, { ...forward, status: 'rolled_back' }, { during });
  }
}

/** A cancelled incident's injected alerts and sessions are closed, so the KPIs it moved come back. */
async function clearEffects(env: Bindings, db: Postgres, incident: IncidentRow, log: Logger): Promise<void> {
  if (!incident.effects_from || !incident.created_by) return;
  const playbook = bundledPlaybook();
  const scenario = (incident.scenario ? playbook.scenarios.get(incident.scenario) : undefined) ?? playbook.custom;
  const at = new Date(incident.ended_at ?? Date.now());
  const target = { incident_id: incident.incident_id, regions: incident.affected_regions, products: incident.affected_products, services: incident.affected_services };
  try {
    // Only what was injected: a cancel during injection finds some sessions missing, and ingest refuses those.
    const events = recoveryEvents(scenario, target, at);
    const present = new Set(
      (
        await db.query<{ id: string }>(
          `SELECT alert_id AS id FROM alerts WHERE alert_id = ANY($1::text[]) UNION ALL SELECT session_id FROM issue_sessions WHERE session_id = ANY($1::text[])`,
          [events.map((e) => ('alert_id' in e.data ? e.data.alert_id : 'session_id' in e.data ? e.data.session_id : ''))],
        )
      ).map((r) => r.id),
    );
    const applicable = events.filter((e) => present.has('alert_id' in e.data ? e.data.alert_id : 'session_id' in e.data ? e.data.session_id : ''));
    if (applicable.length > 0) await ingest(env, db, applicable, incident.created_by, incident.dashboard, log);
  } catch (err) {
    log.warn('cancelled incident effects not cleared', { incident_id: incident.incident_id, error: err });
  }
}

function stateSentence(incident: IncidentRow, verb: string): string {
  if (!RUNNING.includes(incident.status)) return `Incident ${incident.incident_id} has ended (${incident.status}); there is nothing to ${verb}.`;
  if (verb === 'cancel') return `Incident ${incident.incident_id} cannot be cancelled now (${incident.status}).`;
  if (!incident.approval_required) return `Incident ${incident.incident_id} runs unattended; there is no approval to ${verb}.`;
  if (incident.approval_state === 'approved' || incident.approval_state === 'rejected') return `Incident ${incident.incident_id} was already ${incident.approval_state}.`;
  if (incident.approval_state === 'pending' && incident.approval_deadline && Date.parse(incident.approval_deadline) <= Date.now()) {
    return `The approval for incident ${incident.incident_id} timed out.`;
  }
  return `Incident ${incident.incident_id} is not waiting for approval (${incident.status}).`;
}

export function publicIncident(i: IncidentRow) {
  return {
    incident_id: i.incident_id,
    scenario: i.scenario,
    title: i.title,
    severity: i.severity,
    status: i.status,
    affected_services: i.affected_services,
    affected_regions: i.affected_regions,
    affected_products: i.affected_products,
    created_at: i.created_at,
    ended_at: i.ended_at,
    resolution_time: i.resolution_time,
    cost_savings: i.cost_savings,
    approval_required: i.approval_required,
    time_scale: i.time_scale,
    options: i.options,
  };
}

export async function incidentDetail(c: Context<AppEnv>, id: string): Promise<IncidentDetail> {
  const db = c.get('services').postgres;
  const { playbook, settings } = incidentConfig(c);
  const incident = await getIncident(db, id);
  if (!incident) throw new ApiError('not_found', `No incident ${id}.`);
  const [timeline, signals] = await Promise.all([getTimeline(db, id), linkedSignals(db, incident)]);
  const scenario = (incident.scenario ? playbook.scenarios.get(incident.scenario) : undefined) ?? playbook.custom;
  const kpis = LINKED_KPIS.map((metric) => {
    const before = incident.kpis.before?.[metric] ?? null;
    const peak = incident.kpis.peak?.[metric] ?? null;
    const after = incident.kpis.after?.[metric] ?? null;
    const seen = [before, peak, after].filter((v): v is number => typeof v === 'number');
    const worst = seen.length === 0 ? null : LOWER_IS_BETTER.has(metric) ? Math.max(...seen) : Math.min(...seen);
    return { metric, label: LABELS[metric], before, worst, after, unit: UNITS[metric]!, href: `/#kpi-${metric}` };
  });
  const resolutionMinutes = incident.resolution_time === null ? null : Math.round((incident.resolution_time / 60) * 10_000) / 10_000;
  return {
    ...publicIncident(incident),
    timeline,
    linked: { kpis, signals },
    approval: incident.approval_required && incident.approval_state !== null
      ? { pending: incident.approval_state === 'pending' && incident.status === 'waiting_approval', deadline: incident.approval_deadline }
      : null,
    cost: {
      formula: COST_FORMULA,
      inputs: {
        cost_per_minute: incident.cost_inputs.cost_per_minute ?? scenario.cost.cost_per_minute,
        manual_mttr_minutes: incident.cost_inputs.manual_mttr_minutes ?? scenario.cost.manual_mttr_minutes,
        resolution_minutes: incident.cost_inputs.resolution_minutes ?? resolutionMinutes,
      },
      savings: incident.cost_savings,
    },
    notification: {
      configured: incident.notification_status !== 'not_configured' && (settings.INCIDENT_WEBHOOK_URL !== undefined || incident.notification_status !== 'pending'),
      delivered_at: incident.notification_delivered_at,
      status: incident.notification_status,
    },
  };
}

/**
 * Quality signals opened for the incident's regions and products while it ran (from an hour
 * before it started, since a signal's window can lead the alert that started it). Empty where
 * the signals tables are not migrated.
 */
async function linkedSignals(db: Pick<Postgres, 'query'>, incident: IncidentRow) {
  const [exists] = await db.query<{ present: boolean }>("SELECT to_regclass('public.signals') IS NOT NULL AS present");
  if (!exists?.present) return [];
  const rows = await db.query<{ id: string; severity: string; metric_name: string | null; entity_label: string }>(
    `SELECT id, severity, metric_name, entity_label FROM signals
      WHERE ((entity_type = 'region' AND (entity_id = ANY($1::text[]) OR entity_label = ANY($1::text[])))
          OR (entity_type = 'product' AND (entity_id = ANY($2::text[]) OR entity_label = ANY($2::text[]))))
        AND detected_at >= $3::timestamptz - interval '1 hour' AND detected_at <= COALESCE($4::timestamptz, now())
      ORDER BY detected_at DESC LIMIT 20`,
    [incident.affected_regions, incident.affected_products, incident.created_at, incident.ended_at],
  );
  return rows.map((r) => ({ id: r.id, severity: r.severity, metric_name: r.metric_name, entity_label: r.entity_label, href: `/signals/${encodeURIComponent(r.id)}` }));
}

export interface ListQuery extends ListFilters {
  'page[size]'?: string | undefined;
  'page[after]'?: string | undefined;
}

export async function incidentPage(c: Context<AppEnv>, query: ListQuery, url: URL) {
  const db = c.get('services').postgres;
  const size = query['page[size]'] === undefined ? 25 : Number(query['page[size]']);
  const filters = Object.fromEntries(
    Object.entries({ status: query.status, scenario: query.scenario, severity: query.severity }).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const scope = await scopeHash({ incidents: filters });
  const secret = c.get('config').SESSION_SECRET;
  let after: { created_at: string; incident_id: string } | null = null;
  const token = query['page[after]'];
  if (token) {
    const state = await decodeCursor(token, scope, secret);
    after = { created_at: String(state.after[0]), incident_id: state.after[1] };
  }
  const rows = await listIncidents(db, query, after, size + 1);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  let next: string | null = null;
  if (rows.length > size && last) {
    const cursor = await encodeCursor({ scope, window: ['', ''], after: [last.created_at, last.incident_id] }, secret);
    const nextUrl = new URL(url);
    nextUrl.searchParams.set('page[after]', cursor);
    next = `${nextUrl.pathname}${nextUrl.search}`;
  }
  return {
    data: page.map(publicIncident),
    meta: { has_more: rows.length > size, page_size: size, filters },
    links: { self: `${url.pathname}${url.search}`, next },
  };
}

export { incidentMetrics };
