import { Pool, neon, neonConfig } from '@neondatabase/serverless';
import type { NeonQueryFunction } from '@neondatabase/serverless';
import type { Config } from '../config/env.ts';
import { DependencyError, isDependencyError, scrub } from '../http/errors.ts';
import type { Timings } from '../http/timing.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import { describe, disabled, probe } from './mode.ts';
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
  /** Runs one parameterised statement; an outage or timeout is a DependencyError, bad SQL the database's own error. */
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

  const notConfigured = () => new DependencyError('postgres', 'not_configured', 'DATABASE_URL is not configured');
  // The connection string's password must never reach a message, even if the driver echoes it.
  const secrets = [passwordOf(config.DATABASE_URL)];
  const failure = (err: unknown, timer?: AbortSignal) => toDependencyError(err, secrets, timer);

  const getHttp = (): NeonQueryFunction<false, true> => {
    if (!config.DATABASE_URL) throw notConfigured();
    if (config.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_HTTP_ENDPOINT;
    http ??= neon(config.DATABASE_URL, { fullResults: true });
    return http;
  };

  const getPool = (): Pool => {
    if (!config.DATABASE_URL) throw notConfigured();
    if (pool) return pool;
    if (config.NEON_WS_PROXY) {
      neonConfig.wsProxy = config.NEON_WS_PROXY;
      neonConfig.useSecureWebSocket = false;
      neonConfig.pipelineTLS = false;
      neonConfig.pipelineConnect = false;
    }
    // Both bounds are the driver's own: a connection that does not open, or a statement that gets
    // no answer, fails rather than holding the request.
    pool = new Pool({ connectionString: config.DATABASE_URL, max: 4, connectionTimeoutMillis: 5_000, query_timeout: QUERY_TIMEOUT_MS });
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
      return await time('pg-connect', () => getPool().connect());
    } catch (err) {
      throw failure(err);
    }
  };
  type Client = Awaited<ReturnType<typeof connect>>;

  const runFull = async (
    client: Client,
    text: string,
    params?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; fields: Array<{ name: string; dataTypeID: number }> }> => {
    try {
      return toResult(await time('pg', () => client.query(text, params as unknown[])));
    } catch (err) {
      throw failure(err);
    }
  };
  const run = async <T extends Record<string, unknown>>(client: Client, text: string, params?: unknown[]): Promise<T[]> =>
    (await runFull(client, text, params)).rows as T[];
  const overHttp = async (text: string, params?: unknown[], signal?: AbortSignal): Promise<QueryResult> => {
    const timer = AbortSignal.timeout(QUERY_TIMEOUT_MS);
    try {
      const sql = getHttp();
      const fetchOptions = { signal: signal ? AbortSignal.any([timer, signal]) : timer };
      return toResult(await time('pg', () => sql.query(text, params ?? [], { fetchOptions })));
    } catch (err) {
      throw failure(err, timer);
    }
  };

  return {
    mode,
    provider,
    query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) => (await overHttp(text, params)).rows as T[],
    queryWithFields: overHttp,
    async batch(statements, options) {
      if (statements.length === 0) return [];
      const timer = AbortSignal.timeout(options?.timeoutMs ?? QUERY_TIMEOUT_MS);
      try {
        const sql = getHttp();
        const results = await time('pg', () =>
          sql.transaction(
            statements.map((s) => sql.query(s.text, s.params ?? [])),
            { ...(options?.readOnly ? { readOnly: true } : {}), fetchOptions: { signal: timer } },
          ),
        );
        return results.map(toResult);
      } catch (err) {
        throw failure(err, timer);
      }
    },
    async transaction(fn, options) {
      const client = await connect();
      try {
        // Two statements in one simple-protocol message: the answer is a list, not one result.
        await time('pg', () => client.query(beginStatement(options))).catch((err: unknown) => {
          throw failure(err);
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
      return probe(mode, provider, timeoutMs, async (signal) => {
        const { rows } = await overHttp('SELECT version() AS version', [], signal);
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

function passwordOf(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  return decodeURIComponent(new URL(url).password) || undefined;
}

function toResult(result: { rows: unknown[]; fields: Array<{ name: string; dataTypeID: number }> }): QueryResult {
  return { rows: result.rows as Record<string, unknown>[], fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) };
}

/**
 * Errors the database raised about the statement stay as they are (callers branch on their
 * SQLSTATE; the error handler answers any other as internal_error). A statement the server
 * cancelled at its own deadline (57014) is a `timeout` (504). Trouble reaching it or getting a
 * connection (classes 08 connection, 53 resources such as too many clients, 57 operator
 * intervention, no SQLSTATE at all, or our own timer giving up on a hung connection) is
 * `unavailable`: a 503 the client can retry.
 */
function toDependencyError(err: unknown, secrets: readonly (string | undefined)[], timer?: AbortSignal): unknown {
  if (isDependencyError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (code === '57014') {
    return new DependencyError('postgres', 'timeout', 'the statement exceeded its statement_timeout and was cancelled', {
      details: { sqlState: code },
      cause: err,
    });
  }
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlState && !/^(08|53|57)/.test(sqlState)) return err;
  const message = timer?.aborted ? `Postgres did not answer within the request's deadline` : `Postgres could not be reached: ${scrub(describe(err), secrets)}`;
  return new DependencyError('postgres', 'unavailable', message, { details: { sqlState }, cause: err });
}
