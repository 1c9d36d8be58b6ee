import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem } from './helpers.ts';

// JSON text as a client would send it, with the escapes written out so the file holds no raw NUL.
const NUL = '\\u0000';
const LONE = '\\ud800';

async function post(path: string, rawJson: string, role?: 'admin' | 'editor') {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(role ? await authHeaders(role) : {}) };
  return call(path, { method: 'POST', headers, body: rawJson });
}

describe('text that Postgres cannot store', () => {
  it('is refused with 422 at sign-in, token creation and outcome feedback, naming the field', async () => {
    const cases: Array<[string, string, 'admin' | 'editor' | undefined, string]> = [
      ['/v1/auth/sign-in', `{"email":"a${NUL}@example.com","password":"x"}`, undefined, 'body/email'],
      ['/v1/auth/tokens', `{"name":"ci${NUL}"}`, 'admin', 'body/name'],
      ['/v1/feedback/outcome', `{"session_id":"S${NUL}","recommendation_id":"R1","accepted":true,"outcome":"resolved"}`, 'editor', 'body/session_id'],
      ['/v1/auth/tokens', `{"name":"ci${LONE}"}`, 'admin', 'body/name'],
    ];
    for (const [path, body, role, pointer] of cases) {
      const problem = await expectProblem(await post(path, body, role), 422, 'validation_failed');
      expect(problem.errors?.map((e) => e.pointer)).toContain(pointer);
    }
  });

  it('is refused in query strings, and paired surrogates (emoji) still pass', async () => {
    await expectProblem(await call('/v1/metrics?include_retired=tr%00ue', { headers: await authHeaders('editor') }), 422, 'validation_failed');
    const emoji = await post('/v1/sql/validate', JSON.stringify({ sql: "SELECT '😀' AS value FROM workspace.support_l3.claims" }), 'editor');
    expect(emoji.status).toBe(200);
  });
});

describe('hostile JSON shapes', () => {
  it('refuses a body nested thousands of levels deep with 422, on every JSON route', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    for (const [path, role] of [
      ['/v1/auth/sign-in', undefined],
      ['/v1/events', 'editor'],
      ['/v1/sql/validate', 'editor'],
    ] as const) {
      const problem = await expectProblem(await post(path, deep, role), 422, 'validation_failed');
      expect(problem.detail).toMatch(/deeper than 32 levels/);
    }
  });

  it('still reads a body nested as deep as a real request is', async () => {
    const ok = await post('/v1/sql/validate', JSON.stringify({ sql: 'SELECT 1 AS value FROM workspace.support_l3.claims' }), 'editor');
    expect(ok.status).toBe(200);
  });
});
