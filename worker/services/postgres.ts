import { Pool, neon, neonConfig } from '@neondatabase/serverless';
import type { NeonQueryFunction } from '@neondatabase/serverless';
import type { Config } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import type { Timings } from '../http/timing.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import { describe, disabled, probe, withTimeout } from './mode.ts';
import type { DependencyMode, DependencyProbe } from './mode.ts';

export interface QueryResult {
  rows: Record<string, unknown>[];
  fields: Array<{ name: string; dataTypeID: number }>;
}

export interface Statement {
  text: string;
  params?: unknown[];
}

/**
 * Two ways to Postgres, each where it is fastest. A statement on its own, or a fixed list of them
 * in one transaction, goes over Neon's HTTP query endpoint: one request, no connection to open.
 * A transaction that reads and decides between statements needs a session, and takes a pooled
 * WebSocket connection for the rest of the request.
 */
export interface Postgres {
  readonly mode: DependencyMode;
  readonly provider: string;
  /** Runs one parameterised statement; failures become postgres_unavailable. */
  query<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Like query, with each column's type oid (to turn numeric text into numbers). */
  queryWithFields(text: string, params?: unknown[]): Promise<QueryResult>;
  /**
   * Statements decided up front, run in order in one transaction, in one round trip. `timeoutMs`
   * bounds the whole exchange (default 10 s), so a hung connection cannot outlive a route's deadline.
   */
  batch(statements: readonly Statement[], options?: { readOnly?: boolean; timeoutMs?: number }): Promise<QueryResult[]>;
  /**
   * Runs fn inside one transaction on one connection. `readOnly` and `statementTimeoutMs` are
   * set by the same round trip that begins it.
   */
  transaction<T>(fn: (tx: Pick<Postgres, 'query' | 'queryWithFields'>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  health(timeoutMs: number): Promise<DependencyProbe>;
  /** Ends the request's pool; the init middleware hands this to waitUntil. */
  close(): Promise<void>;
}

export interface TransactionOptions {
  readOnly?: boolean;
  statementTimeoutMs?: number;
}

const QUERY_TIMEOUT_MS = 10_000;

/** One simple-protocol message: BEGIN with its mode and the local timeout together. */
export function beginStatement(options: TransactionOptions = {}): string {
  const begin = options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
  if (options.statementTimeoutMs === undefined) return begin;
  return `${begin}; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.statementTimeoutMs))}`;
}

function modeFor(config: Config): { mode: DependencyMode; provider: string } {
  if (!config.DATABASE_URL) return { mode: 'disabled', provider: 'none' };
  if (config.LOCAL_POSTGRES === 'pglite') return { mode: 'embedded', provider: 'embedded PGlite through the local WebSocket bridge and HTTP query stand-in' };
  if (config.NEON_WS_PROXY) return { mode: 'local', provider: 'local PostgreSQL through the WebSocket bridge and HTTP query stand-in' };
  return { mode: 'live', provider: 'Neon serverless Postgres' };
}

/**
 * A Pool per request, as the Neon driver needs in Workers: sockets cannot outlive the request
 * that opened them. The pool is created on first use and ended through waitUntil. HTTP queries
 * need no cleanup.
 */
export function createPostgres(config: Config, timings?: Timings, log: Logger = rootLogger): Postgres {
  const { mode, provider } = modeFor(config);
  let pool: Pool | undefined;
  let http: NeonQueryFunction<false, true> | undefined;
  let closing = false;

  const getHttp = (): NeonQueryFunction<false, true> => {
    if (!config.DATABASE_URL) throw new ApiError('postgres_unavailable', 'DATABASE_URL is not configured.');
    if (config.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_HTTP_ENDPOINT;
    http ??= neon(config.DATABASE_URL, { fullResults: true });
    return http;
  };

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
      log.warn('postgres pool error', { error: err });
    });
    return pool;
  };

