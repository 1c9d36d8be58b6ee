import { hubFor } from '../../durable-objects/dashboards.ts';
import type { Bindings } from '../config/env.ts';
import type { Logger } from '../lib/log.ts';
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
    const result = await hubFor(env.DASHBOARD_HUB, dashboard).publishBatch(
      messages.map((m) => ({ type: m.type as 'agent_action', data: (typeof m.data === 'string' ? JSON.parse(m.data) : m.data) as Record<string, unknown> })),
      { keys: messages.map((m) => m.key) },
    );
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
  await db.batch([
    {
      text: `UPDATE incident_messages SET published_seq = p.seq, publish_claimed_until = NULL
               FROM unnest($1::bigint[], $2::bigint[]) AS p(outbox_seq, seq) WHERE incident_messages.outbox_seq = p.outbox_seq`,
      params: [messages.map((m) => Number(m.outbox_seq)), seqs],
    },
    { text: 'UPDATE incidents SET publishing_until = NULL WHERE incident_id = $1', params: [incidentId] },
  ]);
  return { published: messages.length, failed: false };
}

async function release(db: Pick<Postgres, 'query'>, incidentId: string): Promise<void> {
  await db.query('UPDATE incidents SET publishing_until = NULL WHERE incident_id = $1', [incidentId]);
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
