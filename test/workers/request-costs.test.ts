import { env } from 'cloudflare:workers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../../worker/auth/session.ts';
import { USER_TTL_MS, forgetUsers } from '../../worker/auth/user-cache.ts';
import { findActiveUserById, upsertUser } from '../../worker/auth/users.ts';
import { CATALOG_TTL_MS } from '../../worker/metrics/catalog/snapshot.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { authHeaders, call, expectProblem, json } from './helpers.ts';

/**
 * What a request costs, and what the in-isolate caches may and may not hide: a role change
 * shows within USER_TTL_MS, a sign-out at once; Server-Timing names each dependency's share.
 */
const config = (() => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
})();
const db = createPostgres(config);
const email = `cache-probe-${Date.now()}@command-center.local`;
let userId = '';
let token = '';

beforeAll(async () => {
  const user = await upsertUser(db, { email, name: 'Cache Probe', role: 'viewer', passwordHash: 'x' });
  userId = user.id;
  token = (await issueToken(user, 'session', 3_600, config.SESSION_SECRET!)).token;
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await db.query('DELETE FROM users WHERE id = $1', [userId]);
  await db.close();
});

const me = () => call('/v1/auth/me', { headers: { authorization: `Bearer ${token}` } });
/** A session carrying the user's current epoch (sessions from before a role or status change are over). */
const freshSession = async () => (await issueToken((await findActiveUserById(db, userId))!, 'session', 3_600, config.SESSION_SECRET!)).token;

describe('request costs and the caches behind them', () => {
  it('a role change shows within the identity cache lifetime, and a disabled account is refused', async () => {
    forgetUsers();
    expect((await json<{ role: string }>(await me())).role).toBe('viewer');
    await db.query(`UPDATE users SET role = 'editor' WHERE id = $1`, [userId]);
    // Within the lifetime the isolate still has the old role: the documented bound.
    expect((await json<{ role: string }>(await me())).role).toBe('viewer');
    vi.useFakeTimers({ now: Date.now() + USER_TTL_MS + 1_000, toFake: ['Date'] });
    // Past it, the change has ended the sessions issued before it (the session epoch moved).
    await expectProblem(await me(), 401, 'unauthenticated');
    token = await freshSession();
    expect((await json<{ role: string }>(await me())).role).toBe('editor');

    await db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [userId]);
    vi.setSystemTime(Date.now() + USER_TTL_MS + 1_000);
    await expectProblem(await me(), 401, 'unauthenticated');
    await db.query('UPDATE users SET disabled_at = NULL WHERE id = $1', [userId]);
    // A refused account is not remembered: re-enabled, a new session works on the next request.
    await expectProblem(await me(), 401, 'unauthenticated');
    token = await freshSession();
    expect((await me()).status).toBe(200);
    // The later tests run on the real clock, with a session issued on it.
    vi.useRealTimers();
    token = await freshSession();
  });

  it('a sign-out takes effect at once even while the identity is cached', async () => {
    const session = await freshSession();
    const headers = { authorization: `Bearer ${session}` };
    expect((await call('/v1/auth/me', { headers })).status).toBe(200);
    expect((await call('/v1/auth/sign-out', { method: 'POST', headers })).status).toBeLessThan(300);
    await expectProblem(await call('/v1/auth/me', { headers }), 401, 'unauthenticated');
  });

  /** A widget on the seeded `open_alerts` metric, and a way to read its metric_version. */
  async function alertsWidget() {
    const editor = await authHeaders('editor');
    const created = await json<{ id: string }>(
      await call('/v1/widgets', {
        method: 'POST',
        headers: { ...editor, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'alerts', metric: 'open_alerts', visualization: 'kpi' }),
      }),
      201,
    );
    return {
      version: async () => (await json<{ metric_version: number }>(await call(`/v1/widgets/${created.id}/data`, { method: 'POST', headers: editor }))).metric_version,
      remove: async () => expect((await call(`/v1/widgets/${created.id}`, { method: 'DELETE', headers: editor })).status).toBe(200),
    };
  }

  it('a metric edit reaches tiles in this isolate at once', async () => {
    const widget = await alertsWidget();
    const admin = await authHeaders('admin');
    const before = await widget.version();
    const metric = await json<{ description: string }>(await call('/v1/metrics/open_alerts', { headers: admin }));
    const patched = await call('/v1/metrics/open_alerts', {
      method: 'PATCH',
      headers: { ...admin, 'content-type': 'application/json' },
      // The same text: any accepted PATCH is a new version.
      body: JSON.stringify({ description: metric.description }),
    });
    expect(patched.status).toBe(200);
    expect(await widget.version()).toBe(before + 1);
    await widget.remove();
  });

  it('an edit written by another isolate reaches tiles here within CATALOG_TTL_MS', async () => {
    const widget = await alertsWidget();
    // The clock stands still until moved, so "within the lifetime" does not depend on how fast requests
    // run; it starts past any snapshot loaded so far, so the next request loads one at this instant.
    vi.useFakeTimers({ now: Date.now() + CATALOG_TTL_MS + 1_000, toFake: ['Date'] });
    const before = await widget.version();
    // What another isolate's PATCH leaves in Postgres, without this isolate's snapshot being dropped.
    await db.transaction(async (tx) => {
      const [row] = await tx.query<{ version: number; definition: unknown }>(
        `UPDATE metrics SET version = version + 1, updated_at = now() WHERE name = 'open_alerts'
          RETURNING version, (SELECT definition FROM metric_versions WHERE metric_name = 'open_alerts' ORDER BY version DESC LIMIT 1) AS definition`,
      );
      await tx.query('INSERT INTO metric_versions (metric_name, version, definition, changed_by) VALUES ($1, $2, $3, $4)', [
        'open_alerts',
        row!.version,
        JSON.stringify(row!.definition),
        userId,
      ]);
    });
    vi.setSystemTime(Date.now() + CATALOG_TTL_MS - 500);
    expect(await widget.version()).toBe(before);
    vi.setSystemTime(Date.now() + 1_000);
    expect(await widget.version()).toBe(before + 1);
    await widget.remove();
  });

  it('Server-Timing names the dependencies a request used', async () => {
    forgetUsers();
    const res = await me();
    const timing = res.headers.get('server-timing') ?? '';
    expect(timing).toMatch(/(^|,)auth;dur=[\d.]+/);
    expect(timing).toMatch(/(^|,)pg;dur=[\d.]+;desc="1 calls"/);
    expect(timing).toMatch(/(^|,)redis;dur=[\d.]+/);
    expect(timing).toMatch(/(^|,)total;dur=[\d.]+/);
    // Cached now: the same request needs no Postgres at all.
    expect((await me()).headers.get('server-timing') ?? '').not.toMatch(/(^|,)pg;/);
  });
});
