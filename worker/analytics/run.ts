/**
 * How the analytics reach the lakehouse and the cache. Every statement goes through the one
 * `runStatement` (source `databricks`, the safety layer, a deadline); every answer is cached in
 * the metrics domain's two-level cache under a key that names the tables' data versions, so a
 * refresh of the lakehouse can make every answer over a changed table stale at once.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { isDependencyError } from '../http/errors.ts';
import type { Logger } from '../lib/log.ts';
import { cacheKey, readCache, writeCache } from '../metrics/cache.ts';
import type { CacheState } from '../metrics/cache.ts';
import { safetyPolicy } from '../metrics/index.ts';
import { runStatement } from '../services/statements.ts';
import type { QueryAnswer, TypedValue } from '../services/statements.ts';
import { tableVersions } from './versions.ts';

/** A lakehouse statement's deadline; the warehouse cancels it then. */
export const STATEMENT_TIMEOUT_MS = 10_000;

export interface Run {
  qualify(table: string): string;
  statement(st: { sql: string; params: Record<string, TypedValue> }, timeoutMs?: number): Promise<QueryAnswer>;
  /** The answer of `compute` for `parts`, from the cache when it holds one. */
  cached<T>(parts: Record<string, unknown>, seconds: number, compute: () => Promise<T>): Promise<{ value: T; cache: CacheState; as_of: string }>;
  readonly log: Logger;
  readonly now: Date;
  readonly secret: string | undefined;
}

/**
 * The data versions of the tables an answer reads (their Delta versions, see versions.ts): part
 * of every cache key, so a refresh makes every answer over a changed table stale at once.
 */
export { tableVersions } from './versions.ts';

export const ANALYTICS_TABLES = ['interactions', 'customers', 'agents', 'devices', 'claims', 'issue_sessions'] as const;

export function openRun(c: Context<AppEnv>): Run {
  const config = c.get('config');
  const services = c.get('services');
  const log = c.get('log').child({ component: 'analytics' });
  const policy = safetyPolicy(config.DATABRICKS_CATALOG, config.DATABRICKS_SCHEMA);
  const qualify = (table: string) => `${config.DATABRICKS_CATALOG}.${config.DATABRICKS_SCHEMA}.${table}`;
  return {
    qualify,
    log,
    now: new Date(),
    secret: config.SESSION_SECRET,
    async statement(st, timeoutMs = STATEMENT_TIMEOUT_MS) {
      return runStatement(services, { source: 'databricks', sql: st.sql, params: st.params, timeoutMs, policy });
    },
    async cached(parts, seconds, compute) {
      const versions = await tableVersions(services, config, ANALYTICS_TABLES);
      const key = await cacheKey({ domain: 'analytics', versions, ...parts });
      const read = await readCache<{ value: unknown; as_of: string }>(services.redis, key);
      if (read.value) return { value: read.value.value as never, cache: 'hit', as_of: read.value.as_of };
      if (read.problem) log.warn('analytics cache skipped', { problem: read.problem });
      const value = await compute();
      const as_of = new Date().toISOString();
      services.defer(writeCache(services.redis, key, { value, as_of }, seconds));
      return { value, cache: read.state === 'bypass' ? 'bypass' : 'miss', as_of };
    },
  };
}

/**
 * A lakehouse failure where no degraded answer makes sense: logged with what was being read, then
 * rethrown for problem.ts to answer (databricks_unavailable, or dependency_timeout, with its sentence).
 */
export function unavailable(err: unknown, what: string, log: Logger): never {
  if (isDependencyError(err, 'databricks')) log.warn('lakehouse unavailable', { what, error: err });
  throw err;
}
