import { WorkflowEntrypoint } from 'cloudflare:workers';
import type { WorkflowEvent, WorkflowStep, WorkflowStepConfig } from 'cloudflare:workers';
import { z } from 'zod';
import type { Bindings } from '../config/env.ts';
import { loadConfig } from '../config/env.ts';
import { listMetrics } from '../metrics/catalog/store.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import { createPostgres } from '../services/postgres.ts';
import type { Postgres } from '../services/postgres.ts';
import { detect, diagnose, predict } from './agents.ts';
import { ingest, injectionEvents, recoveryEvents, sampleKpis } from './effects.ts';
import type { AgentType, IncidentStatus } from './messages.ts';
import { postWebhook, slackPayload } from './notify.ts';
import { drainIncident, pendingMessages, publishClaimed, withRetries } from './outbox.ts';
import { bundledPlaybook } from './playbook.ts';
import type { Scenario } from './scenarios.ts';
import type { TimelineEntry } from './schemas.ts';
import { incidentSettings } from './settings.ts';
import { changeAndClaim, changeIncident, getIncident, markEffects, recordAction, recordKpis, setNotification } from './store.ts';
import type { IncidentRow, Recorded, Transition } from './store.ts';

export interface IncidentParams {
  incident_id: string;
}

/** What the workflow's approval event carries (sent by POST /v1/incidents/{id}/approve|reject). */
export const APPROVAL_EVENT = 'approval';
export const ApprovalPayloadSchema = z.strictObject({ decision: z.enum(['approved', 'rejected']), by: z.string() });
export type ApprovalPayload = z.infer<typeof ApprovalPayloadSchema>;

export interface IncidentOutcome {
  incident_id: string;
  status: IncidentStatus | null;
}

/** The incident ended under this run (cancelled, or finished by another run): stop quietly. */
class Ended extends Error {}

const SAFETY_SECONDS = 0.6;

/**
 * One incident, durably: inject its effects, then detection → diagnosis → prediction →
 * resolution (safety checks, the approval gate when the scenario has one, five remediation
 * steps, rollback of the completed ones in reverse order when a step still fails after its
 * retries, recovery) → communication, then the end status with its cost figures.
 *
 * Each action is stored and published by the step that performs it: a step writes its row and
 * its message in one transaction (store.ts), keyed so a replayed step writes nothing new, and
 * drains the incident's outbox to the hub. The engine caches every completed step's result, so
 * a restart replays the run without repeating what it finished; the one step that was under way
 * runs again, and its writes are idempotent. The scripted work between a phase's start and end
 * is waited inside its step, compressed by INCIDENT_TIME_SCALE; the pause for the safety checks is
 * a durable `step.sleep`.
 */
export class IncidentWorkflow extends WorkflowEntrypoint<Bindings, IncidentParams> {
  override async run(event: Readonly<WorkflowEvent<IncidentParams>>, step: WorkflowStep): Promise<IncidentOutcome> {
    const id = event.payload.incident_id;
    const run = new Run(this.env, step, id);
    try {
      return await run.execute();
    } catch (err) {
      if (err instanceof Ended) return { incident_id: id, status: await run.currentStatus() };
      throw err;
    }
  }
}

type Loaded = Pick<
  IncidentRow,
  'incident_id' | 'scenario' | 'title' | 'severity' | 'status' | 'affected_services' | 'affected_regions' | 'affected_products' | 'time_scale' | 'dashboard' | 'created_by' | 'created_at'
> & { fail_step: number | null; fail_rollback: boolean };

class Run {
  private readonly env: Bindings;
  private readonly step: WorkflowStep;
  private readonly id: string;
  private readonly log: Logger;
  private readonly settings;
  private readonly infra: WorkflowStepConfig;

  constructor(env: Bindings, step: WorkflowStep, id: string) {
    this.env = env;
    this.step = step;
    this.id = id;
    this.log = rootLogger.child({ component: 'incident-workflow', incident_id: id });
    const settings = incidentSettings(env);
    if (!settings.ok) throw new Error(`incident settings are invalid: ${settings.problems.join('; ')}`);
    this.settings = settings.settings;
    // Steps that only write and publish: retried through a Postgres or hub outage, not scaled.
    this.infra = { retries: { limit: 6, delay: 500, backoff: 'exponential' }, timeout: bundledPlaybook().step_timeout_seconds * 1_000 };
  }

