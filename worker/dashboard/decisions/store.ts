import type { Postgres } from '../../services/postgres.ts';

type Db = Pick<Postgres, 'query' | 'transaction'>;

export type IssueSession = {
  issue_type: string;
  channel: string;
};

export interface Outcome {
  session_id: string;
  recommendation_id: string;
  accepted: boolean;
  outcome: string;
}

export async function findIssueSession(db: Pick<Postgres, 'query'>, sessionId: string): Promise<IssueSession | null> {
  const rows = await db.query<IssueSession>('SELECT issue_type, channel FROM issue_sessions WHERE session_id = $1', [sessionId]);
  return rows[0] ?? null;
}

/**
 * Records what happened after a recommendation. Null when the session or the recommendation is
 * unknown; otherwise whether the report repeats one already counted (it then changes nothing: the
 * counts move once per session and action).
 */
export async function recordOutcome(db: Db, outcome: Outcome, recordedBy: string): Promise<{ duplicate: boolean } | null> {
  return db.transaction(async (tx) => {
    const known = await tx.query<{ ok: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM issue_sessions WHERE session_id = $1) AND EXISTS (SELECT 1 FROM recommendations WHERE recommendation_id = $2) AS ok`,
      [outcome.session_id, outcome.recommendation_id],
    );
    if (!known[0]?.ok) return null;
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO decision_feedback (session_id, recommendation_id, accepted, outcome, recorded_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id, recommendation_id) DO NOTHING RETURNING id`,
      [outcome.session_id, outcome.recommendation_id, outcome.accepted, outcome.outcome, recordedBy],
    );
    if (inserted.length === 0) return { duplicate: true };
    if (outcome.accepted) {
      await tx.query(
        'UPDATE recommendations SET accepted_count = accepted_count + 1, success_count = success_count + $2 WHERE recommendation_id = $1',
        [outcome.recommendation_id, outcome.outcome === 'resolved' ? 1 : 0],
      );
    }
    return { duplicate: false };
  });
}

/** Restores the seeded operational data; events and feedback go with it. */
export async function resetDemoData(db: Db): Promise<{ claims: number; issue_sessions: number; alerts: number }> {
  return db.transaction(async (tx) => {
    await tx.query('DELETE FROM decision_feedback');
    await tx.query('DELETE FROM events');
    await tx.query('SELECT seed_demo_data(now())');
    const rows = await tx.query<{ claims: number; issue_sessions: number; alerts: number }>(
      'SELECT (SELECT count(*)::int FROM claims) AS claims, (SELECT count(*)::int FROM issue_sessions) AS issue_sessions, (SELECT count(*)::int FROM alerts) AS alerts',
    );
    return rows[0]!;
  });
}
