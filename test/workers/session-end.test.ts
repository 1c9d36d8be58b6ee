import { env, exports } from 'cloudflare:workers';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLOSE_CODES } from '../../durable-objects/protocol.ts';
import { hashPassword } from '../../worker/auth/password.ts';
import { RENEWAL_GRACE_SECONDS } from '../../worker/auth/revocation.ts';
import { issueToken } from '../../worker/auth/session.ts';
import { forgetUsers } from '../../worker/auth/user-cache.ts';
import { findActiveUserByEmail, upsertUser } from '../../worker/auth/users.ts';
import { createApi } from '../../worker/api.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { authHeaders, call, expectProblem, json, sessionToken } from './helpers.ts';

const config = (() => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
})();
const db = createPostgres(config);
const created: string[] = [];

/** A user of this file's own: ending its sessions touches nobody else's. */
async function throwawayUser(role: 'viewer' | 'editor' = 'viewer') {
  const email = `session-end-${crypto.randomUUID().slice(0, 8)}@command-center.local`;
  const user = await upsertUser(db, { email, name: 'Session End', role, passwordHash: await hashPassword('a long passphrase') });
  created.push(user.id);
  return (await findActiveUserByEmail(db, email))!;
}

async function sessionFor(user: Awaited<ReturnType<typeof throwawayUser>>, ttl = 3_600) {
  return (await issueToken(user, 'session', ttl, config.SESSION_SECRET!)).token;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const hub = () => env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName('default'));

/** Opens the stream (the configured `default` dashboard) and reports how it closes. */
async function openStream(headers: Record<string, string>, query = '') {
  const res = await exports.default.fetch(new Request(`http://cc.test/v1/dashboard/stream${query}`, { headers: { upgrade: 'websocket', ...headers } }));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  let code: number | null = null;
  const closed = new Promise<number>((resolve) =>
    ws.addEventListener('close', (e) => {
      code = e.code;
      resolve(e.code);
    }),
  );
  const hello = new Promise<void>((resolve) => ws.addEventListener('message', () => resolve(), { once: true }));
  ws.accept();
  await hello;
  return {
    ws,
    get code() {
      return code;
    },
    /** The close code, waited for with a bound. */
    closed: (ms = 3_000) => Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('socket stayed open')), ms))]),
  };
}

beforeAll(() => forgetUsers());
afterEach(() => vi.useRealTimers());
afterAll(async () => {
  if (created.length > 0) await db.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [created]);
  await db.close();
});

describe('stream tickets', () => {
  const ticketFor = async (headers: Record<string, string>) => {
    const res = await call('/v1/dashboard/stream/ticket', { method: 'POST', headers });
    return json<{ ticket: string; url: string }>(res);
  };

  it('open one socket, once', async () => {
    const { url } = await ticketFor(await authHeaders('viewer'));
    const query = url.slice('/v1/dashboard/stream'.length);
    const first = await openStream({}, query);
    first.ws.close(1000);
    const again = await exports.default.fetch(new Request(`http://cc.test${url}`, { headers: { upgrade: 'websocket' } }));
    const problem = await expectProblem(again, 401, 'unauthenticated');
    expect(problem.detail).toMatch(/already used/);
  });

  it('are refused once the session they came from is signed out', async () => {
    const session = await sessionToken('viewer');
    const { url } = await ticketFor(bearer(session));
    expect((await call('/v1/auth/sign-out', { method: 'POST', headers: bearer(session) })).status).toBe(200);
    await expectProblem(await exports.default.fetch(new Request(`http://cc.test${url}`, { headers: { upgrade: 'websocket' } })), 401, 'unauthenticated');
  });

  it('are not issued without Redis, since they could not be single-use', async () => {
    const res = await createApi().request('/v1/dashboard/stream/ticket', { method: 'POST', headers: await authHeaders('viewer') }, { ...env, UPSTASH_REDIS_REST_URL: '' });
    await expectProblem(res, 503, 'redis_unavailable');
  });
});

