import { createHash } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectRedis, startUpstashServer } from './upstash/server.ts';
import type { UpstashServer, UpstashServerOptions } from './upstash/server.ts';

// A database index of its own, so flushing it never touches what a dev server keeps in DB 0.
const REDIS_URL = 'redis://127.0.0.1:6379/9';
const TOKEN = 'upstash-test-token';
const redisAnswers = await detectRedis(REDIS_URL, 500);

// The shebang flag is one Redis 7.0 does not know; the server must still run the script.
const LOCKING_SCRIPT = [
  '#!lua flags=allow-key-locking',
  "local current = redis.call('INCRBY', KEYS[1], ARGV[1])",
  "if current == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end",
  'return current',
].join('\n');

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');

function clients(server: UpstashServer) {
  const common = { url: server.url, token: server.token, enableTelemetry: false, retry: false } as const;
  return {
    redis: new Redis(common),
    // Values exactly as stored, without the client's JSON parsing.
    raw: new Redis({ ...common, automaticDeserialization: false }),
  };
}

async function post(server: UpstashServer, path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function suite(label: string, options: Omit<UpstashServerOptions, 'token'>, expectedMode: 'redis' | 'memory') {
  describe(label, () => {
    let server: UpstashServer;
    let redis: Redis;
    let raw: Redis;

    beforeAll(async () => {
      server = await startUpstashServer({ token: TOKEN, ...options });
      ({ redis, raw } = clients(server));
      await redis.flushdb();
      await redis.scriptFlush();
    });
    afterAll(async () => {
      await server?.close();
    });

    it(`runs in ${expectedMode} mode`, () => {
      expect(server.mode).toBe(expectedMode);
    });

    it('handles strings, counters and expiry', async () => {
      expect(await redis.set('s:greeting', 'hello')).toBe('OK');
      expect(await redis.get('s:greeting')).toBe('hello');
      expect(await redis.incr('s:counter')).toBe(1);
      expect(await redis.incrby('s:counter', 41)).toBe(42);
      expect(await redis.expire('s:counter', 100)).toBe(1);
      const ttl = await redis.ttl('s:counter');
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await redis.ttl('s:greeting')).toBe(-1);
      expect(await redis.del('s:greeting', 's:counter', 's:missing')).toBe(2);
      expect(await redis.get('s:greeting')).toBeNull();
      expect(await redis.set('s:once', 'a', { nx: true, ex: 30 })).toBe('OK');
      expect(await redis.set('s:once', 'b', { nx: true })).toBeNull();
    });

    it('handles hashes', async () => {
      expect(await redis.hset('h:user', { name: 'Ada', visits: 1 })).toBe(2);
      expect(await raw.hget('h:user', 'name')).toBe('Ada');
      expect(await redis.hincrby('h:user', 'visits', 2)).toBe(3);
      expect(await redis.hgetall('h:user')).toEqual({ name: 'Ada', visits: 3 });
      expect(await redis.hdel('h:user', 'name')).toBe(1);
      expect(await redis.hkeys('h:user')).toEqual(['visits']);
    });

    it('handles sorted sets', async () => {
      expect(await redis.zadd('z:board', { score: 3, member: 'c' }, { score: 1, member: 'a' }, { score: 2.5, member: 'b' })).toBe(3);
      expect(await redis.zrange('z:board', 0, -1)).toEqual(['a', 'b', 'c']);
      expect(await redis.zrange('z:board', 0, 0, { withScores: true })).toEqual(['a', 1]);
      expect(await redis.zscore('z:board', 'b')).toBe(2.5);
      expect(await redis.zincrby('z:board', 10, 'a')).toBe(11);
      expect(await redis.zrange('z:board', 0, -1, { rev: true })).toEqual(['a', 'c', 'b']);
      expect(await redis.zrem('z:board', 'c')).toBe(1);
      expect(await redis.zcard('z:board')).toBe(2);
    });

    it('runs pipelines in order and reports errors per command', async () => {
      const results = await redis.pipeline().set('p:a', 1).incr('p:a').get('p:a').hget('p:a', 'field').exec({ keepErrors: true });
      expect(results.slice(0, 3).map((r) => r.result)).toEqual(['OK', 2, 2]);
      expect(results[3]?.error).toMatch(/^WRONGTYPE/);
    });

    it('runs transactions atomically', async () => {
      expect(await redis.multi().set('m:a', 'x').append('m:a', 'y').get('m:a').exec()).toEqual(['OK', 2, 'xy']);
      const queuedError = await post(server, '/multi-exec', JSON.stringify([['SET', 'm:b', '1'], ['NOSUCHCOMMAND']]));
      expect(queuedError.status).toBe(400);
      expect(queuedError.json.error).toMatch(/^EXECABORT/);
      expect(await redis.get('m:b')).toBeNull();
    });

    it('round-trips strings that look binary, unicode or like JSON', async () => {
      const values = ['héllo wörld ✓ 😀', 'nul\u0000inside\u0000', '{"a":1,"b":[true,null]}', '"quoted"', '  spaced  ', '', '123abc'];
      for (const [index, value] of values.entries()) {
        await raw.set(`rt:${index}`, value);
        expect(await raw.get(`rt:${index}`)).toBe(value);
      }
      await redis.set('rt:json', { nested: { list: [1, 'two'] } });
      expect(await redis.get('rt:json')).toEqual({ nested: { list: [1, 'two'] } });
      expect(await raw.mget('rt:0', 'rt:missing', 'rt:1')).toEqual([values[0], null, values[1]]);
    });

    it('keeps bytes exact with Upstash-Encoding: base64', async () => {
      const bytes = Uint8Array.from([0xff, 0x00, 0x80, 0x41, 0xc3, 0x28, 0x0a]);
      expect((await post(server, '/set/bin:key', bytes)).json).toEqual({ result: 'OK' });
      const encoded = await post(server, '/', JSON.stringify(['GET', 'bin:key']), { 'upstash-encoding': 'base64' });
      expect(Buffer.from(encoded.json.result as string, 'base64')).toEqual(Buffer.from(bytes));
      const text = await post(server, '/', JSON.stringify(['GET', 'bin:key']));
      expect(text.json.result).toBe(Buffer.from(bytes).toString('utf8'));
      const array = await post(server, '/', JSON.stringify(['MGET', 'bin:key', 'bin:none']), { 'upstash-encoding': 'base64' });
      expect(array.json.result).toEqual([Buffer.from(bytes).toString('base64'), null]);
    });

    it('answers the GET path form', async () => {
      const response = await fetch(`${server.url}/set/path:key/a%20b?EX=60&_token=${TOKEN}`);
      expect(await response.json()).toEqual({ result: 'OK' });
      expect(await raw.get('path:key')).toBe('a b');
      expect(await redis.ttl('path:key')).toBeGreaterThan(0);
    });

    it('evaluates scripts whose shebang carries flags Redis 7.0 does not know', async () => {
      expect(await redis.eval(LOCKING_SCRIPT, ['lua:window'], [1, 60_000])).toBe(1);
      // EVAL caches the script, under the hash the client computes from what it sent.
      expect(await redis.evalsha(sha1(LOCKING_SCRIPT), ['lua:window'], [2, 60_000])).toBe(3);
      expect(await redis.pttl('lua:window')).toBeGreaterThan(0);
      const script = redis.createScript<number>(`${LOCKING_SCRIPT}\n-- variant`);
      expect(await script.exec(['lua:other'], ['5', '60000'])).toBe(5);
      expect(await script.exec(['lua:other'], ['5', '60000'])).toBe(10);
    });

    it('loads scripts under their original hash and answers NOSCRIPT for unknown ones', async () => {
      const script = `${LOCKING_SCRIPT}\n-- loaded`;
      const sha = await redis.scriptLoad(script);
      expect(sha).toBe(sha1(script));
      expect(await redis.scriptExists(sha, 'f'.repeat(40))).toEqual([1, 0]);
      expect(await redis.evalsha(sha, ['lua:loaded'], [7, 60_000])).toBe(7);
      await expect(redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
      const returnsTable = await redis.eval("return {1, 'two', 3.7, false, 'never'}", [], []);
      // Redis's Lua conversion: numbers are truncated to integers, false becomes nil.
      expect(returnsTable).toEqual([1, 'two', 3, null, 'never']);
    });

    it('refuses a wrong token with 401', async () => {
      const intruder = new Redis({ url: server.url, token: 'not-the-token', enableTelemetry: false, retry: false });
      await expect(intruder.get('anything')).rejects.toThrow(/Unauthorized/);
      const response = await fetch(server.url, { method: 'POST', body: JSON.stringify(['PING']) });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'Unauthorized' });
    });

    it('answers malformed requests with 400', async () => {
      const broken = await post(server, '/', '["SET", "k"');
      expect(broken.status).toBe(400);
      expect(broken.json.error).toMatch(/JSON/);
      expect((await post(server, '/', JSON.stringify({ command: 'PING' }))).status).toBe(400);
      expect((await post(server, '/pipeline', JSON.stringify([]))).status).toBe(400);
      expect((await post(server, '/', JSON.stringify(['SELECT', '1']))).json.error).toMatch(/not available/);
    });

    it('surfaces Redis errors to the client', async () => {
      await redis.set('err:string', 'plain');
      await expect(redis.hget('err:string', 'field')).rejects.toThrow(/WRONGTYPE/);
      await expect(redis.incr('err:string')).rejects.toThrow(/not an integer/);
      const unknown = await post(server, '/', JSON.stringify(['NOSUCHCOMMAND', 'x']));
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toMatch(/^ERR unknown command/);
    });

    it('refuses connections while paused and comes back on the same port', async () => {
      await server.pause();
      await expect(fetch(`${server.url}/ping?_token=${TOKEN}`)).rejects.toThrow();
      await server.resume();
      expect(await redis.ping()).toBe('PONG');
    });

    it(`says whether a Redis is reachable`, async () => {
      expect(await server.redisReachable()).toBe(expectedMode === 'redis');
    });
  });
}

if (redisAnswers) {
  suite('Upstash REST server in front of Redis (DB 9)', { redisUrl: REDIS_URL }, 'redis');
} else {
  describe.skip(`Upstash REST server in front of Redis: skipped, no Redis answers PING at ${REDIS_URL}`, () => {
    it('needs a local Redis', () => undefined);
  });
}

suite('Upstash REST server in memory mode', { memory: true }, 'memory');

describe('mode selection', () => {
  it('falls back to memory when no Redis answers', async () => {
    const server = await startUpstashServer({ token: TOKEN, redisUrl: 'redis://127.0.0.1:1/0' });
    try {
      expect(server.mode).toBe('memory');
    } finally {
      await server.close();
    }
  });

  it('detectRedis says no quickly for a closed port', async () => {
    const started = Date.now();
    expect(await detectRedis('redis://127.0.0.1:1', 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
