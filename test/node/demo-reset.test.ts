// The demo reset replaces every operational row, so it runs here on a database of its own rather
// than on the one the workers tests share.
import { describe, expect, it } from 'vitest';
import { resetDemoData } from '../../worker/dashboard/decisions/store.ts';
import type { Postgres } from '../../worker/services/postgres.ts';
import { privateDatabase } from './private-database.ts';

const client = privateDatabase('command_center_demo_reset');

/** The two calls the store makes, over one client. */
const db: Pick<Postgres, 'query' | 'transaction'> = {
  query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) => (await client().query(text, params)).rows as T[],
  transaction: async (fn) => {
    await client().query('BEGIN');
    try {
      const result = await fn({ query: db.query, queryWithFields: () => Promise.reject(new Error('not used')) });
      await client().query('COMMIT');
      return result;
    } catch (error) {
      await client().query('ROLLBACK');
      throw error;
    }
  },
};

const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

describe('demo reset', () => {
  it('restores the seed and drops events and feedback', async () => {
    const seeded = { claims: await count('claims'), issue_sessions: await count('issue_sessions'), alerts: await count('alerts') };
    expect(seeded).toEqual({ claims: 2500, issue_sessions: 8000, alerts: expect.any(Number) });
    const [session] = await db.query<{ session_id: string; issue_type: string }>('SELECT session_id, issue_type FROM issue_sessions LIMIT 1');
    const [recommendation] = await db.query<{ recommendation_id: string }>('SELECT recommendation_id FROM recommendations WHERE issue_type = $1 LIMIT 1', [session!.issue_type]);
    await db.query(`INSERT INTO decision_feedback (session_id, recommendation_id, accepted, outcome) VALUES ($1, $2, true, 'resolved')`, [
      session!.session_id,
      recommendation!.recommendation_id,
    ]);
    await db.query('UPDATE recommendations SET accepted_count = 7 WHERE recommendation_id = $1', [recommendation!.recommendation_id]);
    await db.query(`INSERT INTO events (event_id, type, occurred_at, payload) VALUES ('e-1', 'claim_opened', now(), '{}')`);
    await db.query('DELETE FROM claims WHERE claim_id IN (SELECT claim_id FROM claims LIMIT 10)');

    expect(await resetDemoData(db)).toEqual(seeded);
    expect(await count('decision_feedback')).toBe(0);
    expect(await count('events')).toBe(0);
    expect(await db.query('SELECT accepted_count FROM recommendations WHERE recommendation_id = $1', [recommendation!.recommendation_id])).toEqual([{ accepted_count: 0 }]);
  });
});
