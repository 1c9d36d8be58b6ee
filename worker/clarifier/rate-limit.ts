import { Ratelimit } from '@upstash/ratelimit';
import type { Duration } from '@upstash/ratelimit';
import { ApiError } from '../http/errors.ts';
import type { RedisService } from '../services/redis.ts';

/**
 * Per-user limits on the widget builder's model-backed endpoints (the clarifier and the SQL
 * generator): every call can cost model tokens and a warehouse query. Sliding windows in Upstash,
 * keyed by user id. Without Redis configured there is no limit (local runs say so on /health);
 * with Redis configured but unreachable the call is refused rather than left unmetered.
 */
export interface BuilderLimit {
  /** Part of the Redis key: which endpoint the budget belongs to. */
  name: string;
  requests: number;
  window: Duration;
}

export const CLARIFY_LIMIT: BuilderLimit = { name: 'clarify', requests: 30, window: '10 m' };
export const GENERATE_LIMIT: BuilderLimit = { name: 'generate', requests: 20, window: '10 m' };

export async function limitBuilder(redis: RedisService, limit: BuilderLimit, userId: string): Promise<void> {
  if (!redis.client) return;
  const limiter = new Ratelimit({
    redis: redis.client,
    limiter: Ratelimit.slidingWindow(limit.requests, limit.window),
    prefix: `cc:rl:builder:${limit.name}`,
    ephemeralCache: false,
    analytics: false,
  });
  let result;
  try {
    result = await limiter.limit(userId);
  } catch (err) {
    throw new ApiError('redis_unavailable', 'The widget builder is paused: its rate limiter cannot be reached.', { cause: err });
  }
  if (!result.success) {
    const retryAfter = Math.max(1, Math.ceil((result.reset - Date.now()) / 1000));
    throw new ApiError('rate_limited', `Too many ${limit.name} requests; try again in ${retryAfter} s.`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
}
