import { Redis, errors } from '@upstash/redis';
import type { Config } from '../config/env.ts';
import { DependencyError, scrub } from '../http/errors.ts';
import type { Timings } from '../http/timing.ts';
import { disabled, probe } from './mode.ts';
import { keyPrefixer } from './redis-keys.ts';
import type { DependencyMode, DependencyProbe } from './mode.ts';

export interface RedisService {
  readonly mode: DependencyMode;
  readonly provider: string;
  /** The Upstash client, or null when Redis is not configured (callers then say so). */
  readonly client: Redis | null;
  health(timeoutMs: number): Promise<DependencyProbe>;
}

function modeFor(config: Config): { mode: DependencyMode; provider: string } {
  if (!config.UPSTASH_REDIS_REST_URL || !config.UPSTASH_REDIS_REST_TOKEN) return { mode: 'disabled', provider: 'none' };
  if (config.LOCAL_REDIS === 'redis') return { mode: 'local', provider: 'local Redis behind the Upstash REST stand-in' };
  if (config.LOCAL_REDIS === 'memory') return { mode: 'embedded', provider: 'in-memory Redis stand-in behind the Upstash REST stand-in' };
  return { mode: 'live', provider: 'Upstash Redis' };
}

export function createRedis(config: Config, timings?: Timings): RedisService {
  const { mode, provider } = modeFor(config);
  const client =
    config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN
      ? new Redis({
          url: config.UPSTASH_REDIS_REST_URL,
          token: config.UPSTASH_REDIS_REST_TOKEN,
          // Failures must surface to the caller quickly, not hide behind retries.
          retry: { retries: 1, backoff: () => 50 },
          enableTelemetry: false,
        })
      : null;
  if (client && config.REDIS_KEY_PREFIX) client.use(keyPrefixer(config.REDIS_KEY_PREFIX));
  if (client) {
    const secrets = [config.UPSTASH_REDIS_REST_TOKEN];
    client.use(async (req, next) => {
      try {
        return await (timings ? timings.time('redis', () => next(req)) : next(req));
      } catch (err) {
        throw redisFailure(err, secrets);
      }
    });
  }
  return {
    mode,
    provider,
    client,
    async health(timeoutMs) {
      if (!client) return disabled(provider, 'UPSTASH_REDIS_REST_URL/UPSTASH_REDIS_REST_TOKEN are not set: no cache, no rate limits');
      return probe(mode, provider, timeoutMs, async () => {
        const pong = await client.ping();
        return pong === 'PONG' ? null : `unexpected PING answer: ${String(pong)}`;
      });
    },
  };
}

/**
 * What the REST transport throws, as the one dependency error. Upstash's own error text ends with
 * the whole command (keys and values), which is cut off; network failures name no secret but are
 * scrubbed of the token all the same.
 */
function redisFailure(err: unknown, secrets: readonly (string | undefined)[]): DependencyError {
  const message = err instanceof Error ? err.message.split(', command was:')[0]! : String(err);
  const kind = err instanceof errors.UpstashJSONParseError ? 'protocol' : err instanceof errors.UpstashError ? 'rejected' : 'unavailable';
  return new DependencyError('redis', kind, `Redis ${kind === 'unavailable' ? 'could not be reached' : 'refused the command'}: ${scrub(message, secrets)}`, {
    cause: err,
  });
}
