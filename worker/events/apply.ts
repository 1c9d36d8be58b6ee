import { ApiError } from '../lib/errors.ts';
import type { Postgres } from '../services/postgres.ts';
import type { IngestEvent } from './schema.ts';

type Tx = Pick<Postgres, 'query'>;

/** Writes one event's effect on the operational tables. Unknown targets are a 422, not a no-op. */
export async function applyEvent(tx: Tx, e: IngestEvent): Promise<void> {
  switch (e.type) {
    case 'claim.filed': {
      const d = e.data;
      await tx.query(
        `INSERT INTO claims (claim_id, customer_id, product, claim_type, status, region, opened_at, claim_cost, cost_avoided)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)`,
        [d.claim_id, d.customer_id, d.product, d.claim_type, d.region, e.occurred_at, d.claim_cost, d.cost_avoided],
      ).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') throw new ApiError('conflict', `Claim ${d.claim_id} already exists (event ${e.event_id}).`);
        throw err;
      });
      return;
    }
    case 'claim.status_changed': {
      const closing = ['fulfilled', 'denied', 'cancelled'].includes(e.data.status);
      const rows = await tx.query<{ claim_id: string }>(
        `UPDATE claims SET status = $2, closed_at = CASE WHEN $3 THEN COALESCE(closed_at, $4::timestamptz) ELSE NULL END
          WHERE claim_id = $1 RETURNING claim_id`,
        [e.data.claim_id, e.data.status, closing, e.occurred_at],
      );
      if (rows.length === 0) throw new ApiError('validation_failed', `Event ${e.event_id}: no claim ${e.data.claim_id}.`);
      return;
    }
    case 'session.started': {
      const d = e.data;
      await tx.query(
        `INSERT INTO issue_sessions (session_id, customer_id, issue_type, channel, region, started_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [d.session_id, d.customer_id, d.issue_type, d.channel, d.region, e.occurred_at],
      ).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') throw new ApiError('conflict', `Session ${d.session_id} already exists (event ${e.event_id}).`);
        throw err;
      });
      return;
    }
    case 'session.resolved': {
      const rows = await tx.query<{ session_id: string }>(
        `UPDATE issue_sessions SET resolved_at = $2, outcome = $3, nps_impact = $4 WHERE session_id = $1 RETURNING session_id`,
        [e.data.session_id, e.occurred_at, e.data.outcome, e.data.nps_impact],
      );
      if (rows.length === 0) throw new ApiError('validation_failed', `Event ${e.event_id}: no session ${e.data.session_id}.`);
      return;
    }
    case 'alert.opened': {
      await tx.query(
        `INSERT INTO alerts (alert_id, severity, title, metric_name, opened_at) VALUES ($1, $2, $3, (SELECT name FROM metrics WHERE name = $4), $5)
         ON CONFLICT (alert_id) DO NOTHING`,
        [e.data.alert_id, e.data.severity, e.data.title, e.data.metric ?? null, e.occurred_at],
      );
      return;
    }
    case 'alert.resolved': {
      const rows = await tx.query<{ alert_id: string }>(
        'UPDATE alerts SET resolved_at = COALESCE(resolved_at, $2) WHERE alert_id = $1 RETURNING alert_id',
        [e.data.alert_id, e.occurred_at],
      );
      if (rows.length === 0) throw new ApiError('validation_failed', `Event ${e.event_id}: no alert ${e.data.alert_id}.`);
      return;
    }
  }
}
