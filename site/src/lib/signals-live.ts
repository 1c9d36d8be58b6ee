import * as z from 'zod/mini';
import { SEVERITIES, STATUSES } from './signals-data.ts';
import type { Person, SignalSummary } from './signals-data.ts';

/*
 * `signal_update` as the hub carries it: the protocol checks the frame and leaves `data` to its
 * publisher (the signals workflow), so the shape is checked here, where it is read. zod/mini, as
 * the stream uses, so the dashboard's panel adds little to its first view.
 */
const PersonSchema = z.object({ id: z.string(), email: z.string(), name: z.string() });

export const SignalUpdateSchema = z.object({
  signal_id: z.string(),
  status: z.enum(STATUSES),
  assignee: z.nullable(z.union([PersonSchema, z.string()])),
  severity: z.enum(SEVERITIES),
  stale: z.boolean(),
  version: z.int(),
  kind: z.string(),
  actor: z.optional(z.nullable(z.union([PersonSchema, z.string()]))),
});
export type SignalUpdate = z.infer<typeof SignalUpdateSchema>;

export function parseSignalUpdate(data: unknown): SignalUpdate | null {
  const parsed = SignalUpdateSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

/** The assignee as a person; an id alone keeps the name already on screen when it is the same person. */
function personOf(value: SignalUpdate['assignee'], before: Person | null): Person | null {
  if (value === null) return null;
  if (typeof value !== 'string') return value;
  return before?.id === value ? before : { id: value, email: '', name: value };
}

/**
 * A signal after a live update. Older news (a version at or below the one on screen) changes
 * nothing: the hub may replay, and a PATCH answer can arrive before its own broadcast.
 */
export function withSignalUpdate<S extends SignalSummary>(signal: S, update: SignalUpdate): S {
  if (signal.id !== update.signal_id || update.version <= signal.version) return signal;
  return {
    ...signal,
    status: update.status,
    severity: update.severity,
    stale: update.stale,
    version: update.version,
    assignee: personOf(update.assignee, signal.assignee),
  };
}

/** Who did it, in words, for the announcement. */
export function actorName(actor: SignalUpdate['actor']): string | null {
  if (!actor) return null;
  return typeof actor === 'string' ? actor : actor.name || actor.email;
}
