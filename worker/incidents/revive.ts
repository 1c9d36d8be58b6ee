import type { Bindings } from '../config/env.ts';
import type { Logger } from '../lib/log.ts';
import type { Postgres } from '../services/postgres.ts';
import type { IncidentParams } from './workflow.ts';

/** How long a running incident may go without a new timeline state before its run counts as stalled. */
export const STALL_SECONDS = 60;
/** How often one isolate looks. */
const LOOK_EVERY_MS = 30_000;
let lastLook = 0;

/** Instance states in which the engine no longer runs the incident's workflow. */
const GONE = new Set(['terminated', 'errored', 'complete', 'unknown']);

/**
 * Runs that stopped with the process that ran them. Workflows resume their instances on
 * Cloudflare; the local engine under `wrangler dev` does not pick up a step that was under way
 * when `npm run dev` stopped. An incident still running with no new timeline state for
 * STALL_SECONDS (scaled, at least 15 s), or still waiting for an approval whose deadline has
 * passed, has its instance restarted. So does one waiting for an approval still in time whose
 * instance the engine no longer runs (it ended or errored while the incident waits): restarted,
 * the run reaches the gate again and waits only until the deadline already stored and shown,
 * so the approval can still be given. Every step is idempotent (rows and messages keyed by
 * action and transition, injected events by id, the notification sent once), so the re-run
 * stores nothing new until it reaches where the incident was, and goes on from there.
 */
export async function reviveStalledIncidents(env: Bindings, db: Pick<Postgres, 'query'>, log: Logger, now = Date.now()): Promise<string[]> {
  if (now - lastLook < LOOK_EVERY_MS) return [];
  lastLook = now;
  const workflow = env.INCIDENT_WORKFLOW as Workflow<IncidentParams> | undefined;
  if (!workflow) return [];
  const candidates = await db.query<{ incident_id: string; in_time: boolean }>(
    `SELECT i.incident_id::text, (i.status = 'waiting_approval' AND i.approval_deadline >= now()) AS in_time FROM incidents i
      WHERE (i.status = 'active'
             AND GREATEST(i.created_at, (SELECT max(a.updated_at) FROM incident_actions a WHERE a.incident_id = i.incident_id))
                 < now() - make_interval(secs => GREATEST(15, $1 * i.time_scale)))
         OR (i.status = 'waiting_approval' AND i.approval_deadline < now() - interval '10 seconds')
         OR (i.status = 'waiting_approval' AND i.approval_state = 'pending' AND i.approval_deadline >= now())
      ORDER BY 2, i.created_at
      LIMIT 20`,
    [STALL_SECONDS],
  );
  const revived: string[] = [];
  for (const { incident_id, in_time } of candidates) {
    try {
      const instance = await workflow.get(incident_id);
      // A gate still in time is left alone while the engine holds the run: the approval's event reaches it.
      if (in_time && !GONE.has((await instance.status()).status)) continue;
      await instance.restart();
      revived.push(incident_id);
      log.warn('stalled incident run restarted', { incident_id });
    } catch (err) {
      log.error('stalled incident run could not be restarted', { incident_id, error: err });
    }
  }
  return revived;
}
