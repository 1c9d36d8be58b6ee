import { Ratelimit } from '@upstash/ratelimit';
import type { Config } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import type { RedisService } from '../services/redis.ts';

const WINDOW = '15 m';

async function digest(value: string): Promise<string> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 32);
}

/**
 * Sign-in attempts per email and per client address (sliding 15-minute windows in Upstash).
 * Emails are hashed in the key so Redis never holds who tried to sign in. With Redis
 * configured but unreachable, sign-in is refused rather than left unprotected.
 */
export async function limitSignIn(redis: RedisService, config: Config, email: string, ip: string): Promise<void> {
  if (!redis.client) return;
  const byEmail = new Ratelimit({
    redis: redis.client,
    limiter: Ratelimit.slidingWindow(config.SIGNIN_LIMIT_PER_EMAIL, WINDOW),
    prefix: 'cc:rl:signin:email',
    ephemeralCache: false,
    analytics: false,
  });
  const byIp = new Ratelimit({
    redis: redis.client,
    limiter: Ratelimit.slidingWindow(config.SIGNIN_LIMIT_PER_IP, WINDOW),
    prefix: 'cc:rl:signin:ip',
    ephemeralCache: false,
    analytics: false,
  });
  let results;
  try {
    results = await Promise.all([byEmail.limit(await digest(email)), byIp.limit(await digest(ip))]);
  } catch (err) {
    throw new ApiError('redis_unavailable', 'Sign-in is paused: the rate limiter cannot be reached.', { cause: err });
  }
  const blocked = results.find((r) => !r.success);
  if (blocked) {
    const retryAfter = Math.max(1, Math.ceil((blocked.reset - Date.now()) / 1000));
    throw new ApiError('rate_limited', `Too many sign-in attempts; try again in ${retryAfter} s.`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
}
