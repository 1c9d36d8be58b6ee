/**
 * Triage: status changes, assignment and notes. Every change happens in one transaction that locks
 * the signals it touches (FOR UPDATE), checks each against its version and the workflow's
 * transitions, writes the change, its activity events and its hub messages (the outbox) together;
 * the outbox is drained after the commit. A batch costs the same handful of round trips whether it
 * holds one signal or five hundred, and each signal is judged on its own: one that cannot change
 * is reported, the others change.
 */
import type { Identity } from '../auth/roles.ts';
import type { Bindings } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Postgres } from '../services/postgres.ts';
import { drainSignalUpdates, enqueueSignalUpdates, toUpdate, UPDATE_STATE_SQL } from './publish.ts';
import { CLOSED_STATUSES, OPEN_STATUSES, canTransition } from './schemas.ts';
import type { Note, Person, SignalUpdate, Status } from './schemas.ts';
import { summariesById } from './store.ts';
import type { SignalSummary } from './schemas.ts';

export interface Change {
  status?: Status | undefined;
  /** A resolved user id, or null to unassign; undefined leaves the assignee alone. */
  assignee?: string | null | undefined;
}

export type Outcome =
  | { id: string; result: 'applied'; signal: SignalSummary }
  | { id: string; result: 'conflict' | 'invalid'; code: 'signal_conflict' | 'signal_transition_invalid'; signal: SignalSummary; detail: string }
  | { id: string; result: 'not_found'; code: 'not_found' };

export interface WorkflowDeps {
  postgres: Pick<Postgres, 'query' | 'transaction'>;
  env: Bindings;
  log: Logger;
}

const person = (identity: Identity): Person => ({ id: identity.userId, email: identity.email, name: identity.name });

/**
 * `me` is the caller; anything else must be an active editor or admin (viewers cannot triage, so
 * cannot own a signal). An unknown or unfit user is 422 for the whole request.
 */
export async function resolveAssignee(db: Pick<Postgres, 'query'>, input: 'me' | string | null | undefined, identity: Identity, pointer: string): Promise<string | null | undefined> {
  if (input === undefined || input === null) return input;
  if (input === 'me') return identity.userId;
  const [user] = await db.query<{ id: string }>(`SELECT id FROM users WHERE id = $1::uuid AND disabled_at IS NULL AND role IN ('editor', 'admin')`, [input]);
  if (!user) {
    throw new ApiError('validation_failed', `No active editor or admin has the id ${input}.`, { errors: [{ pointer, message: 'Unknown user, or one who cannot triage signals' }] });
  }
  return user.id;
}

type Locked = { id: string; status: Status; assignee: string | null; version: number };

