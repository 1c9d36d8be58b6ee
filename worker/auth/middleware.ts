import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import { accessEnabled, verifyAccessAssertion } from './access.ts';
import { looksLikeApiToken } from './api-tokens.ts';
import { ruleFor } from './policy.ts';
import { RENEWAL_GRACE_SECONDS, redeemTicket, revokeSession, sessionStanding } from './revocation.ts';
import type { SessionStanding } from './revocation.ts';
import { roleAtLeast } from './roles.ts';
import type { Identity } from './roles.ts';
import { SESSION_COOKIE, issueToken, readToken } from './session.ts';
import type { SessionClaims } from './session.ts';
import { resolveApiToken, touchApiToken } from './token-store.ts';
import { activeUserById } from './user-cache.ts';
import { findActiveUserByEmail } from './users.ts';

type Resolved = { identity: Identity; fromCookie: boolean; claims?: SessionClaims } | { identity: null; problem: string | null };

const NONE: Resolved = { identity: null, problem: null };
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Finds the endpoint the request routed to, looks up its rule in ACCESS_RULES and enforces it:
 * public routes pass (with the caller identified when possible), others need an identity with
 * at least the rule's role. Unmatched requests fall through to the 404/405 handler.
 */
export const authorize = createMiddleware<AppEnv>(async (c, next) => {
  const endpoint = matchedRoutes(c).find((r) => r.method !== 'ALL');
  if (!endpoint) return next();
  const rule = ruleFor(endpoint.method, endpoint.path);
  if (rule === undefined) {
    throw new ApiError('forbidden', `No access rule covers ${endpoint.method} ${endpoint.path}; it is closed to everyone.`);
  }

  if (rule === 'public') {
    const resolved = await identify(c, endpoint.path).catch(() => NONE);
    c.set('identity', resolved.identity);
    return next();
  }

  const resolved = await identify(c, endpoint.path);
  if (!resolved.identity) {
    throw new ApiError('unauthenticated', resolved.problem ?? 'Sign in, or send an API token as Authorization: Bearer <token>.', {
      headers: { 'www-authenticate': 'Bearer realm="command-center"' },
    });
  }
  const identity = resolved.identity;
  if (!roleAtLeast(identity.role, rule)) {
    throw new ApiError('forbidden', `This needs the ${rule} role; you are signed in as ${identity.role}.`);
  }
  // A WebSocket upgrade is a GET, but the browser attaches the cookie to one opened from any
  // site, and the socket then reads the stream: it is checked like a write.
  const upgrade = c.req.header('upgrade')?.toLowerCase() === 'websocket';
  if (resolved.fromCookie && (UNSAFE.has(c.req.method) || upgrade) && !sameOrigin(c)) {
    throw new ApiError('forbidden', 'Cross-site request refused: the Origin does not match this site.');
  }
  c.set('identity', identity);
  await next();
  if (resolved.fromCookie && resolved.claims) await renewIfAging(c, resolved.claims);
});

const identify = (c: Context<AppEnv>, routePath: string) => c.get('services').timings.time('auth', () => resolve(c, routePath));

/** Cookie-authenticated writes must come from this origin (or a configured CORS origin). */
export function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin');
  if (!origin) return c.req.header('sec-fetch-site') !== 'cross-site';
  if (origin === new URL(c.req.url).origin) return true;
  return c.get('config').CORS_ORIGINS.includes(origin);
}

async function resolve(c: Context<AppEnv>, routePath: string): Promise<Resolved> {
  const config = c.get('config');
  const services = c.get('services');
  const secret = config.SESSION_SECRET;

  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(authorization);
    if (!match) return { identity: null, problem: 'Authorization must be "Bearer <token>".' };
    const credential = match[1]!;
    if (looksLikeApiToken(credential)) {
      const found = await resolveApiToken(services.postgres, credential);
      if (!found) return { identity: null, problem: 'The API token is invalid, expired or revoked.' };
      c.executionCtx.waitUntil(touchApiToken(services.postgres, found.tokenId).catch(() => undefined));
      return { identity: { ...found.user, userId: found.user.id, via: 'api_token', credentialId: found.tokenId, expiresAt: found.expiresAt }, fromCookie: false };
    }
    if (!secret) return { identity: null, problem: 'Sessions are not configured on this server (SESSION_SECRET).' };
    return fromSession(c, await readToken(credential, secret, 'session'), false);
  }

  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie !== undefined && secret) {
    return fromSession(c, await readToken(cookie, secret, 'session'), true);
  }

  const ticket = routePath === '/v1/dashboard/stream' ? c.req.query('ticket') : undefined;
  if (ticket !== undefined && secret) return fromTicket(c, await readToken(ticket, secret, 'stream'));

  const assertion = c.req.header('cf-access-jwt-assertion');
  if (assertion !== undefined && accessEnabled(config)) {
    const verified = await verifyAccessAssertion(config, assertion);
    if (!verified) return { identity: null, problem: 'The Cloudflare Access assertion is invalid.' };
    const user = await findActiveUserByEmail(services.postgres, verified.email);
    if (!user) return { identity: null, problem: 'No Command Center user exists for this Access identity.' };
    return {
      identity: { userId: user.id, email: user.email, name: user.name, role: user.role, via: 'access', credentialId: 'access', expiresAt: null },
      fromCookie: false,
    };
  }
  return NONE;
}

