import { ApiError } from '../http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { RedisService } from '../services/redis.ts';

/**
 * What Redis knows about sessions, read in the one round trip every session request makes:
 * - `cc:revoked:<jti>` holds the Unix ms from which a session is refused: now for a sign-out,
 *   RENEWAL_GRACE_SECONDS ahead for a session renewed into a new token (requests the browser sent
 *   with the old cookie before it saw the new one still land). Kept until the token would have
 *   expired anyway.
 * - `cc:epoch:<user id>` holds the user's session epoch after a sign-out everywhere, so every
 *   isolate refuses older sessions at once; Postgres (users.session_epoch) is the source of truth
 *   and covers changes made outside the worker within the identity cache's lifetime.
 * - `cc:ticket:<jti>` marks a stream ticket as used.
 */
const revokedKey = (jti: string) => `cc:revoked:${jti}`;
const epochKey = (userId: string) => `cc:epoch:${userId}`;
const ticketKey = (jti: string) => `cc:ticket:${jti}`;

/** How long a renewed session's old token keeps working, for requests already under way. */
export const RENEWAL_GRACE_SECONDS = 30;
/** The longest a session can live (SESSION_TTL_SECONDS' ceiling): no epoch key is needed longer. */
const EPOCH_KEY_TTL_SECONDS = 86_400;

export interface SessionStanding {
  revoked: boolean;
  /** The epoch Redis holds for the user, when a sign-out everywhere recorded one. */
  epoch: number | null;
}

function unavailable(err: unknown, log: Logger): ApiError {
  log.warn('session check failed: Redis did not answer', { error: err });
  return new ApiError('redis_unavailable', 'Sessions cannot be checked right now (Redis is not answering); try again shortly.', { cause: err });
}

function isRevoked(value: unknown, now: number): boolean {
  if (value === null || value === undefined) return false;
  const from = Number(value);
  // Anything unreadable counts as revoked: a key exists only because something ended the session.
  return !Number.isFinite(from) || from <= now;
}

function asEpoch(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** Remembers a revocation until the token would have expired. */
export async function revokeSession(redis: RedisService, jti: string, exp: number, log: Logger, graceSeconds = 0): Promise<boolean> {
  const ttl = exp - Math.floor(Date.now() / 1000);
  if (!redis.client || ttl <= 0) return false;
  try {
    await redis.client.set(revokedKey(jti), String(Date.now() + graceSeconds * 1000), { ex: ttl + graceSeconds });
    return true;
  } catch (err) {
    log.warn('session revocation not recorded', { error: err });
    return false;
  }
}

/**
 * A session's standing in one round trip. Without Redis configured nothing can be checked (the
 * cookie is still cleared on sign-out, the epoch in Postgres still applies, and /health says Redis
 * is disabled); with Redis configured but not answering, the request is refused (503) rather than
 * let a signed-out session through.
 */
export async function sessionStanding(redis: RedisService, jti: string, userId: string, log: Logger): Promise<SessionStanding> {
  if (!redis.client) return { revoked: false, epoch: null };
  let values: unknown[];
  try {
    values = await redis.client.mget(revokedKey(jti), epochKey(userId));
  } catch (err) {
    throw unavailable(err, log);
  }
  return { revoked: isRevoked(values[0], Date.now()), epoch: asEpoch(values[1]) };
}

/**
 * Uses a stream ticket: the first use wins (SET NX), and the session it was minted from is
 * checked like a session, all in one pipelined round trip. Without Redis a ticket cannot be
 * single-use, so none is accepted (none is issued either).
 */
export async function redeemTicket(
  redis: RedisService,
  ticket: { jti: string; exp: number; sub: string; sid?: string },
  log: Logger,
): Promise<(SessionStanding & { used: boolean }) | null> {
  if (!redis.client) return null;
  const ttl = Math.max(1, ticket.exp - Math.floor(Date.now() / 1000) + 1);
  let results: unknown[];
  try {
    results = await redis.client
      .pipeline()
      .set(ticketKey(ticket.jti), '1', { nx: true, ex: ttl })
      .mget(revokedKey(ticket.sid ?? ticket.jti), epochKey(ticket.sub))
      .exec();
  } catch (err) {
    throw unavailable(err, log);
  }
  const [set, values] = results as [unknown, unknown[]];
  return { used: set !== 'OK', revoked: isRevoked(values[0], Date.now()), epoch: asEpoch(values[1]) };
}

/** Tells every isolate at once that sessions older than `epoch` are over. */
export async function publishEpoch(redis: RedisService, userId: string, epoch: number, log: Logger): Promise<boolean> {
  if (!redis.client) return false;
  try {
    await redis.client.set(epochKey(userId), String(epoch), { ex: EPOCH_KEY_TTL_SECONDS });
    return true;
  } catch (err) {
    log.warn('session epoch not recorded in Redis; Postgres still has it', { error: err });
    return false;
  }
}

/** Which of these sessions were revoked (for the hub's sweep over its open sockets). */
export async function revokedAmong(redis: RedisService, jtis: readonly string[]): Promise<Set<string>> {
  if (!redis.client || jtis.length === 0) return new Set();
  const values = await redis.client.mget(...jtis.map(revokedKey));
  const now = Date.now();
  return new Set(jtis.filter((_, i) => isRevoked(values[i], now)));
}
