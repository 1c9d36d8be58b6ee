import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import { hubFor } from '../../durable-objects/dashboards.ts';
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from '../../durable-objects/protocol.ts';
import { CoalescerMap } from '../lib/coalesce.ts';
import type { Bindings } from '../config/env.ts';
import type { Logger } from '../lib/log.ts';
import { isDependencyError } from '../http/errors.ts';
import type { Postgres, Statement } from '../services/postgres.ts';
import { CLAIM_SECONDS, DRAIN_LIMIT } from '../dashboard/events/outbox.ts';

export interface IncidentDrain {
  published: number;
  /** The hub refused or was unreachable: the messages stay in the outbox for the next drain. */
  failed: boolean;
}

/**
 * Publishes an incident's stored messages in the order they were stored, like the events
 * outbox (worker/dashboard/events/outbox.ts) does for ingest. One drain per incident at a time:
 * the claim is a lease on the incident row (publishing_until), taken in the same statement that
 * reads the messages, so a second drain waits for the first's row lock and then finds the lease
 * taken. A drain that dies lets the lease expire after CLAIM_SECONDS; the next one sends from the
 * first unpublished message again, and the hub's publish keys (the messages' keys) make it give
 * those the seqs it gave them before instead of sending copies.
 */
export type Claimed = Array<{ outbox_seq: string | number; key: string; type: string; data: unknown }>;

/**
 * Takes the incident's publishing lease and reads its unpublished messages, in stored order;
 * no rows when nothing waits or another drain holds the lease (what it did not read goes with
 * the next drain). A statement of its own, so a writer can run it in the batch that stored the
 * message (store.ts recordAction) and save a round trip.
 */
export function claimStatement(incidentId: string): Statement {
  return {
    text: `WITH claim AS (
             UPDATE incidents SET publishing_until = now() + make_interval(secs => $2)
              WHERE incident_id = $1 AND (publishing_until IS NULL OR publishing_until < now())
                AND EXISTS (SELECT 1 FROM incident_messages WHERE incident_id = $1 AND published_seq IS NULL)
             RETURNING incident_id)
           SELECT m.outbox_seq, m.key, m.type, m.data
             FROM incident_messages m JOIN claim USING (incident_id)
            WHERE m.published_seq IS NULL
            ORDER BY m.outbox_seq
            LIMIT $3`,
    params: [incidentId, CLAIM_SECONDS, DRAIN_LIMIT],
  };
}

export async function drainIncident(
  env: Bindings,
  db: Pick<Postgres, 'query' | 'batch'>,
  incidentId: string,
  dashboard: string,
  log: Logger,
): Promise<IncidentDrain> {
  const claim = claimStatement(incidentId);
  const rows = await db.query<Claimed[number]>(claim.text, claim.params);
  return publishClaimed(env, db, incidentId, dashboard, rows, log);
}

/** Sends claimed messages to the hub with their keys, records the seqs and gives the lease back. */
export async function publishClaimed(
  env: Bindings,
  db: Pick<Postgres, 'query' | 'batch'>,
  incidentId: string,
  dashboard: string,
  rows: Claimed,
  log: Logger,
): Promise<IncidentDrain> {
  if (rows.length === 0) return { published: 0, failed: false };
  const messages = rows.sort((a, b) => Number(a.outbox_seq) - Number(b.outbox_seq));
  let seqs: number[];
  try {
    const result = await publishTogether(env, dashboard, {
      messages: messages.map((m) => ({ type: m.type as 'agent_action', data: (typeof m.data === 'string' ? JSON.parse(m.data) : m.data) as Record<string, unknown> })),
      keys: messages.map((m) => m.key),
    });
    if (!result.ok) {
      log.error('hub refused incident messages; they stay in the outbox', { incident_id: incidentId, reason: result.reason, issues: result.issues });
      await release(db, incidentId);
      return { published: 0, failed: true };
    }
    seqs = result.seqs;
  } catch (err) {
    log.warn('hub publish failed; incident messages stay in the outbox', { incident_id: incidentId, error: err });
    await release(db, incidentId);
    return { published: 0, failed: true };
  }
  await withRetries(() => db.batch([
    {
      text: `UPDATE incident_messages SET published_seq = p.seq, publish_claimed_until = NULL
               FROM unnest($1::bigint[], $2::bigint[]) AS p(outbox_seq, seq) WHERE incident_messages.outbox_seq = p.outbox_seq`,
      params: [messages.map((m) => Number(m.outbox_seq)), seqs],
    },
    { text: 'UPDATE incidents SET publishing_until = NULL WHERE incident_id = $1', params: [incidentId] },
  ]));
  return { published: messages.length, failed: false };
}

