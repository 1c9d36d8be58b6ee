/**
 * The lakehouse tables' Delta versions, which every analytics cache key carries: when a table gets
 * a new version, every cached answer over it is stale at once, with no TTL to wait out.
 *
 * Versions sit on the hot path of every analytics request, so they are read cheaply: a copy per
 * isolate (a few seconds), behind it one shared copy in Redis (TABLE_VERSIONS_SECONDS), and only
 * when both are gone `DESCRIBE HISTORY … LIMIT 1` per table, once per isolate at a time. When this
 * server sees a refresh run succeed (or the manifest reads newer versions) it reads the versions
 * again and writes them through both copies, so this isolate moves at once and the others within
 * the few seconds their own copy lives. A refresh run by someone else is seen within the shared
 * copy's lifetime.
 */
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { describeHistory, qualified } from '../services/databricks/metadata.ts';
import type { Services } from '../services/index.ts';

/** How long an isolate trusts its own copy before asking Redis again. */
export const LOCAL_VERSIONS_MS = 5_000;
const READ_TIMEOUT_MS = 5_000;

const EntrySchema = z.object({
  versions: z.record(z.string(), z.number().int().nonnegative()),
  read_at: z.number(),
  /** The refresh run these versions were read after, so each run is acted on once. */
  after_run: z.number().nullable(),
});
type Entry = z.infer<typeof EntrySchema>;

interface Scope {
  /** Identifies one workspace's warehouse and schema. */
  id: string;
  redisKey: string;
  catalog: string;
  schema: string;
  sharedSeconds: number;
}

/** Per isolate: the last entry seen, whether the last read of it failed, and until when it is trusted. */
const held = new Map<string, { entry: Entry | null; failed: boolean; until: number }>();
const reading = new Map<string, Promise<Entry | null>>();
const scopes = new Map<string, Promise<Scope>>();

function scopeOf(config: Config): Promise<Scope> {
  const id = `${config.DATABRICKS_HOST ?? ''}|${config.DATABRICKS_WAREHOUSE_ID ?? ''}|${config.DATABRICKS_CATALOG}.${config.DATABRICKS_SCHEMA}`;
  let scope = scopes.get(id);
  if (!scope) {
    scope = crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)).then((digest) => ({
      id,
      redisKey: `cc:lakehouse:versions:${[...new Uint8Array(digest)].slice(0, 12).map((b) => b.toString(16).padStart(2, '0')).join('')}`,
      catalog: config.DATABRICKS_CATALOG,
      schema: config.DATABRICKS_SCHEMA,
      sharedSeconds: config.TABLE_VERSIONS_SECONDS,
    }));
    scopes.set(id, scope);
  }
  return scope;
}

/** The lakehouse tables the dictionary describes. */
export function lakehouseTables(): string[] {
  return bundledDictionary().tableDefinitions.map((t) => t.name);
}

function hold(scope: Scope, entry: Entry | null, failed = false): void {
  held.set(scope.id, { entry, failed, until: Date.now() + LOCAL_VERSIONS_MS });
}

async function readShared(services: Services, scope: Scope): Promise<Entry | null> {
  if (!services.redis.client) return null;
  try {
    const raw: unknown = await services.redis.client.get(scope.redisKey);
    if (raw === null || raw === undefined) return null;
    const parsed = EntrySchema.safeParse(typeof raw === 'string' ? JSON.parse(raw) : raw);
    return parsed.success ? parsed.data : null;
  } catch (error) {
    services.log.warn('table versions: shared copy unreadable', { error });
    return null;
  }
}

async function writeShared(services: Services, scope: Scope, entry: Entry): Promise<void> {
  if (!services.redis.client) return;
  try {
    await services.redis.client.set(scope.redisKey, JSON.stringify(entry), { ex: scope.sharedSeconds });
  } catch (error) {
    services.log.warn('table versions: shared copy not written', { error });
  }
}

