import type { Postgres } from '../../services/postgres.ts';

type Db = Pick<Postgres, 'query'>;

export interface RankedAction {
  recommendation_id: string;
  action: string;
  description: string;
  score: number;
  rationale: string;
}

/** How much weight the prior (base_score) carries against observed outcomes. */
const PRIOR_WEIGHT = 10;

/**
 * Ranks the recommendations for a session's issue type from the data: each action's prior is
 * blended with its observed success rate (accepted offers that ended resolved), then scaled by
 * how often sessions like this one (same issue type and channel) resolve at all.
 */
export async function rankActions(db: Db, session: { issue_type: string; channel: string }): Promise<RankedAction[]> {
  const rows = await db.query<{
    recommendation_id: string;
    action: string;
    description: string;
    base_score: number;
    accepted_count: number;
    success_count: number;
    cohort_rate: number | string | null;
    cohort_size: number | string;
  }>(
    `WITH cohort AS (
       SELECT COUNT(*) AS n, AVG(CASE WHEN outcome = 'resolved' THEN 1.0 ELSE 0.0 END) AS rate
         FROM issue_sessions WHERE issue_type = $1 AND channel = $2 AND outcome IS NOT NULL)
     SELECT r.recommendation_id, r.action, r.description, r.base_score, r.accepted_count, r.success_count,
            cohort.rate AS cohort_rate, cohort.n AS cohort_size
       FROM recommendations r CROSS JOIN cohort
      WHERE r.issue_type = $1`,
    [session.issue_type, session.channel],
  );
  return rows
    .map((r) => {
      const posterior = (r.success_count + r.base_score * PRIOR_WEIGHT) / (r.accepted_count + PRIOR_WEIGHT);
      const cohortRate = r.cohort_rate === null ? 0.5 : Number(r.cohort_rate);
      const score = Math.round(posterior * (0.5 + cohortRate) * 1000) / 1000;
      const observed = r.accepted_count > 0 ? `${r.success_count}/${r.accepted_count} accepted offers resolved` : 'no outcomes recorded yet';
      return {
        recommendation_id: r.recommendation_id,
        action: r.action,
        description: r.description,
        score,
        rationale: `prior ${r.base_score.toFixed(2)}; ${observed}; ${Math.round(cohortRate * 100)}% of ${Number(r.cohort_size)} similar ${session.channel} sessions resolved`,
      };
    })
    .sort((a, b) => b.score - a.score || a.recommendation_id.localeCompare(b.recommendation_id));
}
