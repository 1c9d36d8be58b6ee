import type { RedisService } from '../services/redis.ts';
import { describe } from '../services/mode.ts';

const key = (jti: string) => `cc:revoked:${jti}`;

/** Signed-out sessions are remembered until they would have expired anyway. */
export async function revokeSession(redis: RedisService, jti: string, exp: number): Promise<boolean> {
  const ttl = exp - Math.floor(Date.now() / 1000);
  if (!redis.client || ttl <= 0) return false;
  try {
    await redis.client.set(key(jti), '1', { ex: ttl });
    return true;
  } catch (err) {
    console.warn(JSON.stringify({ level: 'warn', msg: 'session revocation not recorded', error: describe(err) }));
    return false;
  }
}

/**
 * Without Redis a revocation cannot be checked; the cookie is still cleared on sign-out and the
 * session expires on its own within SESSION_TTL_SECONDS. /health names Redis as down or disabled.
 */
export async function isSessionRevoked(redis: RedisService, jti: string): Promise<boolean> {
  if (!redis.client) return false;
  try {
    return (await redis.client.exists(key(jti))) === 1;
  } catch (err) {
    console.warn(JSON.stringify({ level: 'warn', msg: 'session revocation check skipped', error: describe(err) }));
    return false;
  }
}
