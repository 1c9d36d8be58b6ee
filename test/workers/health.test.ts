import { env } from 'cloudflare:workers';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { HealthSchema } from '../../worker/routes/health.ts';
import { authHeaders, call, vars } from './helpers.ts';

/** The app with its own HEALTH_TIMEOUT_MS, so its probe rounds are its own (they are kept per configuration). */
const appWithTimeout = (timeoutMs: number) => {
  const api = createApi();
  return (path: string, init: RequestInit = {}) => api.request(path, init, { ...env, HEALTH_TIMEOUT_MS: String(timeoutMs) });
};

describe('/health for anonymous callers', () => {
  it('shows the overall and per-dependency status only: no warehouse id, versions, providers or error text', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = HealthSchema.parse(JSON.parse(text));
    expect(Object.keys(body).sort()).toEqual(['checked_at', 'dependencies', 'status']);
    for (const name of ['postgres', 'redis', 'databricks', 'bedrock'] as const) {
      expect(Object.keys(body.dependencies[name]), name).toEqual(['status']);
    }
    expect(text).not.toContain(vars.DATABRICKS_WAREHOUSE_ID!);
    expect(text).not.toMatch(/PostgreSQL|PGlite|stand-in/i);
  });

  it('shows the details to a signed-in caller', async () => {
    const body = HealthSchema.parse(await (await call('/health', { headers: await authHeaders('viewer') })).json());
    expect(body).toMatchObject({ version: expect.any(String), environment: expect.any(String) });
    expect(body.dependencies.postgres.detail).toMatch(/PostgreSQL/);
    expect(body.dependencies.databricks.detail).toContain(vars.DATABRICKS_WAREHOUSE_ID!);
  });

  it('answers a burst from one round of probes', async () => {
    const app = appWithTimeout(1_999);
    const first = await app('/health');
    const firstBody = HealthSchema.parse(await first.json());
    const burst = await Promise.all(Array.from({ length: 20 }, () => app('/health')));
    for (const res of burst) {
      const body = HealthSchema.parse(await res.json());
      expect(body.checked_at).toBe(firstBody.checked_at);
      // Served from the isolate: no Postgres or Redis round trip.
      expect(res.headers.get('server-timing') ?? '').not.toMatch(/\b(pg|redis);/);
    }
  });

  it('shares the round with other isolates through Redis', async () => {
    const app = appWithTimeout(1_998);
    const body = HealthSchema.parse(await (await app('/health')).json());
    const redis = new Redis({ url: vars.UPSTASH_REDIS_REST_URL!, token: vars.UPSTASH_REDIS_REST_TOKEN!, enableTelemetry: false });
    // The write finishes after the response; wait for it rather than for a fixed time.
    const deadline = Date.now() + 5_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const keys = await healthKeys(redis, `${vars.REDIS_KEY_PREFIX ? `${vars.REDIS_KEY_PREFIX}:` : ''}cc:health:*`);
      const rounds = await Promise.all(keys.map((k) => redis.get<{ checkedAt: number }>(k)));
      found = rounds.some((r) => r !== null && new Date(r.checkedAt).toISOString() === body.checked_at);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(found).toBe(true);
  });

  it('keeps /livez free of any dependency', async () => {
    const res = await call('/livez');
    expect(await res.json()).toEqual({ live: true });
    expect(res.headers.get('server-timing') ?? '').not.toMatch(/\b(pg|redis);/);
  });
});

/** SCAN, not KEYS: the Redis is shared with other runs, and KEYS blocks it while it walks them all. */
async function healthKeys(redis: Redis, match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | number = 0;
  do {
    const [next, keys]: [string | number, string[]] = await redis.scan(cursor, { match, count: 500 });
    found.push(...keys);
    cursor = next;
  } while (String(cursor) !== '0');
  return found;
}
