/**
 * Live updates: every signal change reaches the dashboard hub as `signal_update`, through the same
 * outbox the operational events use (the events table). The message is stored in the change's
 * own transaction, then the outbox is drained after the commit; if the hub is down it stays there
 * and the next drain (another change, an event ingest, or the scheduled drain) sends it, so no
 * change is lost and none is sent twice.
 */
import type { Bindings } from '../config/env.ts';
import { drainOutbox } from '../dashboard/events/outbox.ts';
import type { Logger } from '../lib/log.ts';
import type { Postgres } from '../services/postgres.ts';
import { HUB_SIGNALS_PER_RUN } from './schemas.ts';
import type { SignalUpdate } from './schemas.ts';

/** The dashboard the site shows (and the signals page listens to). */
export const SIGNALS_DASHBOARD = 'default';
/** The events table's type for these rows; the drain sends them as hub `signal_update` messages. */
export const SIGNAL_UPDATE_TYPE = 'signal_update';

/** Stores messages in the outbox, inside the caller's transaction. */
export async function enqueueSignalUpdates(tx: Pick<Postgres, 'query'>, updates: readonly SignalUpdate[], actorId: string | null): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `INSERT INTO events (event_id, type, occurred_at, payload, received_by, dashboard)
     SELECT 'signal:' || gen_random_uuid(), $1, clock_timestamp(), p.payload, $3, $4
       FROM unnest($2::jsonb[]) WITH ORDINALITY AS p(payload, n) ORDER BY p.n`,
    [SIGNAL_UPDATE_TYPE, updates.map((u) => JSON.stringify(u)), actorId, SIGNALS_DASHBOARD],
  );
}

/** Sends what the outbox holds for the signals' dashboard; a failure leaves it there for the next drain. */
export async function drainSignalUpdates(env: Bindings, postgres: Pick<Postgres, 'query'>, log: Logger): Promise<void> {
  try {
    await drainOutbox(env, postgres, SIGNALS_DASHBOARD, log);
  } catch (error) {
    log.warn('signal updates stay in the outbox', { error });
  }
}

/** Each signal's state as the hub message carries it. */
export const UPDATE_STATE_SQL = `SELECT s.id AS signal_id, s.status, s.severity, s.stale_since IS NOT NULL AS stale, s.version,
  CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'email', u.email, 'name', u.name) END AS assignee
  FROM signals s LEFT JOIN users u ON u.id = s.assignee`;

type StateRow = { signal_id: string; status: string; severity: string; stale: boolean; version: number; assignee: unknown };

export function toUpdate(row: StateRow, kind: SignalUpdate['kind'], actor: { id: string; email: string; name: string } | null): SignalUpdate {
  const assignee = typeof row.assignee === 'string' ? JSON.parse(row.assignee) : row.assignee;
  return { signal_id: row.signal_id, status: row.status, severity: row.severity, stale: row.stale, version: Number(row.version), kind, actor, assignee: assignee ?? null } as SignalUpdate;
}

/** After a hydration: the first changed signals one by one, and one summary of the run. */
export async function publishSignalUpdates(
  env: Bindings | undefined,
  postgres: Pick<Postgres, 'query'>,
  log: Logger,
  changes: { changedSignalIds: readonly string[]; run: { id: string; inserted: number; updated: number; stale: number } },
): Promise<void> {
  const { run } = changes;
  if (run.inserted + run.updated + run.stale === 0) return;
  const named = changes.changedSignalIds.slice(0, HUB_SIGNALS_PER_RUN);
  const rows = named.length === 0 ? [] : await postgres.query<StateRow>(`${UPDATE_STATE_SQL} WHERE s.id = ANY($1::text[])`, [named]);
  const updates: SignalUpdate[] = rows.map((r) => toUpdate(r, r.stale ? 'stale' : 'hydrated', null));
  updates.push({ signal_id: null, kind: 'hydrated', run: { id: run.id, inserted: run.inserted, updated: run.updated, stale: run.stale } });
  await enqueueSignalUpdates(postgres, updates, null);
  if (env) await drainSignalUpdates(env, postgres, log);
}
