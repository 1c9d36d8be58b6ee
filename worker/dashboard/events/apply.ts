import { ApiError } from '../../http/errors.ts';
import type { Postgres, Statement } from '../../services/postgres.ts';
import type { IngestEvent } from './schema.ts';

type Tx = Pick<Postgres, 'query'>;
type EventOf<T extends IngestEvent['type']> = Extract<IngestEvent, { type: T }>;

/**
 * The events' effects on the operational tables, as statements to run in order inside one
 * transaction. Consecutive events of one type go in one statement over arrays (`unnest`), so a
 * batch costs a statement per run of a type rather than per event; a run ends where a target
 * repeats, so "filed then changed" of one claim still happens in that order.
 *
 * Each statement checks its own outcome: an unknown target (CC422) or a duplicate new target
 * (CC409) fails it with a message naming the first such event, never a silent no-op. Because the
 * check is in the statement, the list can go to Postgres in one round trip (`Postgres.batch`) as
 * well as one statement at a time (`applyEvents`); `applyError` turns either failure into the
 * API's answer.
 */
export function applyStatements(events: readonly IngestEvent[]): Statement[] {
  return runs(events).map(statementFor);
}

/** Runs the statements one by one inside the caller's transaction. */
export async function applyEvents(tx: Tx, events: readonly IngestEvent[]): Promise<void> {
  for (const statement of applyStatements(events)) {
    try {
      await tx.query(statement.text, statement.params);
    } catch (err) {
      throw applyError(err);
    }
  }
}

/** A statement's own check failing (CC409, CC422) as the ApiError it stands for; anything else unchanged. */
export function applyError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'CC409') return new ApiError('conflict', message);
  if (code === 'CC422') return new ApiError('validation_failed', message);
  return err;
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

/** One run as arrays, one per column: `u.event_id`, `u.key` (the run's target) and these. */
type Columns = Array<[name: string, sqlType: string, values: unknown[]]>;

/**
 * A data-modifying statement over the run (`write`, reading the CTE `u` and returning its `key`s)
 * with the check that every key came back: the first event, in batch order, whose key did not
 * fails the statement with `sqlstate` and `message`, a format() string given the key and the event
 * id in that order.
 */
function checked(run: readonly IngestEvent[], keys: string[], columns: Columns, write: string, sqlstate: 'CC409' | 'CC422', message: string): Statement {
  const all: Columns = [['event_id', 'text', run.map((e) => e.event_id)], ['key', 'text', keys], ...columns];
  const arrays = all.map(([, sqlType], i) => `$${i + 2}::${sqlType}[]`).join(', ');
  return {
    text: `WITH u AS (SELECT * FROM unnest(${arrays}) WITH ORDINALITY AS u(${all.map(([name]) => name).join(', ')}, n)),
     done AS (${write})
     SELECT cc_fail('${sqlstate}', format($1, u.key, u.event_id))
       FROM u WHERE u.key NOT IN (SELECT key FROM done) ORDER BY u.n LIMIT 1`,
    params: [message, ...all.map(([, , values]) => values)],
  };
}

/** The one run type whose writes are idempotent by design: nothing to check. */
function unchecked(run: readonly IngestEvent[], keys: string[], columns: Columns, write: string): Statement {
  const all: Columns = [['key', 'text', keys], ...columns];
  return {
    text: `WITH u AS (SELECT * FROM unnest(${all.map(([, sqlType], i) => `$${i + 1}::${sqlType}[]`).join(', ')}) AS u(${all.map(([name]) => name).join(', ')})) ${write}`,
    params: all.map(([, , values]) => values),
  };
}

