import { Ratelimit } from '@upstash/ratelimit';
import type { Duration } from '@upstash/ratelimit';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { ApiError } from './errors.ts';

/**
 * Per-user limits on the routes that cost a query, a warehouse statement or model tokens each
 * time: sliding windows in Upstash, one per named budget, keyed by user id. Without Redis
 * configured there is no limit (/health says Redis is disabled); with Redis configured but
 * unreachable the call is refused (503 redis_unavailable) rather than left unmetered, except on
 * the dashboard's read paths, which already serve uncached through a Redis outage: refusing them
 * would turn a cache outage into a dashboard outage.
 * USER_RATE_LIMITS=off lifts them (load benchmarks drive one user far past any budget).
 */
export interface Budget {
  /** Part of the Redis key, and how a refusal names what was used up. */
  name: string;
  requests: number;
  window: Duration;
  /** With Redis configured but unreachable: refuse (503, the default) or serve unmetered. */
  whenRedisDown?: 'refuse' | 'serve';
}

export const BUDGETS = {
  /** The Add-Widget clarifier: each turn is a model call. */
  clarify: { name: 'clarify', requests: 30, window: '10 m' },
  /** SQL generation: a model call and a warehouse statement. */
  generate: { name: 'generate', requests: 20, window: '10 m' },
  /** A tile's numbers: cached answers are cheap, misses run the metric on its source. */
  widgetData: { name: 'widget data', requests: 240, window: '1 m', whenRedisDown: 'serve' },
  /** The rows behind a tile: never cached, every page is a statement. */
  records: { name: 'records', requests: 30, window: '1 m' },
  /** The whole dashboard in one call: every KPI and tile. */
  dashboardState: { name: 'dashboard state', requests: 60, window: '1 m', whenRedisDown: 'serve' },
  /** The SQL safety verdict: parsing only, but a long statement costs real CPU. */
  sqlValidate: { name: 'sql validate', requests: 60, window: '1 m' },
} as const satisfies Record<string, Budget>;

/**
 * Takes `tokens` (one request, unless a caller knows it costs more) from the signed-in caller's
 * budget, or refuses with 429 rate_limited and Retry-After.
 */
export async function spend(c: Context<AppEnv>, budget: Budget, tokens = 1): Promise<void> {
  const redis = c.get('services').redis.client;
  if (!redis || c.get('config').USER_RATE_LIMITS === 'off') return;
  const identity = c.get('identity');
  if (!identity) throw new ApiError('unauthenticated', 'Sign in to use this route.');
  let result;
  try {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(budget.requests, budget.window),
      prefix: `cc:rl:user:${budget.name.replaceAll(' ', '-')}`,
      ephemeralCache: false,
      analytics: false,
    });
    result = await limiter.limit(identity.userId, { rate: tokens });
  } catch (err) {
    if (budget.whenRedisDown === 'serve') {
      c.get('log').warn('rate limit skipped: Redis is unreachable', { budget: budget.name, error: err });
      return;
    }
    throw new ApiError('redis_unavailable', `The ${budget.name} limit cannot be checked: Redis is unreachable.`, { cause: err });
  }
  if (!result.success) {
    const retryAfter = Math.max(1, Math.ceil((result.reset - Date.now()) / 1000));
    throw new ApiError('rate_limited', `Too many ${budget.name} requests (${budget.requests} per ${budget.window}); try again in ${retryAfter} s.`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
}