async function fromSession(c: Context<AppEnv>, claims: SessionClaims | null, fromCookie: boolean): Promise<Resolved> {
  if (!claims) return { identity: null, problem: 'The session is invalid or expired; sign in again.' };
  // The session's standing in Redis and the user lookup are independent: one wait, not two.
  const [standing, resolved] = await Promise.all([
    sessionStanding(c.get('services').redis, claims.jti, claims.sub, c.get('log')),
    userFromClaims(c, claims, 'session', fromCookie),
  ]);
  if (standing.revoked) return { identity: null, problem: 'The session was signed out; sign in again.' };
  return refuseStale(resolved, claims.epc ?? 0, standing);
}

/** A stream ticket opens one socket: used once, and only while the session it came from stands. */
async function fromTicket(c: Context<AppEnv>, claims: SessionClaims | null): Promise<Resolved> {
  if (!claims) return { identity: null, problem: 'The stream ticket is invalid or expired.' };
  const [standing, resolved] = await Promise.all([
    redeemTicket(c.get('services').redis, claims, c.get('log')),
    userFromClaims(c, claims, 'stream_ticket', false),
  ]);
  if (!standing) return { identity: null, problem: 'Stream tickets need Redis, which is not configured here; use the session cookie.' };
  if (standing.used) return { identity: null, problem: 'The stream ticket was already used; ask for a new one.' };
  if (standing.revoked) return { identity: null, problem: 'The session behind this ticket was signed out; sign in again.' };
  return refuseStale(resolved, claims.epc ?? 0, standing);
}

/** A session from before the user's latest epoch (sign-out everywhere, role, password or status change) is over. */
function refuseStale(resolved: Resolved & { epoch?: number }, epoch: number, standing: SessionStanding): Resolved {
  if (!resolved.identity) return resolved;
  const current = Math.max(standing.epoch ?? 0, resolved.epoch ?? 0);
  if (epoch < current) return { identity: null, problem: 'This session has ended (signed out everywhere, or the account changed); sign in again.' };
  return resolved;
}

/** Role and status come from the database, not the token, so a demotion takes effect within seconds. */
async function userFromClaims(
  c: Context<AppEnv>,
  claims: SessionClaims,
  via: Identity['via'],
  fromCookie: boolean,
): Promise<Resolved & { epoch?: number }> {
  const user = await activeUserById(c.get('services').postgres, claims.sub);
  if (!user) return { identity: null, problem: 'The account behind this session no longer exists or is disabled.' };
  const session =
    via === 'stream_ticket'
      ? { id: claims.sid ?? claims.jti, epoch: claims.epc ?? 0, expiresAt: claims.sx ?? claims.exp }
      : { id: claims.jti, epoch: claims.epc ?? 0, expiresAt: claims.exp };
  return {
    identity: { userId: user.id, email: user.email, name: user.name, role: user.role, via, credentialId: claims.jti, expiresAt: claims.exp, session },
    fromCookie,
    claims,
    epoch: user.sessionEpoch,
  };
}

export function sessionCookieOptions(maxAge: number) {
  return { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge } as const;
}

/**
 * Sliding sessions: past half its life, a browser session is reissued with a fresh expiry and the
 * old token is revoked, after RENEWAL_GRACE_SECONDS so requests already sent with it still land.
 */
async function renewIfAging(c: Context<AppEnv>, claims: SessionClaims): Promise<void> {
  const config = c.get('config');
  const identity = c.get('identity');
  if (!config.SESSION_SECRET || !identity) return;
  const left = claims.exp - Math.floor(Date.now() / 1000);
  if (left > config.SESSION_TTL_SECONDS / 2) return;
  const { token } = await issueToken(
    { id: identity.userId, email: identity.email, name: identity.name, role: identity.role, sessionEpoch: claims.epc ?? 0 },
    'session',
    config.SESSION_TTL_SECONDS,
    config.SESSION_SECRET,
  );
  await revokeSession(c.get('services').redis, claims.jti, claims.exp, c.get('log'), RENEWAL_GRACE_SECONDS);
  setCookie(c, SESSION_COOKIE, token, sessionCookieOptions(config.SESSION_TTL_SECONDS));
}
