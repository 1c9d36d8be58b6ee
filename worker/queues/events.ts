import { z } from 'zod';
import { DASHBOARD_NAME } from '../../durable-objects/dashboards.ts';
import { EventSchema } from '../dashboard/events/schema.ts';
import type { IngestEvent } from '../dashboard/events/schema.ts';
import type { Postgres } from '../services/postgres.ts';

/**
 * One message on the events queue: events for one dashboard, applied all or nothing like one
 * synchronous POST. High-volume producers write these directly through a producer binding;
 * POST /v1/events?mode=async writes them for callers over HTTP.
 */
export const QueuedEventsSchema = z.strictObject({
  dashboard: z.string().regex(DASHBOARD_NAME),
  received_by: z.uuid().nullable(),
  events: z
    .array(EventSchema)
    .min(1)
    .max(500)
    .refine((events) => new Set(events.map((e) => e.event_id)).size === events.length, 'a message may carry each event_id once'),
});
export type QueuedEvents = z.infer<typeof QueuedEventsSchema>;

/** What the dead-letter queue holds: the message as it came, and why it was set aside. */
export interface DeadLetter {
  message: unknown;
  reason: string;
  attempts: number;
  at: string;
}

/**
 * A queue message may be at most 128 KB, and a sendBatch call at most 100 messages and 256 KB:
 * a POST's events are split into messages under MESSAGE_BYTES, sent SEND_BYTES at a time.
 */
export const MESSAGE_BYTES = 100_000;
const SEND_BYTES = 200_000;
const SEND_MESSAGES = 100;

/** Splits a producer's events into queue messages that fit the queue's limits, in order. */
export function toMessages(dashboard: string, receivedBy: string | null, events: readonly IngestEvent[]): QueuedEvents[] {
  const out: QueuedEvents[] = [];
  let chunk: IngestEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = JSON.stringify(e).length + 1;
    if (chunk.length > 0 && bytes + size > MESSAGE_BYTES - 200) {
      out.push({ dashboard, received_by: receivedBy, events: chunk });
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) out.push({ dashboard, received_by: receivedBy, events: chunk });
  return out;
}

/**
 * Records the events as queued (status lookups find them at once) and sends them to the queue.
 * An id already applied keeps its status; the consumer tells a true retry from a reused id.
 */
export async function enqueueEvents(
  queue: Queue<QueuedEvents>,
  postgres: Pick<Postgres, 'query'>,
  dashboard: string,
  receivedBy: string | null,
  events: readonly IngestEvent[],
): Promise<void> {
  await postgres.query(
    `INSERT INTO event_receipts (event_id, dashboard, status)
     SELECT id, $2, 'queued' FROM unnest($1::text[]) AS id
     ON CONFLICT (event_id) DO NOTHING`,
    [events.map((e) => e.event_id), dashboard],
  );
  const messages = toMessages(dashboard, receivedBy, events);
  let batch: Array<{ body: QueuedEvents; contentType: 'json' }> = [];
  let bytes = 0;
  for (const body of messages) {
    const size = JSON.stringify(body).length;
    if (batch.length > 0 && (batch.length >= SEND_MESSAGES || bytes + size > SEND_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body, contentType: 'json' });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

export type EventStatus =
  | { event_id: string; status: 'applied'; seq: number | null; dashboard: string }
  | { event_id: string; status: 'queued'; dashboard: string; attempts: number }
  | { event_id: string; status: 'dead_lettered'; dashboard: string; reason: string; attempts: number };

/** Where an event stands: applied (in events, by either path), queued or dead-lettered; null if unknown. */
export async function eventStatus(postgres: Pick<Postgres, 'query'>, eventId: string): Promise<EventStatus | null> {
  const rows = await postgres.query<{
    applied: boolean;
    seq: string | number | null;
    dashboard: string;
    status: string | null;
    reason: string | null;
    attempts: number | null;
  }>(
    `SELECT e.event_id IS NOT NULL AS applied, e.published_seq AS seq, COALESCE(e.dashboard, r.dashboard) AS dashboard,
            r.status, r.reason, r.attempts
       FROM (SELECT $1::text AS id) q
       LEFT JOIN events e ON e.event_id = q.id
       LEFT JOIN event_receipts r ON r.event_id = q.id
      WHERE e.event_id IS NOT NULL OR r.event_id IS NOT NULL`,
    [eventId],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.applied) return { event_id: eventId, status: 'applied', seq: row.seq === null ? null : Number(row.seq), dashboard: row.dashboard };
  if (row.status === 'dead_lettered') {
    return { event_id: eventId, status: 'dead_lettered', dashboard: row.dashboard, reason: row.reason ?? 'unknown', attempts: row.attempts ?? 0 };
  }
  return { event_id: eventId, status: 'queued', dashboard: row.dashboard, attempts: row.attempts ?? 0 };
}
