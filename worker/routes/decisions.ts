import { createRoute, z } from '@hono/zod-openapi';
import { clearLocalCache } from '../metrics/cache.ts';
import { rankActions } from '../dashboard/decisions/rank.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';

const SessionId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/);

const RankedSchema = z
  .object({
    session_id: z.string(),
    issue_type: z.string(),
    actions: z.array(z.object({ recommendation_id: z.string(), action: z.string(), description: z.string(), score: z.number(), rationale: z.string() })),
  })
  .openapi('NextBestAction');

const nbaRoute = createRoute({
  method: 'post',
  path: '/v1/decisions/next-best-action',
  tags: ['decisions'],
  summary: 'Rank the recommendations for an issue session from the data',
  request: jsonBody(z.strictObject({ session_id: SessionId }).openapi('NextBestActionRequest')),
  responses: { 200: jsonContent(RankedSchema, 'Ranked actions'), ...problems(400, 401, 404, 415, 422, 503) },
});

const FeedbackSchema = z
  .strictObject({
    session_id: SessionId,
    recommendation_id: z.string().min(1).max(16),
    accepted: z.boolean(),
    outcome: z.enum(['resolved', 'escalated', 'abandoned', 'claim_filed']),
  })
  .openapi('OutcomeFeedback');

const feedbackRoute = createRoute({
  method: 'post',
  path: '/v1/feedback/outcome',
  tags: ['decisions'],
  summary: 'Record what happened after a recommendation (editor); the ranking learns from it',
  request: jsonBody(FeedbackSchema),
  responses: {
    200: jsonContent(z.object({ recorded: z.literal(true), duplicate: z.boolean() }).openapi('OutcomeRecorded'), 'Recorded'),
    ...problems(400, 401, 403, 404, 415, 422, 503),
  },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/v1/admin/reset-demo',
  tags: ['operations'],
  summary: 'Restore the seeded operational data (admin)',
  description: 'Destructive: events, feedback and operational rows are replaced by the seed. The body must say so.',
  request: jsonBody(z.strictObject({ confirm: z.literal('reset-demo') }).openapi('DemoResetRequest')),
  responses: {
    200: jsonContent(z.object({ reset: z.literal(true), claims: z.number(), issue_sessions: z.number(), alerts: z.number() }).openapi('DemoReset'), 'Reset'),
    ...problems(400, 401, 403, 415, 422, 503),
  },
});

export const decisionRoutes = newApp()
  .openapi(nbaRoute, async (c) => {
    const db = c.get('services').postgres;
    const { session_id } = c.req.valid('json');
    const sessions = await db.query<{ issue_type: string; channel: string }>('SELECT issue_type, channel FROM issue_sessions WHERE session_id = $1', [session_id]);
    const session = sessions[0];
    if (!session) throw new ApiError('not_found', `No issue session ${session_id}.`);
    return c.json({ session_id, issue_type: session.issue_type, actions: await rankActions(db, session) }, 200);
  })
  .openapi(feedbackRoute, async (c) => {
    const f = c.req.valid('json');
    const duplicate = await c.get('services').postgres.transaction(async (tx) => {
      const known = await tx.query<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM issue_sessions WHERE session_id = $1) AND EXISTS (SELECT 1 FROM recommendations WHERE recommendation_id = $2) AS ok`,
        [f.session_id, f.recommendation_id],
      );
      if (!known[0]?.ok) throw new ApiError('not_found', 'Unknown session or recommendation.');
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO decision_feedback (session_id, recommendation_id, accepted, outcome, recorded_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (session_id, recommendation_id) DO NOTHING RETURNING id`,
        [f.session_id, f.recommendation_id, f.accepted, f.outcome, c.get('identity')!.userId],
      );
      // A repeated report changes nothing: the counts move once per session and action.
      if (inserted.length === 0) return true;
      if (f.accepted) {
        await tx.query(
          'UPDATE recommendations SET accepted_count = accepted_count + 1, success_count = success_count + $2 WHERE recommendation_id = $1',
          [f.recommendation_id, f.outcome === 'resolved' ? 1 : 0],
        );
      }
      return false;
    });
    return c.json({ recorded: true as const, duplicate }, 200);
  })
  .openapi(resetRoute, async (c) => {
    const db = c.get('services').postgres;
    const counts = await db.transaction(async (tx) => {
      await tx.query('DELETE FROM decision_feedback');
      await tx.query('DELETE FROM events');
      await tx.query('SELECT seed_demo_data(now())');
      const rows = await tx.query<{ claims: number; issue_sessions: number; alerts: number }>(
        'SELECT (SELECT count(*)::int FROM claims) AS claims, (SELECT count(*)::int FROM issue_sessions) AS issue_sessions, (SELECT count(*)::int FROM alerts) AS alerts',
      );
      return rows[0]!;
    });
    clearLocalCache();
    return c.json({ reset: true as const, ...counts }, 200);
  });
