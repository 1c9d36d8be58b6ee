import type { UpstashRequest, UpstashResponse } from '@upstash/redis';

/**
 * REDIS_KEY_PREFIX, applied on the wire: every command the client sends (alone or in a pipeline,
 * including @upstash/ratelimit's scripts) has its keys rewritten to `<prefix>:<key>`. Callers keep
 * building plain `cc:...` keys and cannot forget the prefix. A command whose keys this module does not
 * know is refused rather than sent unprefixed, so a new command fails in the first test that uses it.
 */

/** Where a command's keys are among its arguments (the name excluded). */
type KeyRule = 'first' | 'all' | 'script' | 'none';

const RULES = new Map<string, KeyRule>([
  ...words('first', 'get set getdel getex setnx expire pexpire expireat ttl pttl persist type incr incrby decr decrby append strlen'),
  ...words('first', 'hget hset hsetnx hdel hgetall hincrby hexists hkeys hlen hmget hvals'),
  ...words('first', 'sadd srem smembers sismember scard lpush rpush lpop rpop lrange llen ltrim'),
  ...words('first', 'zadd zrem zrange zcard zscore zincrby zremrangebyscore'),
  ...words('all', 'del exists unlink touch mget'),
  // [script or sha, numkeys, ...keys, ...args]
  ...words('script', 'eval evalsha eval_ro evalsha_ro'),
  ...words('none', 'ping echo time script'),
]);

function words(rule: KeyRule, names: string): Array<[string, KeyRule]> {
  return names.split(' ').map((name) => [name, rule]);
}

function prefixCommand(command: unknown, prefix: string): unknown[] {
  if (!Array.isArray(command) || typeof command[0] !== 'string') throw new Error('REDIS_KEY_PREFIX: a Redis request that is not a command');
  const name = command[0].toLowerCase();
  const rule = RULES.get(name);
  if (rule === undefined) throw new Error(`REDIS_KEY_PREFIX: the Redis command ${name.toUpperCase()} has no key rule, so its keys cannot be prefixed`);
  const key = (value: unknown) => `${prefix}:${String(value)}`;
  const out = [...command];
  if (rule === 'first' && out.length > 1) out[1] = key(out[1]);
  if (rule === 'all') for (let i = 1; i < out.length; i++) out[i] = key(out[i]);
  if (rule === 'script') {
    const count = Number(out[2]);
    for (let i = 3; i < 3 + count && i < out.length; i++) out[i] = key(out[i]);
  }
  return out;
}

/** The request with every key prefixed: one command, or a pipeline / transaction of them. */
export function prefixRequest(req: UpstashRequest, prefix: string): UpstashRequest {
  const batch = req.path?.[0] === 'pipeline' || req.path?.[0] === 'multi-exec';
  const body = batch ? (req.body as unknown[]).map((command) => prefixCommand(command, prefix)) : prefixCommand(req.body, prefix);
  return { ...req, body };
}

/** Middleware for `Redis.use`. */
export function keyPrefixer(prefix: string) {
  return <T>(req: UpstashRequest, next: <R>(req: UpstashRequest) => Promise<UpstashResponse<R>>): Promise<UpstashResponse<T>> =>
    next<T>(prefixRequest(req, prefix));
}
