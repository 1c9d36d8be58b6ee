import type { Postgres } from '../../services/postgres.ts';
import { applyEvents } from './apply.ts';
import type { IngestEvent } from './schema.ts';

/**
 * Stores a batch exactly once per event_id, in one transaction: new events are inserted with one
 * statement and their effects applied with one per run of a type, so a batch costs a handful of
 * round trips whatever its size. Answers the events seen before, with the hub seq they were
 * published at (null when never published).
 */
export async function recordEvents(
  postgres: Pick<Postgres, 'transaction'>,
  events: readonly IngestEvent[],
  receivedBy: string,
): Promise<Map<string, number | null>> {
  const ids = events.map((e) => e.event_id);
  return postgres.transaction(async (tx) => {
    const inserted = await tx.query<{ event_id: string }>(
      `INSERT INTO events (event_id, type, occurred_at, payload, received_by)
       SELECT e.event_id, e.type, e.occurred_at, e.payload, $5
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS e(event_id, type, occurred_at, payload, n)
        ORDER BY e.n
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [ids, events.map((e) => e.type), events.map((e) => e.occurred_at), events.map((e) => JSON.stringify(e.data)), receivedBy],
    );
    const fresh = new Set(inserted.map((r) => r.event_id));
    const known = new Map<string, number | null>();
    if (fresh.size < events.length) {
      const rows = await tx.query<{ event_id: string; published_seq: string | number | null }>(
        'SELECT event_id, published_seq FROM events WHERE event_id = ANY($1::text[])',
        [ids.filter((id) => !fresh.has(id))],
      );
      for (const r of rows) known.set(r.event_id, r.published_seq === null ? null : Number(r.published_seq));
    }
    await applyEvents(tx, events.filter((e) => fresh.has(e.event_id)));
    return known;
  });
}
