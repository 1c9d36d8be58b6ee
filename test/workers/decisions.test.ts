import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { authHeaders, call, expectProblem, json } from './helpers.ts';

const post = async (path: string, body: unknown, role: 'viewer' | 'editor' | 'admin' = 'editor') =>
  call(path, { method: 'POST', headers: { ...(await authHeaders(role)), 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Ranked {
  issue_type: string;
  actions: Array<{ recommendation_id: string; score: number; rationale: string }>;
}

const config = (() => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
})();
const db = createPostgres(config);

// An issue type, its two recommendations and its sessions of this file's own: the ranking and the
// feedback counts are then exactly what these tests put there, whatever else runs at the same time.
const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 10);
const ISSUE_TYPE = `test_${tag}`;
const FIRST = `T${tag}A`;
const SECOND = `T${tag}B`;
const SESSION = `T-${tag}-open`;

beforeAll(async () => {
  await db.batch([
    {
      text: `INSERT INTO recommendations (recommendation_id, issue_type, action, description, base_score)
             VALUES ($1, $3, 'replace', 'Offer a replacement', 0.6), ($2, $3, 'guide', 'Walk through a reset', 0.4)`,
      params: [FIRST, SECOND, ISSUE_TYPE],
    },
    {
      // Four closed chat sessions like this one, three resolved: the cohort resolves 75% of the time.
      text: `INSERT INTO issue_sessions (session_id, customer_id, issue_type, channel, region, started_at, outcome)
             SELECT $1 || '-' || i, 'test-customer', $2, 'chat', 'EMEA', now(), CASE WHEN i < 3 THEN 'resolved' ELSE 'escalated' END
               FROM generate_series(0, 3) AS i
             UNION ALL SELECT $3, 'test-customer', $2, 'chat', 'EMEA', now(), NULL`,
      params: [`T-${tag}`, ISSUE_TYPE, SESSION],
    },
  ]);
});

afterAll(async () => {
  // Feedback goes with its session and recommendation (ON DELETE CASCADE).
  await db.batch([
    { text: 'DELETE FROM issue_sessions WHERE issue_type = $1', params: [ISSUE_TYPE] },
    { text: 'DELETE FROM recommendations WHERE issue_type = $1', params: [ISSUE_TYPE] },
  ]);
  await db.close();
});

describe('decisions', () => {
  it('ranks actions for a session from the data and learns from recorded outcomes', async () => {
    const first = await json<Ranked>(await post('/v1/decisions/next-best-action', { session_id: SESSION }, 'viewer'));
    expect(first.issue_type).toBe(ISSUE_TYPE);
    // prior × (0.5 + cohort rate): 0.6 × 1.25 and 0.4 × 1.25.
    expect(first.actions.map(({ recommendation_id, score }) => [recommendation_id, score])).toEqual([
      [FIRST, 0.75],
      [SECOND, 0.5],
    ]);
    expect(first.actions[1]!.rationale).toBe('prior 0.40; no outcomes recorded yet; 75% of 4 similar chat sessions resolved');

    const feedback = { session_id: SESSION, recommendation_id: SECOND, accepted: true, outcome: 'resolved' };
    expect(await json<{ duplicate: boolean }>(await post('/v1/feedback/outcome', feedback))).toMatchObject({ duplicate: false });
    expect(await json<{ duplicate: boolean }>(await post('/v1/feedback/outcome', feedback))).toMatchObject({ duplicate: true });

    const after = await json<Ranked>(await post('/v1/decisions/next-best-action', { session_id: SESSION }, 'viewer'));
    const moved = after.actions.find((a) => a.recommendation_id === SECOND)!;
    // (1 success + 0.4 × 10) / (1 accepted + 10) × 1.25, counted once despite the repeat.
    expect(moved.score).toBe(0.568);
    expect(moved.rationale).toContain('1/1 accepted offers resolved');
  });

  it('answers 404 for unknown sessions and refuses bad feedback', async () => {
    await expectProblem(await post('/v1/decisions/next-best-action', { session_id: 'NOPE' }, 'viewer'), 404, 'not_found');
    await expectProblem(await post('/v1/feedback/outcome', { session_id: 'NOPE', recommendation_id: FIRST, accepted: true, outcome: 'resolved' }), 404, 'not_found');
    await expectProblem(await post('/v1/feedback/outcome', { session_id: SESSION, recommendation_id: 'R-NOPE', accepted: true, outcome: 'resolved' }), 404, 'not_found');
    await expectProblem(await post('/v1/feedback/outcome', { session_id: SESSION, recommendation_id: FIRST, accepted: 'yes', outcome: 'resolved' }), 422, 'validation_failed');
  });
});

describe('demo reset', () => {
  // The reset itself replaces every operational row, so it is exercised on a database of its own
  // (test/node/demo-reset.test.ts); here only that the route refuses without its confirmation.
  it('needs an explicit confirmation', async () => {
    await expectProblem(await post('/v1/admin/reset-demo', {}, 'admin'), 422, 'validation_failed');
    await expectProblem(await post('/v1/admin/reset-demo', { confirm: 'yes' }, 'admin'), 422, 'validation_failed');
    await expectProblem(await post('/v1/admin/reset-demo', { confirm: 'reset-demo' }, 'editor'), 403, 'forbidden');
  });
});
