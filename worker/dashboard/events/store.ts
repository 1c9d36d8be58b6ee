import { ApiError } from '../../http/errors.ts';
import type { Postgres, Statement } from '../../services/postgres.ts';
import { applyError, applyEvents, applyStatements } from './apply.ts';
import type { IngestEvent } from './schema.ts';

/**
 * Stores a batch exactly once per event_id, in one transaction. The usual batch (every event new)
 * is one round trip: the insert and every effect's statement go to Postgres together
 * (`Postgres.batch`), each statement checking its own outcome, with `then` (the outbox claim) last
 * in the same transaction; its rows come back as `then`. A batch holding an event already stored
 * fails that attempt (CCDUP) and is stored again on a session, which reads the stored copies to
 * tell a retry from an id reused for another body; `then` is not run there. `known` holds the
 * events seen before, with the hub seq they were published at (null when never published).
 */
export async function recordEvents<T extends Record<string, unknown>>(
  postgres: Pick<Postgres, 'transaction' | 'batch'>,
  events: readonly IngestEvent[],
  receivedBy: string | null,
  dashboard: string,
  then?: Statement,
): Promise<{ known: Map<string, number | null>; then?: T[] }> {
  try {
    const statements = newEventStatements(events, receivedBy, dashboard);
    const results = await postgres.batch(then ? [...statements, then] : statements);
    return { known: new Map(), ...(then ? { then: results.at(-1)!.rows as T[] } : {}) };
  } catch (err) {
    if (!holdsStoredEvents(err)) throw applyError(err);
  }
  return { known: await postgres.transaction((tx) => recordEventsIn(tx, events, receivedBy, dashboard)) };
}

/**
 * A batch of events none of which is stored yet, and their effects, as statements for one round
 * trip (`Postgres.batch`). Any event already stored fails the batch with CCDUP (`holdsStoredEvents`):
 * store it again with `recordEventsIn` on a session. Other failures go through `applyError`.
 */
export function newEventStatements(events: readonly IngestEvent[], receivedBy: string | null, dashboard: string): Statement[] {
  return [insertStatement(events, receivedBy, dashboard, true), ...applyStatements(events)];
}

export function holdsStoredEvents(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'CCDUP';
}

/**
 * Inserts the events not stored yet, answering their ids; `allNew` makes a batch with any stored
 * event fail with CCDUP instead (the one-round-trip path cannot decide between statements).
 */
function insertStatement(events: readonly IngestEvent[], receivedBy: string | null, dashboard: string, allNew: boolean): Statement {
  const insert = `INSERT INTO events (event_id, type, occurred_at, payload, received_by, dashboard)
     SELECT e.event_id, e.type, e.occurred_at, e.payload, $5, $6
       FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS e(event_id, type, occurred_at, payload, n)
      ORDER BY e.n
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`;
  return {
    text: allNew
      ? `WITH inserted AS (${insert})
         SELECT cc_fail('CCDUP', 'the batch holds events already stored') WHERE (SELECT count(*) FROM inserted) < cardinality($1::text[])`
      : insert,
    params: [events.map((e) => e.event_id), events.map((e) => e.type), events.map((e) => e.occurred_at), events.map((e) => JSON.stringify(e.data)), receivedBy, dashboard],
  };
}

/** recordEvents inside the caller's transaction: the queue consumer applies several batches in one. */
export async function recordEventsIn(
  tx: Pick<Postgres, 'query'>,
  events: readonly IngestEvent[],
  receivedBy: string | null,
  dashboard: string,
): Promise<Map<string, number | null>> {
  const ids = events.map((e) => e.event_id);
  const insert = insertStatement(events, receivedBy, dashboard, false);
  const inserted = await tx.query<{ event_id: string }>(insert.text, insert.params);
  const fresh = new Set(inserted.map((r) => r.event_id));
  const known = new Map<string, number | null>();
  if (fresh.size < events.length) {
    const rows = await tx.query<{ event_id: string; type: string; occurred_at: Date | string; payload: unknown; published_seq: string | number | null }>(
      'SELECT event_id, type, occurred_at, payload, published_seq FROM events WHERE event_id = ANY($1::text[])',
      [ids.filter((id) => !fresh.has(id))],
    );
    // A retry must be the same event: an id reused for another body is the client's bug, and
    // answering "duplicate" would hide that the second body was never applied.
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const conflicts = rows.filter((r) => !sameEvent(byId.get(r.event_id)!, r));
    if (conflicts.length > 0) {
      throw new ApiError('conflict', `Event ${conflicts[0]!.event_id} was already received with a different body; nothing in this batch was applied.`, {
        errors: conflicts.map((r) => ({ pointer: `body/events/${events.indexOf(byId.get(r.event_id)!)}/event_id`, message: `${r.event_id} is taken by another event` })),
      });
    }
    for (const r of rows) known.set(r.event_id, r.published_seq === null ? null : Number(r.published_seq));
  }
  await applyEvents(tx, events.filter((e) => fresh.has(e.event_id)));
  return known;
}

/** Key order does not matter in JSON (jsonb does not keep it); values and types do. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameEvent(incoming: IngestEvent, stored: { type: string; occurred_at: Date | string; payload: unknown }): boolean {
  const payload = typeof stored.payload === 'string' ? JSON.parse(stored.payload) : stored.payload;
  return (
    incoming.type === stored.type &&
    new Date(incoming.occurred_at).getTime() === new Date(stored.occurred_at).getTime() &&
    canonical(incoming.data) === canonical(payload)
  );
}