  /**
   * step.do for results that are plain JSON (rows with `details` objects), which the engine
   * stores as they are; its Serializable type cannot see through Record<string, unknown>.
   */
  private durable<T>(name: string, config: WorkflowStepConfig, fn: (ctx: { attempt: number }) => Promise<T>): Promise<T> {
    return this.step.do(name, config, (ctx) => fn(ctx) as Promise<never>) as Promise<T>;
  }

  /** Runs fn with a Postgres client of its own (a step may run in a fresh isolate). */
  private async db<T>(fn: (db: Postgres) => Promise<T>): Promise<T> {
    const loaded = loadConfig(this.env);
    if (!loaded.ok) throw new Error(`worker configuration is invalid: ${loaded.problems.join('; ')}`);
    const db = createPostgres(loaded.config, undefined, this.log);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  private targetOf(inc: Pick<Loaded, 'affected_regions' | 'affected_products' | 'affected_services'>) {
    return { incident_id: this.id, regions: inc.affected_regions, products: inc.affected_products, services: inc.affected_services };
  }

  private scenarioOf(inc: Pick<Loaded, 'scenario'>): Scenario {
    const playbook = bundledPlaybook();
    return (inc.scenario ? playbook.scenarios.get(inc.scenario) : undefined) ?? playbook.custom;
  }

  async currentStatus(): Promise<IncidentStatus | null> {
    return this.durable('status', this.infra, () => this.db(async (db) => (await getIncident(db, this.id))?.status ?? null));
  }

  /**
   * Inside a step: stores a transition and publishes what waits in the outbox. `running` false
   * means the incident has ended; the caller stops once outside the step (an error thrown inside
   * one would be retried).
   */
  private async note(db: Postgres, t: Transition, dash: string, meanwhile?: (r: Recorded) => Promise<unknown>): Promise<Recorded> {
    const { claimed, ...r } = await withRetries(() => recordAction(db, this.id, t, { claim: true }));
    await Promise.all([publishClaimed(this.env, db, this.id, dash, claimed ?? [], this.log), meanwhile?.(r)]);
    return r;
  }

  /**
   * One timed action as one step: its start is stored and published, the scripted work takes its
   * time, `work` concludes, and its end is stored and published. A step the engine runs again (a
   * retry, or a restart while it was under way) finds its start stored and repeats only the wait
   * and the conclusion, so nothing shows twice.
   */
  private async timed(
    name: string,
    config: WorkflowStepConfig,
    t: Omit<Transition, 'status'>,
    waitMs: number,
    dash: string,
    work: (db: Postgres, attempt: number) => Promise<{ confidence?: number | null; details?: Record<string, unknown> }>,
    /** A transition that follows the end at once, stored in the same step (one engine round fewer). */
    next?: (ended: TimelineEntry) => Transition,
  ): Promise<Recorded> {
    const done = await this.durable(name, config, ({ attempt }) =>
      this.db(async (db) => {
        // The scripted work's time starts once the start is stored; its publishing goes on meanwhile.
        const started = await this.note(db, { ...t, status: 'in_progress' }, dash, (r) =>
          r.running ? new Promise((resolve) => setTimeout(resolve, waitMs)) : Promise.resolve(),
        );
        if (!started.running) return started;
        const found = await work(db, attempt);
        const ended = await this.note(db, { ...t, status: 'completed', ...found }, dash);
        if (!ended.running || !ended.row || !next) return ended;
        const following = await this.note(db, next(ended.row), dash);
        return { ...ended, running: following.running };
      }),
    );
    if (!done.running) throw new Ended();
    return done;
  }

  /** Stores a transition and publishes what waits in the outbox; stops the run once the incident has ended. */
  private async record(name: string, t: Transition, dashboard: string): Promise<Recorded> {
    const recorded = await this.durable(name, this.infra, () =>
      this.db((db) => this.note(db, t, dashboard)),
    );
    if (!recorded.running) throw new Ended();
    return recorded;
  }

  async execute(): Promise<IncidentOutcome> {
    // Loading the incident and injecting its effects are one step: a step more is an engine
    // round more for every incident, and both are idempotent. The effects land through ingest,
    // bracketed by KPI samples for the incident's page.
    // Step names differ from the ones each part had as a step of its own, so a run started before
    // does not read their cached results as this step's.
    const started = await this.durable('start', this.infra, () =>
      this.db(async (db): Promise<{ inc: Loaded; injected: { from: string; applied: number; published: number } | null } | null> => {
        const row = await getIncident(db, this.id);
        if (!row) return null;
        const { options } = row;
        const inc: Loaded = {
          incident_id: row.incident_id,
          scenario: row.scenario,
          title: row.title,
          severity: row.severity,
          status: row.status,
          affected_services: row.affected_services,
          affected_regions: row.affected_regions,
          affected_products: row.affected_products,
          time_scale: row.time_scale,
          dashboard: row.dashboard,
          created_by: row.created_by,
          created_at: row.created_at,
          fail_step: typeof options.fail_step === 'number' ? options.fail_step : null,
          fail_rollback: options.fail_rollback === true,
        };
        if (inc.status !== 'active' && inc.status !== 'waiting_approval') return { inc, injected: null };
        const scenario = this.scenarioOf(inc);
        const target = this.targetOf(inc);
        const catalog = await listMetrics(db);
        const before = await sampleKpis(db, catalog);
        const [, at] = await Promise.all([recordKpis(db, this.id, 'before', before), markEffects(db, this.id, 'from')]);
        const result = await ingest(this.env, db, injectionEvents(scenario, target, at), inc.created_by ?? '', inc.dashboard, this.log, catalog);
        await recordKpis(db, this.id, 'peak', await sampleKpis(db, catalog));
        return { inc, injected: { from: at.toISOString(), ...result } };
      }),
    );
    if (!started) throw new Error(`incident ${this.id} is not stored`);
    const { inc, injected } = started;
    if (!injected) return { incident_id: this.id, status: inc.status };
    const playbook = bundledPlaybook();
    const scenario = this.scenarioOf(inc);
    const scaled = (seconds: number) => Math.max(1, Math.round(seconds * 1_000 * inc.time_scale));
    const retries = playbook.retries;
    const scripted: WorkflowStepConfig = {
      retries: { limit: retries.limit, delay: scaled(retries.delay_seconds), backoff: 'constant' },
      timeout: playbook.step_timeout_seconds * 1_000,
    };
    const dash = inc.dashboard;
    const target = this.targetOf(inc);
    const cost = scenario.cost;
    const windowFrom = new Date(new Date(injected.from).getTime() - 1_000);
    const windowNow = () => ({ from: windowFrom, to: new Date() });

    const phase = async (
      agent: AgentType,
      description: string,
      seconds: number,
      conclude: (db: Postgres) => Promise<{ confidence: number | null; details: Record<string, unknown> }>,
      next?: (ended: TimelineEntry) => Transition,
    ) => {
      const name = next ? `${agent}:then` : agent;
      const done = await this.timed(name, this.infra, { action_id: agent, agent_type: agent, kind: 'phase', step: null, description }, scaled(seconds), dash, (db) => conclude(db), next);
      if (!done.running || !done.row) throw new Ended();
      return done.row;
    };

    const detection = await phase('detection', 'Analyzing alerts, sessions and claims for anomalies', scenario.phases.detection, async (db) => {
      const d = await detect(db, windowNow(), inc.affected_services, inc.affected_regions, inc.affected_products);
      return { confidence: d.confidence, details: { ...d.details, events_injected: injected.applied } };
    });
    const diagnosis = await phase('diagnosis', 'Correlating alerts and escalations to find the root cause', scenario.phases.diagnosis, async (db) => {
      const d = await diagnose(db, windowNow(), inc.affected_services);
      return { confidence: d.confidence, details: { service: d.service, region: d.region, product: d.product, root_cause: d.root_cause, ...d.details } };
    });
    const service = String(diagnosis.details.service ?? inc.affected_services[0]);
    const resolutionBase = { action_id: 'resolution', agent_type: 'resolution' as const, kind: 'phase' as const, step: null, description: `Remediating ${service}: safety checks, then five steps` };
    // Resolution starts in prediction's step, with safety checks from what the phases established.
    const prediction = await phase(
      'prediction',
      'Forecasting cascade risk from the rate of change',
      scenario.phases.prediction,
      async (db) => {
        const p = await predict(db, windowNow(), inc.affected_regions, cost);
        return { confidence: p.cascade_risk, details: { cascade_risk: p.cascade_risk, ...p.details } };
      },
      (predicted) => ({ ...resolutionBase, status: 'in_progress', details: { safety_checks: safetyChecks(scenario, service, predicted.confidence) } }),
    );
    const found = {
      service,
      region: (diagnosis.details.region as string | null) ?? null,
      product: (diagnosis.details.product as string | null) ?? null,
      root_cause: String(diagnosis.details.root_cause ?? inc.title),
      detection_confidence: detection.confidence ?? 0,
      cascade_risk: prediction.confidence ?? 0,
    };
    await this.step.sleep('resolution:safety', scaled(SAFETY_SECONDS));

    if (scenario.approval.required) {
      const approved = await this.approvalGate(dash, scaled(scenario.approval.timeout_seconds), cost);
      if (!approved) return { incident_id: this.id, status: await this.currentStatus() };
    }

    const completed: number[] = [];
    let failedStep: number | null = null;
    for (const [index, s] of scenario.remediation.entries()) {
      const n = index + 1;
      const actionId = `remediation.${n}`;
      const base = { action_id: actionId, agent_type: 'resolution' as const, kind: 'remediation' as const, step: n, description: s.action };
      try {
        await this.timed(actionId, scripted, base, scaled(s.seconds), dash, async (_db, attempt) => {
          if (inc.fail_step === n) await this.failAttempt(base, attempt, retries.limit, `${s.action} did not take effect`, dash);
          return { details: { compensation: s.compensation } };
        });
      } catch (err) {
        if (err instanceof Ended) throw err;
        failedStep = n;
        await this.record(`${actionId}:failed`, { ...base, status: 'failed', attempt: retries.limit + 1, details: { error: errorText(err), attempts: retries.limit + 1 } }, dash);
        break;
      }
      completed.push(n);
    }

    if (failedStep !== null) {
      // Compensate the completed steps, newest first; a compensation that fails is recorded as such and the rest still run.
      const undone: number[] = [];
      const stuck: number[] = [];
      for (const n of [...completed].reverse()) {
        const s = scenario.remediation[n - 1]!;
        const rollbackId = `rollback.${n}`;
        const base = { action_id: rollbackId, agent_type: 'resolution' as const, kind: 'rollback' as const, step: n, description: s.compensation };
        const forward = { action_id: `remediation.${n}`, agent_type: 'resolution' as const, kind: 'remediation' as const, step: n, description: s.action };
        try {
          await this.timed(rollbackId, scripted, base, scaled(s.seconds / 2), dash, async (_db, attempt) => {
            if (inc.fail_rollback && n === completed.at(-1)) await this.failAttempt(base, attempt, retries.limit, `${s.compensation} failed`, dash);
            return {};
          });
        } catch (err) {
          if (err instanceof Ended) throw err;
          stuck.push(n);
          await this.record(`${rollbackId}:failed`, { ...base, status: 'failed', attempt: retries.limit + 1, details: { error: errorText(err), attempts: retries.limit + 1 } }, dash);
          await this.record(`remediation.${n}:rollback_failed`, { ...forward, status: 'rollback_failed', details: { rollback_error: errorText(err) } }, dash);
          continue;
        }
        undone.push(n);
        await this.record(`remediation.${n}:rolled_back`, { ...forward, status: 'rolled_back' }, dash);
      }
      await this.record(
        'resolution:failed',
        {
          action_id: 'resolution',
          agent_type: 'resolution',
          kind: 'phase',
          step: null,
          description: `Remediating ${found.service}: safety checks, then five steps`,
          status: 'failed',
          details: { failed_step: failedStep, rolled_back: undone, rollback_failed: stuck },
        },
        dash,
      );
      await this.communicate(inc, scenario, found, 'failed', completed.length, dash);
      return { incident_id: this.id, status: await this.finish('failed', cost, dash) };
    }

    // Recovery and the end of resolution in one step.
    const resolved = await this.durable('recovery:resolved', this.infra, () =>
      this.db(async (db) => {
        const at = await markEffects(db, this.id, 'until');
        const catalog = await listMetrics(db);
        const result = await ingest(this.env, db, recoveryEvents(scenario, target, at), inc.created_by ?? '', dash, this.log, catalog);
        const after = await recordKpis(db, this.id, 'after', await sampleKpis(db, catalog));
        return this.note(
          db,
          { ...resolutionBase, status: 'completed', confidence: 1, details: { steps_completed: completed.length, recovery_events: result.applied, kpis_after: after } },
          dash,
        );
      }),
    );
    if (!resolved.running) throw new Ended();
    await this.communicate(inc, scenario, found, 'resolved', completed.length, dash);
    return { incident_id: this.id, status: await this.finish('resolved', cost, dash) };
  }

  /**
   * A scripted failure inside a step: a retry to come is recorded (best effort: the failure that
   * ends the retries is recorded durably by the caller), then the step throws.
   */
  private async failAttempt(base: Omit<Transition, 'status'>, attempt: number, limit: number, message: string, dash: string): Promise<never> {
    if (attempt <= limit) {
      try {
        await this.db(async (db) => {
          await recordAction(db, this.id, { ...base, status: 'retrying', attempt: attempt + 1, details: { error: message, failed_attempt: attempt } });
          await drainIncident(this.env, db, this.id, dash, this.log);
        });
      } catch (err) {
        this.log.warn('retry not recorded', { action_id: base.action_id, error: err });
      }
    }
    throw new Error(message);
  }

  /** Waits for an editor; answers whether remediation may go on (the incident has ended otherwise). */
  private async approvalGate(dash: string, timeoutMs: number, cost: Scenario['cost']): Promise<boolean> {
    const base = { action_id: 'approval', agent_type: 'resolution' as const, kind: 'approval' as const, step: null, description: 'Waiting for an editor to approve remediation' };
    const open = await this.durable('approval:open', this.infra, () =>
      this.db(async (db) => {
        // The deadline stored is set before the wait starts, so one the API accepts is always in time for the workflow.
        const deadline = new Date(Date.now() + timeoutMs);
        const r = await recordAction(db, this.id, { ...base, status: 'waiting_approval', details: { deadline: deadline.toISOString(), timeout_ms: timeoutMs } });
        if (r.running) await changeIncident(db, this.id, { to: 'waiting_approval', key: 'waiting_approval', from: ['active'], approval: { state: 'pending', deadline } });
        await drainIncident(this.env, db, this.id, dash, this.log);
        // A run restarted while the gate was open (revive.ts) finds the first deadline stored and keeps it: it waits only what is left.
        const stored = (await getIncident(db, this.id))?.approval_deadline;
        return { running: r.running, deadline: stored ?? deadline.toISOString() };
      }),
    );
    if (!open.running) throw new Ended();
    const remainingMs = Math.max(1, Date.parse(open.deadline) - Date.now());
    let received: unknown;
    try {
      received = (await this.step.waitForEvent<ApprovalPayload>('approval', { type: APPROVAL_EVENT, timeout: remainingMs })).payload;
    } catch (err) {
      this.log.info('approval timed out', { error: err });
      await this.durable('approval:timed_out', this.infra, () =>
        this.db(async (db) => {
          await recordAction(db, this.id, { ...base, status: 'timed_out', details: { reason: 'no decision before the deadline' } });
          await recordAction(db, this.id, { action_id: 'resolution', agent_type: 'resolution', kind: 'phase', step: null, description: 'Remediation not started', status: 'cancelled' });
          await changeIncident(db, this.id, { to: 'failed', key: 'failed', approval: { state: 'timed_out' }, end: cost });
          await drainIncident(this.env, db, this.id, dash, this.log);
        }),
      );
      await this.settle(dash);
      return false;
    }
    const payload = ApprovalPayloadSchema.parse(received);
    const approved = payload.decision === 'approved';
    await this.durable('approval:decided', this.infra, () =>
      this.db(async (db) => {
        await recordAction(db, this.id, { ...base, status: payload.decision, details: { decided_by: payload.by } });
        if (approved) {
          await changeIncident(db, this.id, { to: 'active', key: 'approved', from: ['waiting_approval'] });
        } else {
          await recordAction(db, this.id, { action_id: 'resolution', agent_type: 'resolution', kind: 'phase', step: null, description: 'Remediation rejected by an editor', status: 'cancelled' });
          await changeIncident(db, this.id, { to: 'cancelled', key: 'rejected', end: cost });
        }
        await drainIncident(this.env, db, this.id, dash, this.log);
      }),
    );
    if (!approved) await this.settle(dash);
    return approved;
  }

  private async communicate(inc: Loaded, scenario: Scenario, found: { service: string; region: string | null; product: string | null; root_cause: string; detection_confidence: number; cascade_risk: number }, outcome: 'resolved' | 'failed', steps: number, dash: string): Promise<void> {
    const base = { action_id: 'communication', agent_type: 'communication' as const, kind: 'notification' as const, step: null, description: 'Notifying the on-call channel' };
    const webhook = this.settings.INCIDENT_WEBHOOK_URL;
    const waitMs = Math.max(1, Math.round(scenario.phases.communication * 1_000 * inc.time_scale));
    try {
      await this.timed('communication', { retries: { limit: 3, delay: 500, backoff: 'exponential' }, timeout: 30_000 }, base, waitMs, dash, async (db) => {
        if (!webhook) {
          await setNotification(db, this.id, 'not_configured');
          return { details: { notifications: [{ channel: 'slack', configured: false, delivered: false }] } };
        }
        const current = await getIncident(db, this.id);
        // A run after the post went out must not post again.
        if (current?.notification_status !== 'delivered') {
          const payload = slackPayload({ incident_id: this.id, title: inc.title, severity: inc.severity, status: outcome, steps_completed: steps, url: null, ...found });
          await postWebhook(webhook, payload, 10_000);
          await setNotification(db, this.id, 'delivered');
        }
        return { details: { notifications: [{ channel: 'slack', configured: true, delivered: true }] } };
      });
    } catch (err) {
      if (err instanceof Ended) throw err;
      const undelivered = await this.durable('communication:undelivered', this.infra, () =>
        this.db(async (db) => {
          await setNotification(db, this.id, 'failed');
          return this.note(db, { ...base, status: 'failed', details: { notifications: [{ channel: 'slack', configured: true, delivered: false, error: errorText(err) }] } }, dash);
        }),
      );
      if (!undelivered.running) throw new Ended();
    }
  }

  /** Ends the incident and waits until every message of it is on the hub. */
  private async finish(to: 'resolved' | 'failed', cost: Scenario['cost'], dash: string): Promise<IncidentStatus | null> {
    // The end, its messages' claim and the count of what waits go in one round trip; when that
    // publish took everything, there is nothing left to settle.
    const ended = await this.durable('finish', this.infra, () =>
      this.db(async (db) => {
        const { status, claimed, pending } = await withRetries(() => changeAndClaim(db, this.id, { to, key: to, end: cost }));
        const drained = await publishClaimed(this.env, db, this.id, dash, claimed, this.log);
        return { status, settled: !drained.failed && drained.published === pending };
      }),
    );
    if (!ended.settled) await this.settle(dash);
    return ended.status;
  }

  /** Retries (for minutes, backing off) until the hub has taken every message the incident stored. */
  private async settle(dash: string): Promise<void> {
    await this.durable('settle', { retries: { limit: 10, delay: 1_000, backoff: 'exponential' }, timeout: 30_000 }, () =>
      this.db(async (db) => {
        await drainIncident(this.env, db, this.id, dash, this.log);
        const pending = await pendingMessages(db, this.id);
        if (pending > 0) throw new Error(`${pending} incident messages wait for the hub`);
        return pending;
      }),
    );
  }
}

/** What resolution checks before it changes anything, from what the phases established. */
function safetyChecks(scenario: Scenario, service: string, cascadeRisk: number | null): Array<{ check: string; passed: boolean; detail: string }> {
  return [
    { check: 'Backup verification', passed: true, detail: `snapshot of ${service} configuration taken` },
    { check: 'Rollback plan prepared', passed: scenario.remediation.every((s) => s.compensation.length > 0), detail: `${scenario.remediation.length} compensations ready` },
    { check: 'Impact assessment completed', passed: cascadeRisk !== null, detail: `cascade risk ${Math.round((cascadeRisk ?? 0) * 100)}%` },
  ];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
