import { Redis } from '@upstash/redis';

/**
 * Deletes every key under `prefix` (as the worker writes them with REDIS_KEY_PREFIX: `<prefix>:...`)
 * through the Upstash REST API, a SCAN page at a time, and returns how many went. Other keys in the
 * same database (another test run, a dev server) are left alone.
 */
export async function deleteKeysUnder(server: { url: string; token: string }, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) throw new Error(`refusing to delete keys under ${JSON.stringify(prefix)}: not a plain prefix`);
  const redis = new Redis({ url: server.url, token: server.token, enableTelemetry: false, enableAutoPipelining: false });
  // Collected first, deleted after: deleting while scanning may shift a cursor (the in-memory store's does).
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, { match: `${prefix}:*`, count: 500 });
    keys.push(...page);
    cursor = String(next);
  } while (cursor !== '0');
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 500) deleted += await redis.del(...keys.slice(i, i + 500));
  return deleted;
}