type Hub = Bindings['DASHBOARD_HUB'];
type PublishInput = Parameters<DurableObjectStub<DashboardHub>['publishBatch']>[0][number];
type PublishResult = Awaited<ReturnType<DashboardHub['publishBatch']>>;
interface Publish {
  messages: PublishInput[];
  keys: string[];
}

/** A hub call carries at most this much data: the hub's own limits, with room for framing. */
const CALL_MESSAGES = MAX_BATCH_MESSAGES;
const CALL_BYTES = Math.floor(MAX_BATCH_BYTES * 0.8);

/**
 * The incidents of one isolate publishing at once share hub calls (coalesce.ts): what they send
 * while a call is under way goes in the next one, each incident's messages together and in order.
 * Incidents' keys never meet, so one batch is the same to the hub as the calls it replaces, and
 * each incident still publishes one drain at a time under its own lease.
 */
const rounds = new WeakMap<Hub, CoalescerMap<Publish, Map<Publish, PublishResult>>>();

function publishTogether(env: Bindings, dashboard: string, p: Publish): Promise<PublishResult> {
  const hub = env.DASHBOARD_HUB;
  let byDashboard = rounds.get(hub);
  if (!byDashboard) {
    byDashboard = new CoalescerMap((name, requests) => publishRound(hubFor(hub, name), requests));
    rounds.set(hub, byDashboard);
  }
  return byDashboard.join(dashboard, p).then((results) => results.get(p)!);
}

async function publishRound(stub: DurableObjectStub<DashboardHub>, requests: readonly Publish[]): Promise<Map<Publish, PublishResult>> {
  const calls: Publish[][] = [];
  let count = 0;
  let bytes = 0;
  for (const r of requests) {
    const size = r.messages.reduce((n, m) => n + JSON.stringify(m.data).length, 0);
    if (calls.length === 0 || count + r.messages.length > CALL_MESSAGES || bytes + size > CALL_BYTES) {
      calls.push([]);
      count = 0;
      bytes = 0;
    }
    calls.at(-1)!.push(r);
    count += r.messages.length;
    bytes += size;
  }
  const out = new Map<Publish, PublishResult>();
  await Promise.all(
    calls.map(async (group) => {
      const answers = await call(stub, group);
      group.forEach((r, i) => out.set(r, answers[i]!));
    }),
  );
  return out;
}

/** One hub call for a group; a refusal of a shared call is asked again incident by incident, so one bad message holds back only its own. */
async function call(stub: DurableObjectStub<DashboardHub>, group: readonly Publish[]): Promise<PublishResult[]> {
  const result = await stub.publishBatch(
    group.flatMap((r) => r.messages),
    { keys: group.flatMap((r) => r.keys) },
  );
  if (!result.ok) {
    if (group.length === 1) return [result];
    return Promise.all(group.map(async (r) => (await call(stub, [r]))[0]!));
  }
  let at = 0;
  return group.map((r) => {
    const seqs = result.seqs.slice(at, at + r.messages.length);
    at += r.messages.length;
    return { ...result, seqs };
  });
}

async function release(db: Pick<Postgres, 'query'>, incidentId: string): Promise<void> {
  await withRetries(() => db.query('UPDATE incidents SET publishing_until = NULL WHERE incident_id = $1', [incidentId]));
}

/** Messages of the incident not yet on the hub. */
export async function pendingMessages(db: Pick<Postgres, 'query'>, incidentId: string): Promise<number> {
  const [r] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_messages WHERE incident_id = $1 AND published_seq IS NULL', [incidentId]);
  return Number(r?.n ?? 0);
}

/** Incidents with messages waiting longer than `olderThanSeconds`, for a sweep after an outage. */
export async function incidentsWithPending(db: Pick<Postgres, 'query'>, olderThanSeconds: number): Promise<Array<{ incident_id: string; dashboard: string }>> {
  return db.query(
    `SELECT DISTINCT m.incident_id::text AS incident_id, i.dashboard FROM incident_messages m JOIN incidents i USING (incident_id)
      WHERE m.published_seq IS NULL AND m.created_at < now() - make_interval(secs => $1)`,
    [olderThanSeconds],
  );
}

/**
 * Postgres writes a step cannot afford to lose to a brief outage: the seqs of messages the hub
 * has taken (lost, the lease holds the incident's messages back until it expires), and writes in
 * a step that also does scripted work (whose retries are meant for the work).
 */
export async function withRetries<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isDependencyError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (i - 1)));
    }
  }
}
