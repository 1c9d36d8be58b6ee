import type { RedisService } from '../services/redis.ts';
import { isDependencyError } from '../http/errors.ts';
import { dependencySentence } from '../http/problem.ts';
import { Lru } from '../lib/lru.ts';

/**
 * Two levels: a small in-isolate map answers repeats without a network hop; Upstash Redis
 * shares answers across isolates and locations. Both expire with the route's cache_seconds.
 */
const L1_MAX_ENTRIES = 500;
const l1 = new Lru<string, string>(L1_MAX_ENTRIES);

export type CacheState = 'hit' | 'miss' | 'bypass';

export interface CacheRead<T> {
  value: T | null;
  state: CacheState;
  /** Why the shared cache was skipped, when it was. */
  problem?: string;
}

export async function cacheKey(parts: unknown): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(parts)));
  return `cc:data:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 40)}`;
}

export async function readCache<T>(redis: RedisService, key: string): Promise<CacheRead<T>> {
  const local = l1.get(key);
  if (local !== undefined) return { value: JSON.parse(local) as T, state: 'hit' };
  if (!redis.client) return { value: null, state: 'bypass', problem: 'Redis is not configured' };
  try {
    const raw = await redis.client.get<string>(key);
    if (raw === null || raw === undefined) return { value: null, state: 'miss' };
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return { value: JSON.parse(text) as T, state: 'hit' };
  } catch (err) {
    return { value: null, state: 'bypass', problem: unavailable(err) };
  }
}

/** What a client may read about a cache failure: the dependency's sentence, never its own text. */
function unavailable(err: unknown): string {
  return isDependencyError(err) ? dependencySentence(err) : 'Redis is unavailable.';
}

export async function writeCache(redis: RedisService, key: string, value: unknown, seconds: number): Promise<string | undefined> {
  if (seconds <= 0) return undefined;
  const text = JSON.stringify(value);
  l1.set(key, text, seconds * 1000);
  if (!redis.client) return 'Redis is not configured';
  try {
    await redis.client.set(key, text, { ex: seconds });
    return undefined;
  } catch (err) {
    return unavailable(err);
  }
}

/** Tests and the demo reset start from a cold first level. */
export function clearLocalCache(): void {
  l1.clear();
}
