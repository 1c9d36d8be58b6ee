import { env, exports } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { afterAll, describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { hashPassword, verifyPassword } from '../../worker/auth/password.ts';
import { EMAIL_FAILURES_ACROSS_ADDRESSES } from '../../worker/auth/rate-limit.ts';
import { upsertUser } from '../../worker/auth/users.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { LOCAL_EMAIL, LOCAL_PASSWORD, authHeaders, call, expectProblem, sessionToken, vars } from './helpers.ts';

let ipCounter = 0;
/** Each test signs in from its own address so per-IP limits never couple tests. */
const freshIp = () => `198.51.100.${++ipCounter}`;

function signIn(email: string, password: string, ip = freshIp(), extra: Record<string, string> = {}) {
  return call('/v1/auth/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip, ...extra },
    body: JSON.stringify({ email, password }),
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const db = (() => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return createPostgres(loaded.config);
})();
const throwaway: string[] = [];
afterAll(async () => {
  if (throwaway.length > 0) await db.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [throwaway]);
  await db.close();
});

/** A user of this file's own, so its sign-ins and failures touch nobody else's limits. */
async function throwawayUser() {
  const email = `signin-${crypto.randomUUID().slice(0, 8)}@command-center.local`;
  const password = 'a long passphrase';
  const user = await upsertUser(db, { email, name: 'Sign-in Probe', role: 'viewer', passwordHash: await hashPassword(password) });
  throwaway.push(user.id);
  return { email, password };
}
const secret = () => vars.SESSION_SECRET!;

describe('passwords', () => {
  it('hashes with PBKDF2-SHA256, a per-user salt, and verifies', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});

describe('sign-in', () => {
  it('returns a token and user, and sets a hardened session cookie', async () => {
    const res = await signIn(LOCAL_EMAIL.editor, LOCAL_PASSWORD.editor);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; user: { email: string; role: string } };
    expect(body.user).toMatchObject({ email: LOCAL_EMAIL.editor, role: 'editor' });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cc_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await call('/v1/auth/me', { headers: bearer(body.token) });
    expect(await me.json()).toMatchObject({ email: LOCAL_EMAIL.editor, role: 'editor', via: 'session' });
    const viaCookie = await call('/v1/auth/me', { headers: { cookie: cookie.split(';')[0]! } });
    expect(viaCookie.status).toBe(200);
  });

  it('accepts the email in any case', async () => {
    expect((await signIn(LOCAL_EMAIL.viewer.toUpperCase(), LOCAL_PASSWORD.viewer)).status).toBe(200);
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const wrong = await expectProblem(await signIn(LOCAL_EMAIL.admin, 'not-the-password'), 401, 'unauthenticated');
    const unknown = await expectProblem(await signIn('nobody@command-center.local', 'not-the-password'), 401, 'unauthenticated');
    const sqlish = await expectProblem(await signIn("' OR 1=1 --@x.io", 'x'), 401, 'unauthenticated');
    expect(unknown.detail).toBe(wrong.detail);
    expect(sqlish.detail).toBe(wrong.detail);
  });

  it('rejects malformed and oversized credentials cleanly', async () => {
    await expectProblem(await signIn(LOCAL_EMAIL.admin, 'x'.repeat(5_000)), 422, 'validation_failed');
    await expectProblem(await signIn('x'.repeat(300), 'pw'), 422, 'validation_failed');
    const malformed = await call('/v1/auth/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    await expectProblem(malformed, 400, 'malformed_json');
    const extra = await call('/v1/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: LOCAL_EMAIL.admin, password: 'x', role: 'admin' }),
    });
    await expectProblem(extra, 422, 'validation_failed');
  });

  it('rate limits brute force per email with Retry-After', async () => {
    const email = `target-${Date.now()}@command-center.local`;
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await expectProblem(await signIn(email, `guess-${i}`, ip), 401, 'unauthenticated');
    const res = await signIn(email, 'guess-6', ip);
    await expectProblem(res, 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('locks an email everywhere once guesses spread over many addresses fail often enough', async () => {
    const email = `spread-${Date.now()}@command-center.local`;
    const cap = Number(vars.SIGNIN_LIMIT_PER_EMAIL ?? 5) * EMAIL_FAILURES_ACROSS_ADDRESSES;
    for (let i = 0; i < cap; i++) await expectProblem(await signIn(email, `guess-${i}`, `203.0.113.${i % 250}`), 401, 'unauthenticated');
    await expectProblem(await signIn(email, 'one more', freshIp()), 429, 'rate_limited');
  });

  it('counts failures, not sign-ins, against an email', async () => {
    const { email, password } = await throwawayUser();
    const ip = freshIp();
    const limit = Number(vars.SIGNIN_LIMIT_PER_EMAIL ?? 5);
    for (let i = 0; i <= limit; i++) expect((await signIn(email, password, ip)).status).toBe(200);
  });

  it("locks an email only for the address that failed, so a guesser cannot lock the owner out", async () => {
    const { email, password } = await throwawayUser();
    const attacker = freshIp();
    const limit = Number(vars.SIGNIN_LIMIT_PER_EMAIL ?? 5);
    for (let i = 0; i < limit; i++) await expectProblem(await signIn(email, `guess-${i}`, attacker), 401, 'unauthenticated');
    await expectProblem(await signIn(email, password, attacker), 429, 'rate_limited');
    expect((await signIn(email, password, freshIp())).status).toBe(200);
  });

  it('rate limits per client address across emails', async () => {
    const ip = freshIp();
    const limit = Number(vars.SIGNIN_LIMIT_PER_IP ?? 30);
    let last: Response | undefined;
    for (let i = 0; i <= limit; i++) last = await signIn(`spray-${i}-${Date.now()}@command-center.local`, 'pw', ip);
    await expectProblem(last!, 429, 'rate_limited');
  });
});

describe('sessions', () => {
  it('refuses tampered, expired, wrong-algorithm and unsigned tokens', async () => {
    const good = await sessionToken('viewer');
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(atob(p!.replaceAll('-', '+').replaceAll('_', '/'))) as Record<string, unknown>;
    const enc = (o: object) => btoa(JSON.stringify(o)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    const now = Math.floor(Date.now() / 1000);
    const attempts = {
      tampered: `${h}.${enc({ ...payload, role: 'admin' })}.${s}`,
      expired: await sign({ ...payload, iat: now - 7200, exp: now - 3600 }, secret(), 'HS256'),
      wrongAlg: await sign({ ...payload }, secret(), 'HS512'),
      none: `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`,
      otherSecret: await sign({ ...payload }, 'x'.repeat(40), 'HS256'),
      streamTicketAsSession: await sign({ ...payload, typ: 'stream' }, secret(), 'HS256'),
    };
    for (const [name, token] of Object.entries(attempts)) {
      const res = await call('/v1/auth/me', { headers: bearer(token) });
      expect(res.status, name).toBe(401);
      await expectProblem(res, 401, 'unauthenticated');
    }
  });

  it('refuses odd Authorization headers', async () => {
    await expectProblem(await call('/v1/auth/me', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }), 401, 'unauthenticated');
    await expectProblem(await call('/v1/auth/me', { headers: { authorization: `Bearer ${'a'.repeat(5000)}` } }), 401, 'unauthenticated');
  });

  it('sign-out clears the cookie and revokes the session', async () => {
    const res = await signIn(LOCAL_EMAIL.viewer, LOCAL_PASSWORD.viewer);
    const { token } = (await res.json()) as { token: string };
    const out = await call('/v1/auth/sign-out', { method: 'POST', headers: bearer(token) });
    expect(await out.json()).toEqual({ signed_out: true, revoked: true, everywhere: false, sockets_closed: 0 });
    expect(out.headers.get('set-cookie')).toMatch(/cc_session=;/);
    await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401, 'unauthenticated');
  });

  it('refuses cookie-authenticated writes from another origin', async () => {
    const cookie = `cc_session=${await sessionToken('admin')}`;
    const body = JSON.stringify({ name: 'x' });
    const crossSite = await call('/v1/auth/tokens', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
      body,
    });
    await expectProblem(crossSite, 403, 'forbidden');
    const sameSite = await call('/v1/auth/tokens', {
      method: 'POST',
      headers: { cookie, origin: 'http://cc.test', 'content-type': 'application/json' },
      body,
    });
    expect(sameSite.status).toBe(201);
  });
});

describe('API tokens', () => {
  it('are created by admins, shown once, usable, listed without secrets and revocable', async () => {
    const admin = await authHeaders('admin');
    const created = await call('/v1/auth/tokens', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ingest bot', user_email: LOCAL_EMAIL.editor, expires_in_days: 30 }),
    });
    expect(created.status).toBe(201);
    const { id, token, prefix } = (await created.json()) as { id: string; token: string; prefix: string };
    expect(token).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(prefix)).toBe(true);

    const me = await call('/v1/auth/me', { headers: bearer(token) });
    expect(await me.json()).toMatchObject({ email: LOCAL_EMAIL.editor, role: 'editor', via: 'api_token' });

    const list = await (await call('/v1/auth/tokens', { headers: admin })).text();
    expect(list).toContain(id);
    expect(list).not.toContain(token);

    const revoked = await call(`/v1/auth/tokens/${id}`, { method: 'DELETE', headers: admin });
    expect((await revoked.json()) as { revoked_at: string | null }).toMatchObject({ revoked_at: expect.any(String) });
    await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401, 'unauthenticated');
  });

  it('are refused to editors and viewers', async () => {
    for (const role of ['viewer', 'editor'] as const) {
      const res = await call('/v1/auth/tokens', {
        method: 'POST',
        headers: { ...(await authHeaders(role)), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x' }),
      });
      await expectProblem(res, 403, 'forbidden');
    }
  });

  it('answer 404 for an unknown token and 422 for a malformed id', async () => {
    const admin = await authHeaders('admin');
    await expectProblem(await call(`/v1/auth/tokens/${crypto.randomUUID()}`, { method: 'DELETE', headers: admin }), 404, 'not_found');
    await expectProblem(await call('/v1/auth/tokens/1%27%20OR%201=1', { method: 'DELETE', headers: admin }), 422, 'validation_failed');
  });
});