/** Reads every table's current version from the lakehouse and writes it through both copies. */
async function readFromLakehouse(services: Services, scope: Scope, afterRun: number | null): Promise<Entry> {
  const client = services.databricks.client;
  if (!client) throw new Error('Databricks is not configured');
  const tables = lakehouseTables();
  const commits = await Promise.all(
    tables.map((t) => describeHistory(client, qualified(scope.catalog, scope.schema, t), 1, { timeoutMs: READ_TIMEOUT_MS })),
  );
  const versions = Object.fromEntries(tables.map((t, i) => [t, commits[i]?.[0]?.version ?? 0]));
  const entry: Entry = { versions, read_at: Date.now(), after_run: afterRun };
  hold(scope, entry);
  await writeShared(services, scope, entry);
  return entry;
}

/** The shared copy, else the lakehouse; on failure the last entry seen (or none), held briefly so a down lakehouse is not asked on every request. */
function load(services: Services, scope: Scope, stale: Entry | null): Promise<Entry | null> {
  const inFlight = reading.get(scope.id);
  if (inFlight) return inFlight;
  const work = (async () => {
    const shared = await readShared(services, scope);
    if (shared) {
      hold(scope, shared);
      return shared;
    }
    try {
      return await readFromLakehouse(services, scope, stale?.after_run ?? null);
    } catch (error) {
      services.log.warn('table versions unreadable; cache keys use the last ones seen', { error, last_seen: stale?.versions ?? null });
      hold(scope, stale, true);
      return stale;
    }
  })().finally(() => reading.delete(scope.id));
  reading.set(scope.id, work);
  return work;
}

/**
 * The current version of each of `tables`, as cache-key material. `unknown` when the lakehouse
 * could not say (answers are then keyed apart from any versioned one), `unconfigured` without
 * Databricks.
 */
export async function tableVersions(services: Services, config: Config, tables: readonly string[]): Promise<Record<string, string>> {
  return (await versionsOf(services, config, tables)).versions;
}

/** The versions, and whether they were just confirmed (false when the lakehouse could not be read and older ones stand in). */
export async function versionsOf(
  services: Services,
  config: Config,
  tables: readonly string[],
): Promise<{ versions: Record<string, string>; confirmed: boolean }> {
  if (!services.databricks.client) return { versions: Object.fromEntries(tables.map((t) => [t, 'unconfigured'])), confirmed: false };
  const scope = await scopeOf(config);
  let local = held.get(scope.id);
  if (!local || local.until <= Date.now()) {
    await load(services, scope, local?.entry ?? null);
    local = held.get(scope.id);
  }
  const entry = local?.entry ?? null;
  return {
    versions: Object.fromEntries(tables.map((t) => [t, entry?.versions[t] === undefined ? 'unknown' : String(entry.versions[t])])),
    confirmed: entry !== null && !local?.failed,
  };
}

/**
 * A refresh run was seen to succeed: unless these versions were already read after it (here or
 * by another isolate), read them now, so every answer over a changed table is keyed anew.
 */
export async function noteRefreshSucceeded(services: Services, config: Config, runId: number): Promise<Record<string, number>> {
  const scope = await scopeOf(config);
  const local = held.get(scope.id)?.entry;
  if (local?.after_run === runId) return local.versions;
  const shared = await readShared(services, scope);
  if (shared?.after_run === runId) {
    hold(scope, shared);
    return shared.versions;
  }
  return (await readFromLakehouse(services, scope, runId)).versions;
}

/** Versions read elsewhere (the manifest reads every table's history): adopted when they differ. */
export async function adoptVersions(services: Services, config: Config, versions: Record<string, number>): Promise<void> {
  const scope = await scopeOf(config);
  const current = held.get(scope.id)?.entry;
  if (current && Object.entries(versions).every(([t, v]) => current.versions[t] === v)) return;
  const entry: Entry = { versions: { ...current?.versions, ...versions }, read_at: Date.now(), after_run: current?.after_run ?? null };
  hold(scope, entry);
  await writeShared(services, scope, entry);
}

/** Tests start from a cold isolate copy. */
export function forgetLocalVersions(): void {
  held.clear();
}

/** Where the shared copy lives, for tests that start it cold. */
export async function sharedVersionsKey(config: Config): Promise<string> {
  return (await scopeOf(config)).redisKey;
}
