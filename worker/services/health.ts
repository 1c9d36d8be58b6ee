import type { Config } from '../config/env.ts';
import { Lru } from '../lib/lru.ts';
import type { Services } from './index.ts';
import type { DependencyProbe } from './mode.ts';

export interface Dependencies {
  postgres: DependencyProbe;
  redis: DependencyProbe;
  databricks: DependencyProbe;
  bedrock: DependencyProbe;
}

/** One round of probes and when it ran. */
export interface HealthSnapshot {
  checkedAt: number;
  dependencies: Dependencies;
}

type Probed = Omit<Dependencies, 'bedrock'>;
interface Round {
  checkedAt: number;
  dependencies: Probed;
}

/**
 * How long one round of probes answers /health and /readyz. Both are public, so a flood of calls
 * must not become a flood of probes: within this period every call in an isolate gets the same
 * answer, and isolates share the latest round through Redis.
 */
export const HEALTH_CACHE_MS = 5_000;

/** How often a request that found another one probing looks for its answer. */
const WAIT_STEP_MS = 25;
/** Redis holds the shared round; a slow Redis must not add much to the probes' own deadline. */
const SHARED_READ_MS = 250;

interface Entry {
  snapshot?: Round;
  /** Set while a request of this isolate runs the probes. */
  probingSince?: number;
}

// Keyed by what the probes talk to, so differently configured apps in one isolate (tests) never
// answer for each other.
const rounds = new Lru<string, Entry>(16);

async function fingerprint(config: Config): Promise<string> {
  const parts = [
    config.APP_ENV,
    config.DATABASE_URL,
    config.NEON_HTTP_ENDPOINT,
    config.NEON_WS_PROXY,
    config.UPSTASH_REDIS_REST_URL,
    config.DATABRICKS_HOST,
    config.DATABRICKS_WAREHOUSE_ID,
    config.HEALTH_TIMEOUT_MS,
  ];
  // Hashed: the connection string carries a password, and the key is stored in Redis.
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(parts)));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Postgres, Redis and Databricks probed once each, within timeoutMs. */
async function probeDependencies(services: Services, timeoutMs: number): Promise<Probed> {
  const [postgres, redis, databricks] = await Promise.all([
    services.postgres.health(timeoutMs),
    services.redis.health(timeoutMs),
    services.databricks.health(timeoutMs),
  ]);
  return { postgres, redis, databricks };
}

const fresh = (s: Round | null | undefined, now: number): s is Round => s != null && now - s.checkedAt < HEALTH_CACHE_MS;

/**
 * The latest round of probes, at most HEALTH_CACHE_MS old: this isolate's, else the one another
 * isolate left in Redis, else a new round. While one request of the isolate probes, the others
 * answer with the previous round, or, when there is none yet, wait for this one (they read the
 * shared entry; no promise crosses requests). Bedrock is reported from the configuration, never
 * called: a Converse call costs tokens.
 */
export async function healthSnapshot(services: Services, config: Config): Promise<HealthSnapshot> {
  const round = await latestRound(services, config);
  return { checkedAt: round.checkedAt, dependencies: { ...round.dependencies, bedrock: services.bedrock.health() } };
}

async function latestRound(services: Services, config: Config): Promise<Round> {
  const key = await fingerprint(config);
  let entry = rounds.get(key);
  if (!entry) {
    entry = {};
    rounds.set(key, entry);
  }
  const started = Date.now();
  if (fresh(entry.snapshot, started)) return entry.snapshot;

  const probeWindowMs = config.HEALTH_TIMEOUT_MS + 1_000;
  const busy = () => entry.probingSince !== undefined && Date.now() - entry.probingSince < probeWindowMs;
  if (busy()) {
    if (entry.snapshot) return entry.snapshot;
    while (busy() && !entry.snapshot) await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    if (entry.snapshot) return entry.snapshot;
  }

  entry.probingSince = Date.now();
  try {
    const redisKey = `cc:health:${key}`;
    const redis = services.redis.client;
    if (redis) {
      // Upstash's client takes no signal, so the wait for it is what the deadline bounds.
      const deadline = AbortSignal.timeout(SHARED_READ_MS);
      const expired = new Promise<null>((resolve) => deadline.addEventListener('abort', () => resolve(null), { once: true }));
      const shared = await Promise.race([redis.get<Round>(redisKey).catch(() => null), expired]);
      if (shared && fresh(shared, Date.now())) {
        entry.snapshot = shared;
        return shared;
      }
    }
    const snapshot: Round = { checkedAt: Date.now(), dependencies: await probeDependencies(services, config.HEALTH_TIMEOUT_MS) };
    entry.snapshot = snapshot;
    if (redis) services.defer(redis.set(redisKey, snapshot, { px: HEALTH_CACHE_MS }));
    const failing = Object.entries(snapshot.dependencies).filter(([, d]) => d.status === 'down' || d.status === 'slow');
    // Anonymous callers see only the statuses; the reasons go to the log.
    for (const [name, d] of failing) services.log.warn('dependency unhealthy', { dependency: name, status: d.status, detail: d.detail });
    return snapshot;
  } finally {
    entry.probingSince = undefined;
  }
}