describe('WebSocket auth', () => {
  const upgrade = (query = '', headers: Record<string, string> = {}) =>
    exports.default.fetch(new Request(`http://cc.test/v1/dashboard/stream${query}`, { headers: { upgrade: 'websocket', ...headers } }));

  it('refuses an upgrade without identity before the hub is touched', async () => {
    await expectProblem(await upgrade(), 401, 'unauthenticated');
    await expectProblem(await upgrade('?ticket=garbage'), 401, 'unauthenticated');
  });

  it('accepts a one-minute ticket obtained over REST', async () => {
    const res = await call('/v1/dashboard/stream/ticket', { method: 'POST', headers: await authHeaders('viewer') });
    const { url } = (await res.json()) as { url: string };
    const ws = await upgrade(url.slice('/v1/dashboard/stream'.length));
    expect(ws.status).toBe(101);
    ws.webSocket?.accept();
    ws.webSocket?.close(1000);
  });

  it('refuses an expired ticket', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ticket = await sign({ sub: 'x', role: 'viewer', typ: 'stream', jti: 'j', iat: now - 120, exp: now - 60 }, secret(), 'HS256');
    await expectProblem(await upgrade(`?ticket=${ticket}`), 401, 'unauthenticated');
  });
});

describe('Cloudflare Access', () => {
  const accessUrl = () => vars.STACK_ACCESS_URL!;
  const withAccess = () => {
    const api = createApi();
    const bindings = { ...env, ACCESS_TEAM_DOMAIN: accessUrl(), ACCESS_AUD: 'command-center-aud', ACCESS_CERTS_URL: `${accessUrl()}/cdn-cgi/access/certs` };
    return (assertion: string) => api.request('/v1/auth/me', { headers: { 'cf-access-jwt-assertion': assertion } }, bindings);
  };
  const mint = async (body: object) =>
    ((await (await fetch(`${accessUrl()}/mint`, { method: 'POST', body: JSON.stringify(body) })).json()) as { token: string }).token;

  it('maps a valid assertion to the user with that email', async () => {
    const res = await withAccess()(await mint({ email: LOCAL_EMAIL.editor, aud: 'command-center-aud' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email: LOCAL_EMAIL.editor, role: 'editor', via: 'access' });
  });

  it('refuses a wrong audience, an unknown key, an expired assertion and an unknown email', async () => {
    const call = withAccess();
    const bad = [
      await mint({ email: LOCAL_EMAIL.editor, aud: 'another-app' }),
      await mint({ email: LOCAL_EMAIL.editor, aud: 'command-center-aud', kid: 'other-key' }),
      await mint({ email: LOCAL_EMAIL.editor, aud: 'command-center-aud', ttl_seconds: -60 }),
      await mint({ email: 'stranger@example.com', aud: 'command-center-aud' }),
    ];
    for (const assertion of bad) await expectProblem(await call(assertion), 401, 'unauthenticated');
  });

  it('is ignored when not configured', async () => {
    const assertion = await mint({ email: LOCAL_EMAIL.admin, aud: 'command-center-aud' });
    await expectProblem(await call('/v1/auth/me', { headers: { 'cf-access-jwt-assertion': assertion } }), 401, 'unauthenticated');
  });
});
