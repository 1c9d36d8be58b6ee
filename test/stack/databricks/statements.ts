// Statement lifecycle: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED, and SUCCEEDED -> CLOSED
// once its result has expired. Each statement runs on its own DuckDB connection so it can be
// interrupted on cancel without disturbing the others.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StatementType } from '@duckdb/node-api';
import type { ExecuteStatementRequest } from './api-schema.ts';
import { parseDescribe } from './describe.ts';
import type { DescribeCommand } from './describe.ts';
import { translateDatabricksSql } from './dialect.ts';
import { StatementError, sqlError, syntaxError, toStatementError } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import type { Lakehouse, Session } from './lakehouse.ts';
import { DEFAULT_SCHEMA } from './lakehouse.ts';
import { bindParameters } from './parameters.ts';
import { chunkResult } from './results.ts';
import type { ChunkedResult, Manifest, ResultLimits, Row } from './results.ts';

export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';

const TERMINAL: ReadonlySet<StatementState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED']);
export const isTerminal = (state: StatementState): boolean => TERMINAL.has(state);

export interface StatementRecord {
  readonly id: string;
  state: StatementState;
  error?: { error_code: string; message: string };
  sqlState?: string;
  result?: ChunkedResult;
  finishedAt?: number;
}

interface Execution {
  record: StatementRecord;
  settled: Promise<void>;
  settle: () => void;
  abort: AbortController;
  /** Resolves when the engine has let go of the statement, even after a cancel. */
  done: Promise<void>;
  session?: Session;
}

export interface StatementRegistryOptions {
  lakehouse: Lakehouse;
  faults: FaultInjector;
  chunkRows: number;
  /** The stand-in's notion of now, for the clock functions. */
  clock: () => Date;
  resultTtlMs: number;
  /** Finished statements kept for polling; the oldest are forgotten beyond this. */
  maxStatements: number;
  /** Answers DESCRIBE DETAIL / DESCRIBE HISTORY from table metadata rather than the engine. */
  describe?: (command: DescribeCommand, session: { catalog: string; schema: string }, limits: ResultLimits) => ChunkedResult;
}

export interface StatementRegistry {
  submit(request: ExecuteStatementRequest): StatementRecord;
  get(id: string): StatementRecord | undefined;
  /** Waits up to `ms` for the statement to finish; true when it has. */
  waitFor(record: StatementRecord, ms: number): Promise<boolean>;
  cancel(record: StatementRecord): void;
  /** Cancels everything in flight and waits until the engine is idle. */
  shutdown(): Promise<void>;
}