  const time = <T>(name: string, work: () => Promise<T>): Promise<T> => (timings ? timings.time(name, work) : work());
  // Checking a client out is timed apart from the statements: it is where a new connection's
  // WebSocket, startup and authentication go.
  const connect = async () => {
    try {
      return await time('pg-connect', () => withTimeout(getPool().connect(), QUERY_TIMEOUT_MS, 'Postgres'));
    } catch (err) {
      throw toApiError(err);
    }
  };
  type Client = Awaited<ReturnType<typeof connect>>;

  const runFull = async (
    client: Client,
    text: string,
    params?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; fields: Array<{ name: string; dataTypeID: number }> }> => {
    try {
      return toResult(await time('pg', () => withTimeout(client.query(text, params as unknown[]), QUERY_TIMEOUT_MS, 'Postgres')));
    } catch (err) {
      throw toApiError(err);
    }
  };
  const run = async <T extends Record<string, unknown>>(client: Client, text: string, params?: unknown[]): Promise<T[]> =>
    (await runFull(client, text, params)).rows as T[];
  const overHttp = async (text: string, params?: unknown[]): Promise<QueryResult> => {
    try {
      const sql = getHttp();
      return toResult(await time('pg', () => withTimeout(sql.query(text, params ?? []), QUERY_TIMEOUT_MS, 'Postgres')));
    } catch (err) {
      throw toApiError(err);
    }
  };

  return {
    mode,
    provider,
    query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) => (await overHttp(text, params)).rows as T[],
    queryWithFields: overHttp,
    async batch(statements, options) {
      if (statements.length === 0) return [];
      try {
        const sql = getHttp();
        const timeoutMs = options?.timeoutMs ?? QUERY_TIMEOUT_MS;
        const results = await time('pg', () =>
          withTimeout(
            sql.transaction(
              statements.map((s) => sql.query(s.text, s.params ?? [])),
              { ...(options?.readOnly ? { readOnly: true } : {}), fetchOptions: { signal: AbortSignal.timeout(timeoutMs) } },
            ),
            timeoutMs,
            'Postgres',
          ),
        );
        return results.map(toResult);
      } catch (err) {
        throw toApiError(err);
      }
    },
    async transaction(fn, options) {
      const client = await connect();
      try {
        // Two statements in one simple-protocol message: the answer is a list, not one result.
        await time('pg', () => withTimeout(client.query(beginStatement(options)), QUERY_TIMEOUT_MS, 'Postgres')).catch((err: unknown) => {
          throw toApiError(err);
        });
        const value = await fn({
          query: (text, params) => run(client, text, params),
          queryWithFields: (text, params) => runFull(client, text, params),
        });
        await run(client, 'COMMIT');
        client.release();
        return value;
      } catch (err) {
        const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
        client.release(!rolledBack);
        throw err;
      }
    },
    async health(timeoutMs) {
      if (mode === 'disabled') return disabled(provider, 'DATABASE_URL is not configured');
      return probe(mode, provider, timeoutMs, async () => {
        const { rows } = await overHttp('SELECT version() AS version');
        return String(rows[0]?.version ?? '').split(' on ')[0] || null;
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

function toResult(result: { rows: unknown[]; fields: Array<{ name: string; dataTypeID: number }> }): QueryResult {
  return { rows: result.rows as Record<string, unknown>[], fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) };
}

/**
 * Errors the database raised about the statement stay as they are; trouble reaching it or
 * getting a connection (classes 08 connection, 53 resources such as too many clients, 57
 * operator intervention) is a 503 the client can retry. A statement cancelled at its own
 * deadline (57014) is the caller's timeout, not an outage: 504.
 */
function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === '57014') return new ApiError('dependency_timeout', 'The Postgres statement exceeded its deadline and was cancelled.', { cause: err });
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57)/.test(code)) {
    return err;
  }
  return new ApiError('postgres_unavailable', `Postgres is unreachable: ${describe(err)}`, { cause: err });
}
