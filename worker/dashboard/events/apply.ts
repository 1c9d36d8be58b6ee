import { ApiError } from '../../http/errors.ts';
import type { Postgres } from '../../services/postgres.ts';
import type { IngestEvent } from './schema.ts';

type Tx = Pick<Postgres, 'query'>;
type EventOf<T extends IngestEvent['type']> = Extract<IngestEvent, { type: T }>;

/**
 * Writes the events' effects on the operational tables, in order, inside the caller's
 * transaction. Consecutive events of one type go in one statement over arrays (`unnest`), so a
 * batch costs a round trip per run of a type rather than per event; a run ends where a target
 * repeats, so "filed then changed" of one claim still happens in that order. Unknown targets
 * are a 422 and duplicate new targets a 409, naming the event, never a silent no-op.
 */
export async function applyEvents(tx: Tx, events: readonly IngestEvent[]): Promise<void> {
  for (const run of runs(events)) await applyRun(tx, run);
}

function targetOf(e: IngestEvent): string {
  switch (e.type) {
    case 'claim.filed':
    case 'claim.status_changed':
      return `claim:${e.data.claim_id}`;
    case 'session.started':
    case 'session.resolved':
      return `session:${e.data.session_id}`;
    case 'alert.opened':
    case 'alert.resolved':
      return `alert:${e.data.alert_id}`;
  }
}

function runs(events: readonly IngestEvent[]): IngestEvent[][] {
  const out: IngestEvent[][] = [];
  let run: IngestEvent[] = [];
  let targets = new Set<string>();
  for (const e of events) {
    const target = targetOf(e);
    if (run.length > 0 && (run[0]!.type !== e.type || targets.has(target))) {
      out.push(run);
      run = [];
      targets = new Set();
    }
    run.push(e);
    targets.add(target);
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** The first event whose key the statement did not return: it is the one to name. */
function firstMissing<E extends IngestEvent>(run: readonly E[], keyOf: (e: E) => string, returned: ReadonlyArray<Record<string, unknown>>, column: string): E | undefined {
  const done = new Set(returned.map((r) => String(r[column])));
  return run.find((e) => !done.has(keyOf(e)));
}

async function applyRun(tx: Tx, run: IngestEvent[]): Promise<void> {
  const type = run[0]!.type;
  switch (type) {
    case 'claim.filed': {
      const es = run as EventOf<'claim.filed'>[];
      const rows = await tx.query<{ claim_id: string }>(
        `INSERT INTO claims (claim_id, customer_id, product, claim_type, status, region, opened_at, claim_cost, cost_avoided)
         SELECT u.claim_id, u.customer_id, u.product, u.claim_type, 'open', u.region, u.opened_at, u.claim_cost, u.cost_avoided
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::numeric[], $8::numeric[])
                AS u(claim_id, customer_id, product, claim_type, region, opened_at, claim_cost, cost_avoided)
         ON CONFLICT (claim_id) DO NOTHING RETURNING claim_id`,
        [
          es.map((e) => e.data.claim_id),
          es.map((e) => e.data.customer_id),
          es.map((e) => e.data.product),
          es.map((e) => e.data.claim_type),
          es.map((e) => e.data.region),
          es.map((e) => e.occurred_at),
          es.map((e) => e.data.claim_cost),
          es.map((e) => e.data.cost_avoided),
        ],
      );
      const clash = firstMissing(es, (e) => e.data.claim_id, rows, 'claim_id');
      if (clash) throw new ApiError('conflict', `Claim ${clash.data.claim_id} already exists (event ${clash.event_id}).`);
      return;
    }
    case 'claim.status_changed': {
      const es = run as EventOf<'claim.status_changed'>[];
      const rows = await tx.query<{ claim_id: string }>(
        `UPDATE claims c
            SET status = u.status,
                closed_at = CASE WHEN u.status IN ('fulfilled', 'denied', 'cancelled') THEN COALESCE(c.closed_at, u.at) ELSE NULL END
           FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(claim_id, status, at)
          WHERE c.claim_id = u.claim_id RETURNING c.claim_id`,
        [es.map((e) => e.data.claim_id), es.map((e) => e.data.status), es.map((e) => e.occurred_at)],
      );
      const unknown = firstMissing(es, (e) => e.data.claim_id, rows, 'claim_id');
      if (unknown) throw new ApiError('validation_failed', `Event ${unknown.event_id}: no claim ${unknown.data.claim_id}.`);
      return;
    }
    case 'session.started': {
      const es = run as EventOf<'session.started'>[];
      const rows = await tx.query<{ session_id: string }>(
        `INSERT INTO issue_sessions (session_id, customer_id, issue_type, channel, region, started_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
        [
          es.map((e) => e.data.session_id),
          es.map((e) => e.data.customer_id),
          es.map((e) => e.data.issue_type),
          es.map((e) => e.data.channel),
          es.map((e) => e.data.region),
          es.map((e) => e.occurred_at),
        ],
      );
      const clash = firstMissing(es, (e) => e.data.session_id, rows, 'session_id');
      if (clash) throw new ApiError('conflict', `Session ${clash.data.session_id} already exists (event ${clash.event_id}).`);
      return;
    }
    case 'session.resolved': {
      const es = run as EventOf<'session.resolved'>[];
      const rows = await tx.query<{ session_id: string }>(
        `UPDATE issue_sessions s SET resolved_at = u.at, outcome = u.outcome, nps_impact = u.nps_impact
           FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::double precision[]) AS u(session_id, at, outcome, nps_impact)
          WHERE s.session_id = u.session_id RETURNING s.session_id`,
        [es.map((e) => e.data.session_id), es.map((e) => e.occurred_at), es.map((e) => e.data.outcome), es.map((e) => e.data.nps_impact)],
      );
      const unknown = firstMissing(es, (e) => e.data.session_id, rows, 'session_id');
      if (unknown) throw new ApiError('validation_failed', `Event ${unknown.event_id}: no session ${unknown.data.session_id}.`);
      return;
    }
    case 'alert.opened': {
      // Opening an alert that is already open is idempotent; a metric the catalog lacks is left blank.
      const es = run as EventOf<'alert.opened'>[];
      await tx.query(
        `INSERT INTO alerts (alert_id, severity, title, metric_name, opened_at)
         SELECT u.alert_id, u.severity, u.title, m.name, u.opened_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(alert_id, severity, title, metric, opened_at)
           LEFT JOIN metrics m ON m.name = u.metric
         ON CONFLICT (alert_id) DO NOTHING`,
        [es.map((e) => e.data.alert_id), es.map((e) => e.data.severity), es.map((e) => e.data.title), es.map((e) => e.data.metric ?? null), es.map((e) => e.occurred_at)],
      );
      return;
    }
    case 'alert.resolved': {
      const es = run as EventOf<'alert.resolved'>[];
      const rows = await tx.query<{ alert_id: string }>(
        `UPDATE alerts a SET resolved_at = COALESCE(a.resolved_at, u.at)
           FROM unnest($1::text[], $2::timestamptz[]) AS u(alert_id, at)
          WHERE a.alert_id = u.alert_id RETURNING a.alert_id`,
        [es.map((e) => e.data.alert_id), es.map((e) => e.occurred_at)],
      );
      const unknown = firstMissing(es, (e) => e.data.alert_id, rows, 'alert_id');
      if (unknown) throw new ApiError('validation_failed', `Event ${unknown.event_id}: no alert ${unknown.data.alert_id}.`);
      return;
    }
  }
}