export function createStatementRegistry(options: StatementRegistryOptions): StatementRegistry {
  const executions = new Map<string, Execution>();

  const finish = (execution: Execution, update: Partial<StatementRecord>): void => {
    if (isTerminal(execution.record.state)) return;
    Object.assign(execution.record, update, { finishedAt: Date.now() });
    execution.settle();
  };

  const fail = (execution: Execution, error: StatementError): void =>
    finish(execution, {
      state: 'FAILED',
      error: { error_code: error.errorCode, message: error.message },
      ...(error.sqlState ? { sqlState: error.sqlState } : {}),
    });

  const forgetOldest = (): void => {
    if (executions.size <= options.maxStatements) return;
    for (const [id, execution] of executions) {
      if (executions.size <= options.maxStatements) break;
      if (isTerminal(execution.record.state)) executions.delete(id);
    }
  };

  async function run(execution: Execution, request: ExecuteStatementRequest, stuck: boolean, latencyMs: number): Promise<void> {
    const { record, abort } = execution;
    // Let the submit call answer first, as a real warehouse queues before it runs.
    await sleep(0);
    if (abort.signal.aborted) return;
    if (stuck) {
      await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    record.state = 'RUNNING';
    const injected = options.faults.takeFailNext();
    if (injected) {
      fail(execution, new StatementError(injected.error_code, injected.message, injected.sql_state));
      return;
    }
    if (latencyMs > 0) {
      try {
        await sleep(latencyMs, undefined, { signal: abort.signal });
      } catch {
        return;
      }
    }
    try {
      const catalog = request.catalog ?? options.lakehouse.defaultCatalog;
      const schema = request.schema ?? DEFAULT_SCHEMA;
      const command = options.describe ? parseDescribe(request.statement) : null;
      if (command && options.describe) {
        const limits = { chunkRows: options.chunkRows, ...(request.row_limit !== undefined ? { rowLimit: request.row_limit } : {}) };
        finish(execution, { state: 'SUCCEEDED', result: options.describe(command, { catalog, schema }, limits) });
        return;
      }
      const translation = translateDatabricksSql(request.statement, { now: options.clock() });
      const bindings = bindParameters(translation.parameters, request.parameters ?? []);
      const session = await options.lakehouse.openSession(catalog, schema);
      execution.session = session;
      if (abort.signal.aborted) return;
      const extracted = await session.connection.extractStatements(translation.sql);
      if (extracted.count === 0) throw syntaxError('end of input');
      if (extracted.count > 1) throw syntaxError("';'");
      const prepared = await extracted.prepare(0);
      if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
        throw sqlError(
          'INSUFFICIENT_PERMISSIONS',
          'Insufficient privileges: this warehouse only runs queries; statements that change data, schemas or settings are not allowed.',
          '42501',
          'PERMISSION_DENIED',
        );
      }
      if (translation.parameters.length > 0) prepared.bind(bindings.values, bindings.types);
      const reader = await prepared.runAndReadAll();
      if (abort.signal.aborted) return;
      const result = chunkResult(reader, {
        chunkRows: options.chunkRows,
        ...(request.row_limit !== undefined ? { rowLimit: request.row_limit } : {}),
        ...(request.byte_limit !== undefined ? { byteLimit: request.byte_limit } : {}),
      });
      finish(execution, { state: 'SUCCEEDED', result });
    } catch (error) {
      if (abort.signal.aborted) return;
      fail(execution, toStatementError(error));
    }
  }

  const expire = (record: StatementRecord): void => {
    if (record.state === 'SUCCEEDED' && record.finishedAt !== undefined && Date.now() - record.finishedAt > options.resultTtlMs) {
      record.state = 'CLOSED';
      delete record.result;
    }
  };

  const cancel = (record: StatementRecord): void => {
    const execution = executions.get(record.id);
    if (!execution || isTerminal(record.state)) return;
    finish(execution, { state: 'CANCELED' });
    execution.abort.abort();
    execution.session?.connection.interrupt();
  };

  return {
    submit(request) {
      let settle = (): void => {};
      const settled = new Promise<void>((resolve) => {
        settle = resolve;
      });
      const record: StatementRecord = { id: randomUUID(), state: 'PENDING' };
      const execution: Execution = { record, settled, settle, abort: new AbortController(), done: Promise.resolve() };
      const faults = options.faults.current;
      execution.done = run(execution, request, faults.stuckPending === true, faults.latencyMs ?? 0)
        .catch((error: unknown) => fail(execution, toStatementError(error)))
        .finally(() => {
          execution.session?.close();
          delete execution.session;
        });
      executions.set(record.id, execution);
      forgetOldest();
      return record;
    },
    get(id) {
      const record = executions.get(id)?.record;
      if (record) expire(record);
      return record;
    },
    async waitFor(record, ms) {
      const execution = executions.get(record.id);
      if (!execution || isTerminal(record.state)) return true;
      if (ms <= 0) return false;
      const timer = new AbortController();
      const finished = await Promise.race([
        execution.settled.then(() => true),
        sleep(ms, false, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      return finished;
    },
    cancel,
    async shutdown() {
      for (const execution of executions.values()) cancel(execution.record);
      await Promise.all([...executions.values()].map((execution) => execution.done));
      executions.clear();
    },
  };
}

const CHUNK_PATH = (id: string, index: number): string => `/api/2.0/sql/statements/${id}/result/chunks/${index}`;

export interface ChunkBody {
  chunk_index: number;
  row_offset: number;
  row_count: number;
  data_array?: Row[];
  next_chunk_index?: number;
  next_chunk_internal_link?: string;
}

/** One result chunk as the API returns it; an empty result has no rows and so no `data_array`. */
export function chunkBody(record: StatementRecord, index: number): ChunkBody | undefined {
  const result = record.result;
  if (!result) return undefined;
  if (result.manifest.total_chunk_count === 0 && index === 0) return { chunk_index: 0, row_offset: 0, row_count: 0 };
  const info = result.manifest.chunks[index];
  const rows = result.chunkRows[index];
  if (!info || !rows) return undefined;
  const hasNext = index + 1 < result.manifest.total_chunk_count;
  return {
    ...info,
    data_array: rows,
    ...(hasNext ? { next_chunk_index: index + 1, next_chunk_internal_link: CHUNK_PATH(record.id, index + 1) } : {}),
  };
}

export interface StatementBody {
  statement_id: string;
  status: { state: StatementState; error?: { error_code: string; message: string }; sql_state?: string };
  manifest?: Manifest;
  result?: ChunkBody;
}

export function statementBody(record: StatementRecord): StatementBody {
  const body: StatementBody = {
    statement_id: record.id,
    status: {
      state: record.state,
      ...(record.error ? { error: record.error } : {}),
      ...(record.sqlState ? { sql_state: record.sqlState } : {}),
    },
  };
  if (record.state === 'SUCCEEDED' && record.result) {
    body.manifest = record.result.manifest;
    const first = chunkBody(record, 0);
    if (first) body.result = first;
  }
  return body;
}
