import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem, json } from './helpers.ts';

const post = async (path: string, body: unknown, role: 'viewer' | 'editor' | 'admin' = 'editor') =>
  call(path, { method: 'POST', headers: { ...(await authHeaders(role)), 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Ranked {
  issue_type: string;
  actions: Array<{ recommendation_id: string; score: number; rationale: string }>;
}

describe('decisions', () => {
  it('ranks actions for a session from the data and learns from recorded outcomes', async () => {
    // A seeded battery session: two actions compete for it.
    const session = 'S' + String(2).padStart(6, '0');
    const first = await json<Ranked>(await post('/v1/decisions/next-best-action', { session_id: session }, 'viewer'));
    expect(first.actions.length).toBeGreaterThan(0);
    expect(first.actions.every((a) => a.rationale.includes('similar'))).toBe(true);
    const sorted = [...first.actions].sort((a, b) => b.score - a.score);
    expect(first.actions).toEqual(sorted);

    const target = first.actions.at(-1)!;
    const recorded = await json<{ duplicate: boolean }>(
      await post('/v1/feedback/outcome', { session_id: session, recommendation_id: target.recommendation_id, accepted: true, outcome: 'resolved' }),
    );
    expect(recorded.duplicate).toBe(false);
    const again = await json<{ duplicate: boolean }>(
      await post('/v1/feedback/outcome', { session_id: session, recommendation_id: target.recommendation_id, accepted: true, outcome: 'resolved' }),
    );
    expect(again.duplicate).toBe(true);
    const after = await json<Ranked>(await post('/v1/decisions/next-best-action', { session_id: session }, 'viewer'));
    const moved = after.actions.find((a) => a.recommendation_id === target.recommendation_id)!;
    expect(moved.score).toBeGreaterThan(target.score);
    expect(moved.rationale).toContain('1/1 accepted offers resolved');
  });

  it('answers 404 for unknown sessions and refuses bad feedback', async () => {
    await expectProblem(await post('/v1/decisions/next-best-action', { session_id: 'NOPE' }, 'viewer'), 404, 'not_found');
    await expectProblem(await post('/v1/feedback/outcome', { session_id: 'NOPE', recommendation_id: 'R01', accepted: true, outcome: 'resolved' }), 404, 'not_found');
    await expectProblem(await post('/v1/feedback/outcome', { session_id: 'S000001', recommendation_id: 'R01', accepted: 'yes', outcome: 'resolved' }), 422, 'validation_failed');
  });
});

describe('demo reset', () => {
  it('needs an explicit confirmation and restores the seed', async () => {
    await expectProblem(await post('/v1/admin/reset-demo', {}, 'admin'), 422, 'validation_failed');
    const done = await json<{ reset: boolean; claims: number; issue_sessions: number }>(await post('/v1/admin/reset-demo', { confirm: 'reset-demo' }, 'admin'));
    expect(done).toMatchObject({ reset: true, claims: 2500, issue_sessions: 8000 });
  });
});