describe('sessions end', () => {
  it('refuses every request (503) rather than skip the sign-out check when Redis does not answer', async () => {
    const res = await createApi().request('/v1/auth/me', { headers: await authHeaders('viewer') }, { ...env, UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    await expectProblem(res, 503, 'redis_unavailable');
  });

  it('a renewed session revokes the old token once requests already under way have landed', async () => {
    const user = await throwawayUser();
    // Past half its life: the next cookie request renews it.
    const old = await sessionFor(user, Math.floor(config.SESSION_TTL_SECONDS / 2) - 60);
    const renewed = await call('/v1/auth/me', { headers: { cookie: `cc_session=${old}` } });
    expect(renewed.status).toBe(200);
    const fresh = /cc_session=([^;]+)/.exec(renewed.headers.get('set-cookie') ?? '')?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(old);
    // Within the grace, a request the browser sent with the old cookie still lands.
    expect((await call('/v1/auth/me', { headers: bearer(old) })).status).toBe(200);
    vi.useFakeTimers({ now: Date.now() + (RENEWAL_GRACE_SECONDS + 1) * 1000, toFake: ['Date'] });
    await expectProblem(await call('/v1/auth/me', { headers: bearer(old) }), 401, 'unauthenticated');
    expect((await call('/v1/auth/me', { headers: bearer(fresh!) })).status).toBe(200);
  });

  it('sign-out closes the sockets opened with that session, and only those', async () => {
    const user = await throwawayUser();
    const [a, b] = [await sessionFor(user), await sessionFor(user)];
    const socketA = await openStream(bearer(a));
    const socketB = await openStream(bearer(b));
    const out = await json<{ revoked: boolean; sockets_closed: number }>(await call('/v1/auth/sign-out', { method: 'POST', headers: bearer(a) }));
    expect(out).toMatchObject({ revoked: true, sockets_closed: 1 });
    expect(await socketA.closed()).toBe(CLOSE_CODES.accessEnded);
    expect(socketB.code).toBeNull();
    expect((await call('/v1/auth/me', { headers: bearer(b) })).status).toBe(200);
    socketB.ws.close(1000);
  });

  it('sign-out everywhere ends every session of the user and closes all of their sockets', async () => {
    const user = await throwawayUser();
    const [a, b] = [await sessionFor(user), await sessionFor(user)];
    const socket = await openStream(bearer(b));
    const out = await call('/v1/auth/sign-out?everywhere=true', { method: 'POST', headers: bearer(a) });
    expect(await json<{ everywhere: boolean; sockets_closed: number }>(out)).toMatchObject({ everywhere: true, sockets_closed: 1 });
    expect(await socket.closed()).toBe(CLOSE_CODES.accessEnded);
    for (const token of [a, b]) await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401, 'unauthenticated');
    // A session issued afterwards carries the new epoch and works.
    const after = await sessionFor((await findActiveUserByEmail(db, user.email))!);
    expect((await call('/v1/auth/me', { headers: bearer(after) })).status).toBe(200);
    await expectProblem(await call('/v1/auth/sign-out?everywhere=maybe', { method: 'POST', headers: bearer(after) }), 422, 'validation_failed');
  });

  it('a role or password change made outside the worker ends the sessions issued before it', async () => {
    for (const change of [`UPDATE users SET role = 'editor' WHERE id = $1`, `UPDATE users SET password_hash = 'changed' WHERE id = $1`]) {
      const user = await throwawayUser();
      const token = await sessionFor(user);
      expect((await call('/v1/auth/me', { headers: bearer(token) })).status).toBe(200);
      await db.query(change, [user.id]);
      forgetUsers(); // the identity cache's lifetime, passed
      await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401, 'unauthenticated');
    }
  });

  it('the hub closes the socket of a user disabled outside the worker on its next sweep', async () => {
    const user = await throwawayUser();
    const other = await throwawayUser();
    const socket = await openStream(bearer(await sessionFor(user)));
    const bystander = await openStream(bearer(await sessionFor(other)));
    await db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
    expect(await runDurableObjectAlarm(hub())).toBe(true);
    expect(await socket.closed()).toBe(CLOSE_CODES.accessEnded);
    expect(bystander.code).toBeNull();
    bystander.ws.close(1000);
  });
});
