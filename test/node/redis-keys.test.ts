// REDIS_KEY_PREFIX: every key the worker's Redis client writes carries it (plain commands, pipelines,
// @upstash/ratelimit's scripts), and the local stack deletes exactly its own keys when it stops.
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig } from '../../worker/config/env.ts';
import { createRedis } from '../../worker/services/redis.ts';
import { deleteKeysUnder } from '../stack/upstash/keys.ts';
import { startUpstashServer } from '../stack/upstash/server.ts';
import type { UpstashServer } from '../stack/upstash/server.ts';

let server: UpstashServer;
let raw: Redis;

/** The worker's client, built from config the way init does. */
function workerClient(prefix: string | undefined): Redis {
  const config = ConfigSchema.parse({ UPSTASH_REDIS_REST_URL: server.url, UPSTASH_REDIS_REST_TOKEN: server.token, REDIS_KEY_PREFIX: prefix });
  const client = createRedis(config).client;
  if (!client) throw new Error('no client');
  return client;
}

async function allKeys(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, { count: 1000 });
    found.push(...keys);
    cursor = String(next);
  } while (cursor !== '0');
  return found.sort();
}

beforeAll(async () => {
  // The in-memory store: a database nobody else can see, so exact key lists can be asserted.
  server = await startUpstashServer({ token: 'redis-keys-test', memory: true });
  raw = new Redis({ url: server.url, token: server.token, enableTelemetry: false, enableAutoPipelining: false });
});

afterAll(async () => {
  await server?.close();
});

describe('REDIS_KEY_PREFIX', () => {
  it('puts the prefix before every key: commands, pipelines and rate-limit scripts', async () => {
    const a = workerClient('run-a');
    await a.set('cc:data:1', 'x', { ex: 60 });
    expect(await a.get('cc:data:1')).toBe('x');
    expect(await a.exists('cc:data:1', 'cc:data:missing')).toBe(1);
    const pipe = a.pipeline();
    pipe.set('cc:revoked:j1', '1', { ex: 60 });
    pipe.incr('cc:counter');
    await pipe.exec();
    const limiter = new Ratelimit({ redis: a, limiter: Ratelimit.slidingWindow(2, '60 s'), prefix: 'cc:rl:test', ephemeralCache: false });
    expect((await limiter.limit('user-1')).success).toBe(true);

    const keys = await allKeys();
    expect(keys).toEqual(expect.arrayContaining(['run-a:cc:data:1', 'run-a:cc:revoked:j1', 'run-a:cc:counter']));
    expect(keys.some((key) => key.startsWith('run-a:cc:rl:test:user-1:'))).toBe(true);
    expect(keys.filter((key) => !key.startsWith('run-a:'))).toEqual([]);
  });

  it('keeps two prefixes apart in one database', async () => {
    const a = workerClient('run-a');
    const b = workerClient('run-b');
    await a.set('cc:shared', 'from a');
    expect(await b.get('cc:shared')).toBeNull();
    await b.set('cc:shared', 'from b');
    expect(await a.get('cc:shared')).toBe('from a');
    const limitA = new Ratelimit({ redis: a, limiter: Ratelimit.fixedWindow(1, '60 s'), prefix: 'cc:rl:one', ephemeralCache: false });
    const limitB = new Ratelimit({ redis: b, limiter: Ratelimit.fixedWindow(1, '60 s'), prefix: 'cc:rl:one', ephemeralCache: false });
    expect((await limitA.limit('same-user')).success).toBe(true);
    expect((await limitA.limit('same-user')).success).toBe(false);
    // The other prefix has its own budget.
    expect((await limitB.limit('same-user')).success).toBe(true);
  });

  it('refuses a command whose keys it cannot place rather than send it unprefixed', async () => {
    await expect(workerClient('run-a').keys('*')).rejects.toThrow(/KEYS has no key rule/);
  });

  it('without a prefix, keys are written as given', async () => {
    await workerClient(undefined).set('cc:plain', '1');
    expect(await raw.get('cc:plain')).toBe(1);
  });

  it('is validated: no glob characters, at most 64 characters', () => {
    for (const bad of ['run*', 'a b', 'x'.repeat(65), 'run[1]']) {
      const loaded = loadConfig({ REDIS_KEY_PREFIX: bad });
      expect(loaded.ok, bad).toBe(false);
      if (!loaded.ok) expect(loaded.problems.join('\n')).toMatch(/^REDIS_KEY_PREFIX: /m);
    }
    const good = loadConfig({ REDIS_KEY_PREFIX: ' test-123-ab12:x ' });
    expect(good.ok && good.config.REDIS_KEY_PREFIX).toBe('test-123-ab12:x');
  });

  it('the stack deletes exactly the keys under its prefix', async () => {
    const c = workerClient('run-c');
    const pipe = c.pipeline();
    // More than one SCAN page and one DEL batch.
    for (let i = 0; i < 1_200; i++) pipe.set(`cc:data:${i}`, i);
    await pipe.exec();
    await raw.set('run-cx:other', 1);
    const before = (await allKeys()).filter((key) => !key.startsWith('run-c:'));
    expect(await deleteKeysUnder(server, 'run-c')).toBe(1_200);
    expect(await allKeys()).toEqual(before);
    expect(before).toContain('run-cx:other');
    await expect(deleteKeysUnder(server, 'run-*')).rejects.toThrow(/not a plain prefix/);
  });
});