/** Applies one change to each item; answers one outcome per item, in order. */
export async function applyChange(
  deps: WorkflowDeps,
  identity: Identity,
  items: ReadonlyArray<{ id: string; version?: number | undefined }>,
  change: Change,
): Promise<Outcome[]> {
  const ids = [...new Set(items.map((i) => i.id))];
  const decided = await deps.postgres.transaction(async (tx) => {
    const current = await tx.query<Locked>(`SELECT id, status, assignee, version FROM signals WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
    const byId = new Map(current.map((r) => [r.id, { ...r, version: Number(r.version) }]));
    const verdicts = new Map<string, { result: 'apply' | 'noop' | 'conflict' | 'invalid' | 'not_found'; detail?: string }>();
    const writes: Array<{ id: string; status: Status | null; setAssignee: boolean; assignee: string | null; from: Locked }> = [];
    for (const item of items) {
      if (verdicts.has(item.id)) continue;
      const row = byId.get(item.id);
      if (!row) {
        verdicts.set(item.id, { result: 'not_found' });
        continue;
      }
      if (item.version !== undefined && item.version !== row.version) {
        verdicts.set(item.id, { result: 'conflict', detail: `Signal ${row.id} is at version ${row.version}, not ${item.version}: someone changed it since it was read.` });
        continue;
      }
      const statusChanges = change.status !== undefined && change.status !== row.status;
      if (statusChanges && !canTransition(row.status, change.status!)) {
        verdicts.set(item.id, { result: 'invalid', detail: `Signal ${row.id} cannot go from ${row.status} to ${change.status}.` });
        continue;
      }
      const assigneeChanges = change.assignee !== undefined && change.assignee !== row.assignee;
      if (!statusChanges && !assigneeChanges) {
        verdicts.set(item.id, { result: 'noop' });
        continue;
      }
      verdicts.set(item.id, { result: 'apply' });
      writes.push({ id: row.id, status: statusChanges ? change.status! : null, setAssignee: assigneeChanges, assignee: assigneeChanges ? change.assignee! : row.assignee, from: row });
    }
    if (writes.length > 0) {
      const updated = await tx.query<{ id: string }>(
        `UPDATE signals s SET
           status = COALESCE(c.status, s.status),
           assignee = CASE WHEN c.set_assignee THEN c.assignee ELSE s.assignee END,
           assigned_by = CASE WHEN c.set_assignee THEN 'person' ELSE s.assigned_by END,
           acknowledged_at = CASE WHEN c.status = 'acknowledged' AND s.acknowledged_at IS NULL THEN now() ELSE s.acknowledged_at END,
           resolved_at = CASE WHEN c.status = ANY($5::text[]) THEN now() WHEN c.status = ANY($6::text[]) THEN NULL ELSE s.resolved_at END,
           status_changed_at = CASE WHEN c.status IS NULL THEN s.status_changed_at ELSE now() END,
           version = s.version + 1,
           updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::bool[], $4::uuid[]) AS c(id, status, set_assignee, assignee)
         WHERE s.id = c.id
         RETURNING s.id`,
        [writes.map((w) => w.id), writes.map((w) => w.status), writes.map((w) => w.setAssignee), writes.map((w) => w.assignee), [...CLOSED_STATUSES], [...OPEN_STATUSES]],
      );
      if (updated.length !== writes.length) throw new Error('a locked signal was not updated');
      const trail = writes.flatMap((w) => [
        ...(w.status !== null ? [{ id: w.id, kind: 'status', from: w.from.status, to: w.status }] : []),
        ...(w.setAssignee ? [{ id: w.id, kind: 'assignee', from: w.from.assignee, to: w.assignee }] : []),
      ]);
      await tx.query(
        `INSERT INTO signal_activity (signal_id, actor_id, kind, from_value, to_value)
         SELECT t.id, $1::uuid, t.kind, t.from_value, t.to_value FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(id, kind, from_value, to_value, n)
         ORDER BY t.n`,
        [identity.userId, trail.map((t) => t.id), trail.map((t) => t.kind), trail.map((t) => t.from), trail.map((t) => t.to)],
      );
      const states = await tx.query<Parameters<typeof toUpdate>[0]>(`${UPDATE_STATE_SQL} WHERE s.id = ANY($1::text[])`, [writes.map((w) => w.id)]);
      const kindOf = new Map(writes.map((w) => [w.id, w.status !== null ? ('status' as const) : ('assignee' as const)]));
      const updates: SignalUpdate[] = states.map((s) => toUpdate(s, kindOf.get(s.signal_id)!, person(identity)));
      await enqueueSignalUpdates(tx, updates, identity.userId);
    }
    return verdicts;
  });
  const wrote = [...decided.values()].some((v) => v.result === 'apply');
  if (wrote) await drainSignalUpdates(deps.env, deps.postgres, deps.log);
  const summaries = await summariesById(deps.postgres, [...decided.entries()].filter(([, v]) => v.result !== 'not_found').map(([id]) => id));
  return items.map((item) => {
    const v = decided.get(item.id)!;
    const signal = summaries.get(item.id);
    if (v.result === 'not_found' || !signal) return { id: item.id, result: 'not_found', code: 'not_found' };
    if (v.result === 'conflict') return { id: item.id, result: 'conflict', code: 'signal_conflict', signal, detail: v.detail! };
    if (v.result === 'invalid') return { id: item.id, result: 'invalid', code: 'signal_transition_invalid', signal, detail: v.detail! };
    return { id: item.id, result: 'applied', signal };
  });
}

/** Adds a note; answers null when there is no such signal. */
export async function addNote(deps: WorkflowDeps, identity: Identity, signalId: string, body: string): Promise<Note | null> {
  const note = await deps.postgres.transaction(async (tx) => {
    const [state] = await tx.query<Parameters<typeof toUpdate>[0]>(`${UPDATE_STATE_SQL} WHERE s.id = $1 FOR SHARE OF s`, [signalId]);
    if (!state) return null;
    const [row] = await tx.query<{ id: string; created_at: Date | string }>(
      'INSERT INTO signal_notes (signal_id, author, body) VALUES ($1, $2, $3) RETURNING id::text, created_at',
      [signalId, identity.userId, body],
    );
    await tx.query(`INSERT INTO signal_activity (signal_id, actor_id, kind, from_value, to_value) VALUES ($1, $2, 'note', NULL, $3)`, [signalId, identity.userId, row!.id]);
    await enqueueSignalUpdates(tx, [toUpdate(state, 'note', person(identity))], identity.userId);
    return { id: row!.id, author: person(identity), body, created_at: new Date(row!.created_at).toISOString() };
  });
  if (note) await drainSignalUpdates(deps.env, deps.postgres, deps.log);
  return note;
}