function statementFor(run: IngestEvent[]): Statement {
  switch (run[0]!.type) {
    case 'claim.filed': {
      const es = run as EventOf<'claim.filed'>[];
      return checked(
        es,
        es.map((e) => e.data.claim_id),
        [
          ['customer_id', 'text', es.map((e) => e.data.customer_id)],
          ['product', 'text', es.map((e) => e.data.product)],
          ['claim_type', 'text', es.map((e) => e.data.claim_type)],
          ['region', 'text', es.map((e) => e.data.region)],
          ['opened_at', 'timestamptz', es.map((e) => e.occurred_at)],
          ['claim_cost', 'numeric', es.map((e) => e.data.claim_cost)],
          ['cost_avoided', 'numeric', es.map((e) => e.data.cost_avoided)],
        ],
        `INSERT INTO claims (claim_id, customer_id, product, claim_type, status, region, opened_at, claim_cost, cost_avoided)
         SELECT u.key, u.customer_id, u.product, u.claim_type, 'open', u.region, u.opened_at, u.claim_cost, u.cost_avoided FROM u
         ON CONFLICT (claim_id) DO NOTHING RETURNING claim_id AS key`,
        'CC409',
        'Claim %s already exists (event %s).',
      );
    }
    case 'claim.status_changed': {
      const es = run as EventOf<'claim.status_changed'>[];
      return checked(
        es,
        es.map((e) => e.data.claim_id),
        [
          ['status', 'text', es.map((e) => e.data.status)],
          ['at', 'timestamptz', es.map((e) => e.occurred_at)],
        ],
        `UPDATE claims c
            SET status = u.status,
                closed_at = CASE WHEN u.status IN ('fulfilled', 'denied', 'cancelled') THEN COALESCE(c.closed_at, u.at) ELSE NULL END
           FROM u WHERE c.claim_id = u.key RETURNING c.claim_id AS key`,
        'CC422',
        'Event %2$s: no claim %1$s.',
      );
    }
    case 'session.started': {
      const es = run as EventOf<'session.started'>[];
      return checked(
        es,
        es.map((e) => e.data.session_id),
        [
          ['customer_id', 'text', es.map((e) => e.data.customer_id)],
          ['issue_type', 'text', es.map((e) => e.data.issue_type)],
          ['channel', 'text', es.map((e) => e.data.channel)],
          ['region', 'text', es.map((e) => e.data.region)],
          ['started_at', 'timestamptz', es.map((e) => e.occurred_at)],
        ],
        `INSERT INTO issue_sessions (session_id, customer_id, issue_type, channel, region, started_at)
         SELECT u.key, u.customer_id, u.issue_type, u.channel, u.region, u.started_at FROM u
         ON CONFLICT (session_id) DO NOTHING RETURNING session_id AS key`,
        'CC409',
        'Session %s already exists (event %s).',
      );
    }
    case 'session.resolved': {
      const es = run as EventOf<'session.resolved'>[];
      return checked(
        es,
        es.map((e) => e.data.session_id),
        [
          ['at', 'timestamptz', es.map((e) => e.occurred_at)],
          ['outcome', 'text', es.map((e) => e.data.outcome)],
          ['nps_impact', 'double precision', es.map((e) => e.data.nps_impact)],
        ],
        `UPDATE issue_sessions s SET resolved_at = u.at, outcome = u.outcome, nps_impact = u.nps_impact
           FROM u WHERE s.session_id = u.key RETURNING s.session_id AS key`,
        'CC422',
        'Event %2$s: no session %1$s.',
      );
    }
    case 'alert.opened': {
      // Opening an alert that is already open is idempotent; a metric the catalog lacks is left blank.
      const es = run as EventOf<'alert.opened'>[];
      return unchecked(
        es,
        es.map((e) => e.data.alert_id),
        [
          ['severity', 'text', es.map((e) => e.data.severity)],
          ['title', 'text', es.map((e) => e.data.title)],
          ['metric', 'text', es.map((e) => e.data.metric ?? null)],
          ['opened_at', 'timestamptz', es.map((e) => e.occurred_at)],
        ],
        `INSERT INTO alerts (alert_id, severity, title, metric_name, opened_at)
         SELECT u.key, u.severity, u.title, m.name, u.opened_at FROM u LEFT JOIN metrics m ON m.name = u.metric
         ON CONFLICT (alert_id) DO NOTHING`,
      );
    }
    case 'alert.resolved': {
      const es = run as EventOf<'alert.resolved'>[];
      return checked(
        es,
        es.map((e) => e.data.alert_id),
        [['at', 'timestamptz', es.map((e) => e.occurred_at)]],
        `UPDATE alerts a SET resolved_at = COALESCE(a.resolved_at, u.at) FROM u WHERE a.alert_id = u.key RETURNING a.alert_id AS key`,
        'CC422',
        'Event %2$s: no alert %1$s.',
      );
    }
  }
}
