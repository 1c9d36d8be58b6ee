import type { Bindings } from '../../config/env.ts';
import type { Logger } from '../../lib/log.ts';
import type { Postgres, Statement } from '../../services/postgres.ts';
import type { IngestEvent } from './schema.ts';

/**
 * The events table is the hub's outbox: an event is committed first and published from what was
 * stored. A drain claims the oldest unpublished events of one dashboard (FOR UPDATE SKIP LOCKED,
 * so concurrent drains take disjoint rows), sends them to the hub as one batch, and records the
 * seq each got. A claim expires after CLAIM_SECONDS, so events whose publisher died are taken by
 * the next drain: the next ingest on that dashboard, or the scheduled drain.
 */
export const CLAIM_SECONDS = 30;
/** One hub batch at most (the hub's MAX_BATCH_MESSAGES). */
export const DRAIN_LIMIT = 500;

export interface Drained {
  /** The events sent, with the seq the hub gave each; empty when nothing was pending or the hub failed. */
  published: Array<{ event: IngestEvent; seq: number }>;
  /** True when the hub could not take them; the claim expires and a later drain retries. */
  failed: boolean;
}

export type ClaimedRow = {
  event_id: string;
  type: IngestEvent['type'];
  occurred_at: Date | string;
  payload: unknown;
  outbox_seq: string | number;
};

/**
 * Work that must finish but need not hold up the caller's answer (the request's waitUntil);
 * awaiting what it returns is enough where there is no request to outlive.
 */
export type Defer = (work: Promise<unknown>) => Promise<void>;
const inline: Defer = async (work) => void (await work);

/**
 * Claims the oldest unpublished events of one dashboard, answering them. A statement on its own,
 * so ingest can send it in the same round trip as the insert (`recordEvents`).
 */
export function claimStatement(dashboard: string): Statement {
  return {
    text: `UPDATE events SET publish_claimed_until = now() + make_interval(secs => $3)
      WHERE event_id IN (
        SELECT event_id FROM events
         WHERE published_seq IS NULL AND dashboard = $1 AND (publish_claimed_until IS NULL OR publish_claimed_until < now())
         ORDER BY outbox_seq
         LIMIT $2
           FOR UPDATE SKIP LOCKED)
      RETURNING event_id, type, occurred_at, payload, outbox_seq`,
    params: [dashboard, DRAIN_LIMIT, CLAIM_SECONDS],
  };
}

export async function drainOutbox(env: Bindings, postgres: Pick<Postgres, 'query'>, dashboard: string, log: Logger, defer: Defer = inline): Promise<Drained> {
  const claim = claimStatement(dashboard);
  return publishClaimed(env, postgres, dashboard, await postgres.query<ClaimedRow>(claim.text, claim.params), log, defer);
}

/**
 * Sends claimed events to the hub as one batch and records the seq each got. The answer waits for
 * the hub's seqs only; recording them is handed to `defer`, because the hub keys every message by
 * its event id: if the record is lost, the claim expires and the next drain gets the same seqs
 * back, not copies.
 */
export async function publishClaimed(
  env: Bindings,
  postgres: Pick<Postgres, 'query'>,
  dashboard: string,
  rows: readonly ClaimedRow[],
  log: Logger,
  defer: Defer = inline,
): Promise<Drained> {
  if (rows.length === 0) return { published: [], failed: false };
  // RETURNING does not keep the subquery's order.
  const events = [...rows].sort((a, b) => Number(a.outbox_seq) - Number(b.outbox_seq)).map(toEvent);

  const hub = env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));
  let seqs: number[];
  try {
    const result = await hub.publishBatch(
      // Signal changes share the outbox and reach the hub as their own message type.
      events.map((e) =>
        (e.type as string) === 'signal_update'
          ? { type: 'signal_update' as const, data: e.data as Record<string, unknown> }
          : { type: 'event' as const, data: { event_id: e.event_id, event_type: e.type, occurred_at: e.occurred_at, ...e.data } },
      ),
      { keys: events.map((e) => e.event_id) },
    );
    if (!result.ok) {
      log.warn('hub refused the events; they stay in the outbox', { dashboard, reason: result.reason });
      return { published: [], failed: true };
    }
    seqs = result.seqs;
  } catch (err) {
    log.warn('hub publish failed; the events stay in the outbox', { dashboard, error: err });
    return { published: [], failed: true };
  }
  const published = events.map((event, i) => ({ event, seq: seqs[i]! }));
  await defer(
    postgres
      .query(
        `UPDATE events SET published_seq = p.seq, publish_claimed_until = NULL
           FROM unnest($1::text[], $2::bigint[]) AS p(event_id, seq) WHERE events.event_id = p.event_id`,
        [published.map((p) => p.event.event_id), published.map((p) => p.seq)],
      )
      .catch((err: unknown) => log.warn('published seqs not recorded; the claim expires and the next drain records them', { dashboard, error: err })),
  );
  return { published, failed: false };
}

/** Dashboards with events waiting longer than `olderThanSeconds` (the scheduled drain's work list). */
export async function pendingDashboards(postgres: Pick<Postgres, 'query'>, olderThanSeconds: number): Promise<string[]> {
  const rows = await postgres.query<{ dashboard: string }>(
    `SELECT DISTINCT dashboard FROM events
      WHERE published_seq IS NULL AND received_at < now() - make_interval(secs => $1)
        AND (publish_claimed_until IS NULL OR publish_claimed_until < now())`,
    [olderThanSeconds],
  );
  return rows.map((r) => r.dashboard);
}

function toEvent(row: ClaimedRow): IngestEvent {
  const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
  return {
    event_id: row.event_id,
    type: row.type,
    occurred_at: new Date(row.occurred_at).toISOString(),
    data: payload,
  } as IngestEvent;
}
