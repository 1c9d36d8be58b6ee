import type { RedisService } from '../services/redis.ts';
import type { Logger } from '../lib/log.ts';

const key = (jti: string) => `cc:revoked:${jti}`;

/** Signed-out sessions are remembered until they would have expired anyway. */
export async function revokeSession(redis: RedisService, jti: string, exp: number, log: Logger): Promise<boolean> {
  const ttl = exp - Math.floor(Date.now() / 1000);
  if (!redis.client || ttl <= 0) return false;
  try {
    await redis.client.set(key(jti), '1', { ex: ttl });
    return true;
  } catch (err) {
    log.warn('session revocation not recorded', { error: err });
    return false;
  }
}

/**
 * Without Redis a revocation cannot be checked; the cookie is still cleared on sign-out and the
 * session expires on its own within SESSION_TTL_SECONDS. /health names Redis as down or disabled.
 */
export async function isSessionRevoked(redis: RedisService, jti: string, log: Logger): Promise<boolean> {
  if (!redis.client) return false;
  try {
    return (await redis.client.exists(key(jti))) === 1;
  } catch (err) {
    log.warn('session revocation check skipped', { error: err });
    return false;
  }
}
