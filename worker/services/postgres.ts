import { Pool, neonConfig } from '@neondatabase/serverless';
import type { Config } from '../env.ts';
import { ApiError } from '../lib/errors.ts';
import { describe, disabled, probe, withTimeout } from './mode.ts';
import type { DependencyMode, DependencyProbe } from './mode.ts';

export interface Postgres {
  readonly mode: DependencyMode;
  readonly provider: string;
  /** Runs one parameterised statement; failures become postgres_unavailable. */
  query<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Like query, with each column's type oid (to turn numeric text into numbers). */
  queryWithFields(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; fields: Array<{ name: string; dataTypeID: number }> }>;
  /** Runs fn inside one transaction on one connection. */
  transaction<T>(fn: (tx: Pick<Postgres, 'query' | 'queryWithFields'>) => Promise<T>): Promise<T>;
  health(timeoutMs: number): Promise<DependencyProbe>;
  /** Ends the request's pool; the init middleware hands this to waitUntil. */
  close(): Promise<void>;
}

const QUERY_TIMEOUT_MS = 10_000;

function modeFor(config: Config): { mode: DependencyMode; provider: string } {
  if (!config.DATABASE_URL) return { mode: 'disabled', provider: 'none' };
  if (config.LOCAL_POSTGRES === 'pglite') return { mode: 'embedded', provider: 'embedded PGlite through the local WebSocket bridge' };
  if (config.NEON_WS_PROXY) return { mode: 'local', provider: 'local PostgreSQL through the WebSocket bridge' };
  return { mode: 'live', provider: 'Neon serverless Postgres' };
}

/**
 * A Pool per request, as the Neon driver needs in Workers: sockets cannot outlive the request
 * that opened them. The pool is created on first use and ended through waitUntil.
 */
export function createPostgres(config: Config): Postgres {
  const { mode, provider } = modeFor(config);
  let pool: Pool | undefined;
  let closing = false;

  const getPool = (): Pool => {
    if (!config.DATABASE_URL) throw new ApiError('postgres_unavailable', 'DATABASE_URL is not configured.');
    if (pool) return pool;
    if (config.NEON_WS_PROXY) {
      neonConfig.wsProxy = config.NEON_WS_PROXY;
      neonConfig.useSecureWebSocket = false;
      neonConfig.pipelineTLS = false;
      neonConfig.pipelineConnect = false;
    }
    pool = new Pool({ connectionString: config.DATABASE_URL, max: 4, connectionTimeoutMillis: 5_000 });
    // An idle client's error must not become an unhandled rejection that takes down the isolate.
    pool.on('error', (err: Error) => {
      // Sockets torn down with the request after end() report "connection lost": expected, not news.
      if (closing) return;
      console.warn(JSON.stringify({ level: 'warn', msg: 'postgres pool error', error: describe(err) }));
    });
    return pool;
  };

  const runFull = async (
    runner: { query: Pool['query'] },
    text: string,
    params?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; fields: Array<{ name: string; dataTypeID: number }> }> => {
    try {
      const result = await withTimeout(runner.query(text, params as unknown[]), QUERY_TIMEOUT_MS, 'Postgres');
      return { rows: result.rows as Record<string, unknown>[], fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) };
    } catch (err) {
      throw toApiError(err);
    }
  };
  const run = async <T extends Record<string, unknown>>(runner: { query: Pool['query'] }, text: string, params?: unknown[]): Promise<T[]> =>
    (await runFull(runner, text, params)).rows as T[];

  return {
    mode,
    provider,
    query: (text, params) => run(getPool(), text, params),
    queryWithFields: (text, params) => runFull(getPool(), text, params),
    async transaction(fn) {
      let client;
      try {
        client = await withTimeout(getPool().connect(), QUERY_TIMEOUT_MS, 'Postgres');
      } catch (err) {
        throw toApiError(err);
      }
      try {
        await client.query('BEGIN');
        const value = await fn({
          query: (text, params) => run(client, text, params),
          queryWithFields: (text, params) => runFull(client, text, params),
        });
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async health(timeoutMs) {
      if (mode === 'disabled') return disabled(provider, 'DATABASE_URL is not configured');
      return probe(mode, provider, timeoutMs, async () => {
        const rows = await getPool().query<{ version: string }>('SELECT version() AS version');
        return rows.rows[0]?.version.split(' on ')[0] ?? null;
      });
    },
    async close() {
      const p = pool;
      closing = true;
      pool = undefined;
      await p?.end().catch(() => undefined);
    },
  };
}

/**
 * Errors the database raised about the statement stay as they are; trouble reaching it or
 * getting a connection (classes 08 connection, 53 resources such as too many clients, 57
 * operator intervention) is a 503 the client can retry.
 */
function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57)/.test(code)) {
    return err;
  }
  return new ApiError('postgres_unavailable', `Postgres is unreachable: ${describe(err)}`, { cause: err });
}
