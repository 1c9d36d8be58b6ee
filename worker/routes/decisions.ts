import { createRoute, z } from '@hono/zod-openapi';
import { rankActions } from '../dashboard/decisions/rank.ts';
import { findIssueSession, recordOutcome, resetDemoData } from '../dashboard/decisions/store.ts';
import { newApp } from '../http/app.ts';
import { clearLocalCache } from '../metrics/index.ts';
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
    const session = await findIssueSession(db, session_id);
    if (!session) throw new ApiError('not_found', `No issue session ${session_id}.`);
    return c.json({ session_id, issue_type: session.issue_type, actions: await rankActions(db, session) }, 200);
  })
  .openapi(feedbackRoute, async (c) => {
    const recorded = await recordOutcome(c.get('services').postgres, c.req.valid('json'), c.get('identity')!.userId);
    if (!recorded) throw new ApiError('not_found', 'Unknown session or recommendation.');
    return c.json({ recorded: true as const, duplicate: recorded.duplicate }, 200);
  })
  .openapi(resetRoute, async (c) => {
    const counts = await resetDemoData(c.get('services').postgres);
    clearLocalCache();
    return c.json({ reset: true as const, ...counts }, 200);
  });
