// A client for the Databricks SQL Statement Execution API 2.0 that runs anywhere `fetch` does
// (workerd included): submit with a wait derived from the caller's deadline, poll with backoff,
// read every INLINE JSON_ARRAY chunk, verify the row total, convert values, and cancel what the
// deadline cuts short.
import { isDependencyError } from '../../http/errors.ts';
import type { DependencyError } from '../../http/errors.ts';
import { toResultColumns, createRowConverter } from './convert.ts';
import { checkCall, createTransport, databricksError, jitter, pause, startCall } from './http.ts';
import type { Call, Transport } from './http.ts';
import { encodeParameters } from './params.ts';
import type {
  DatabricksClient,
  DatabricksClientOptions,
  DatabricksParam,
  ExecuteOptions,
  HealthOptions,
  WarehouseInfo,
  HealthResult,
  StatementResult,
} from './types.ts';
import { wireChunk, wireStatement, wireWarehouse } from './wire.ts';
import type { StatementState, WireChunk, WireExecuteRequest, WireStatement } from './wire.ts';

export type * from './types.ts';

const STATEMENTS_PATH = '/api/2.0/sql/statements';
const WAREHOUSES_PATH = '/api/2.0/sql/warehouses';
/** The API accepts wait_timeout of 0s or 5s..50s. */
const MIN_WAIT_SECONDS = 5;
const MAX_WAIT_SECONDS = 50;
/**
 * Time kept between the server-side wait and the deadline, so the submit answer (and with it the
 * statement id needed to cancel) arrives before the deadline aborts the request.
 */
const SUBMIT_MARGIN_MS = 1_000;
const TERMINAL: ReadonlySet<StatementState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED']);

/** `wait_timeout` for the time left: as long as the deadline allows, within 5s..50s, else 0s (poll at once). */
export function waitTimeoutFor(remainingMs: number): string {
  const seconds = Math.floor((remainingMs - SUBMIT_MARGIN_MS) / 1000);
  if (seconds < MIN_WAIT_SECONDS) return '0s';
  return `${Math.min(MAX_WAIT_SECONDS, seconds)}s`;
}

function quoteIdentifier(name: string): string {
  if (!name) throw new RangeError('an identifier must not be empty');
  return `\`${name.replaceAll('`', '``')}\``;
}

function parseStatement(body: unknown, statementId?: string): WireStatement {
  const parsed = wireStatement.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw databricksError('protocol', 
      `unexpected statement answer${issue ? ` (${issue.path.join('.') || 'body'}: ${issue.message})` : ''}`,
      { statementId },
    );
  }
  return parsed.data;
}

function parseChunk(body: unknown, statementId: string): WireChunk {
  const parsed = wireChunk.safeParse(body);
  if (!parsed.success) throw databricksError('protocol', 'unexpected result chunk answer', { statementId });
  return parsed.data;
}

export function createDatabricksClient(options: DatabricksClientOptions): DatabricksClient {
  if (!options.token) throw new RangeError('a Databricks token is required');
  if (!options.warehouseId) throw new RangeError('a Databricks warehouse id is required');
  const transport: Transport = createTransport({
    host: options.host,
    token: options.token,
    fetch: options.fetch,
    maxAttempts: Math.max(1, options.maxAttempts ?? 4),
  });
  const pollInitialMs = options.pollInitialMs ?? 100;
  const pollMaxMs = options.pollMaxMs ?? 1_000;
  const cancelTimeoutMs = options.cancelTimeoutMs ?? 1_000;
  const statementUrl = (id: string, suffix = ''): URL => transport.url(`${STATEMENTS_PATH}/${encodeURIComponent(id)}${suffix}`, id);

  const failureOf = (statement: WireStatement): DependencyError => {
    const id = statement.statement_id;
    const { state, error, sql_state: sqlState } = statement.status;
    const message = transport.scrub(error?.message ?? '');
    // Canceled on the warehouse's side (an administrator, a restart): the caller did not ask for it.
    if (state === 'CANCELED') return databricksError('unavailable', message || `Databricks canceled statement ${id}`, { statementId: id, errorType: 'CANCELED' });
    if (state === 'CLOSED') {
      return databricksError('rejected', `the result of statement ${id} expired before it was read`, { statementId: id, errorType: 'STATEMENT_CLOSED' });
    }
    return databricksError('rejected', message || `Databricks statement ${id} failed`, {
      statementId: id,
      errorType: error?.error_code ?? 'UNKNOWN',
      sqlState,
    });
  };

  /** Reads the first chunk (inline or fetched) and every chunk after it, checking offsets and the total. */
  const readRows = async (statement: WireStatement, call: Call, onRows?: ExecuteOptions['onRows']): Promise<Omit<StatementResult, 'durationMs'>> => {
    const id = statement.statement_id;
    const manifest = statement.manifest;
    if (!manifest) throw databricksError('protocol', `statement ${id} SUCCEEDED without a manifest`, { statementId: id });
    if (manifest.format !== undefined && manifest.format !== 'JSON_ARRAY') {
      throw databricksError('protocol', `statement ${id} answered in ${manifest.format}, not JSON_ARRAY`, { statementId: id });
    }
    const columns = toResultColumns(manifest.schema.columns ?? []);
    if (manifest.schema.column_count !== undefined && manifest.schema.column_count !== columns.length) {
      throw databricksError('protocol', `statement ${id} declares ${manifest.schema.column_count} columns but describes ${columns.length}`, {
        statementId: id,
      });
    }
    const total = manifest.total_row_count;
    if (total === undefined) throw databricksError('protocol', `statement ${id} has no total_row_count`, { statementId: id });
    const convert = createRowConverter(columns);
    const rows: Array<Record<string, unknown>> = [];
    let read = 0;

    let chunk: WireChunk | undefined = statement.result;
    if (!chunk && total > 0) chunk = parseChunk(await transport.request('GET', statementUrl(id, '/result/chunks/0'), undefined, call, id), id);
    const maxChunks = (manifest.total_chunk_count ?? Number.POSITIVE_INFINITY) + 1;
    for (let index = 0; chunk; index++) {
      const where = `statement ${id} chunk ${index}`;
      if (index >= maxChunks) throw databricksError('protocol', `${where}: more chunks than the manifest declares`, { statementId: id });
      if (chunk.chunk_index !== undefined && chunk.chunk_index !== index) {
        throw databricksError('protocol', `${where}: the API answered chunk ${chunk.chunk_index}`, { statementId: id });
      }
      if (chunk.row_offset !== undefined && chunk.row_offset !== read) {
        throw databricksError('protocol', `${where}: starts at row ${chunk.row_offset}, expected ${read}`, { statementId: id });
      }
      if (chunk.external_links !== undefined) {
        throw databricksError('protocol', `${where}: EXTERNAL_LINKS result where INLINE was requested`, { statementId: id });
      }
      // The next chunk is asked for before this one is handed over, so a streaming reader's work
      // on one chunk overlaps the transfer of the next.
      const link = chunk.next_chunk_internal_link
        ?? (chunk.next_chunk_index !== undefined ? `${STATEMENTS_PATH}/${encodeURIComponent(id)}/result/chunks/${chunk.next_chunk_index}` : undefined);
      const next = link ? transport.request('GET', transport.url(link, id), undefined, call, id) : undefined;
      // If the reader fails first, the fetch's own failure is not news.
      next?.catch(() => undefined);
      if (chunk.data_array === undefined) {
        if ((chunk.row_count ?? 0) > 0) throw databricksError('protocol', `${where}: ${chunk.row_count} rows announced but no data_array`, { statementId: id });
      } else {
        const converted = convert(chunk.data_array, where);
        if (chunk.row_count !== undefined && chunk.row_count !== converted.length) {
          throw databricksError('protocol', `${where}: row_count ${chunk.row_count} but ${converted.length} rows`, { statementId: id });
        }
        read += converted.length;
        if (read > total) throw databricksError('protocol', `statement ${id}: more rows than total_row_count ${total}`, { statementId: id });
        if (onRows) await onRows(converted, index);
        else for (const row of converted) rows.push(row);
      }
      chunk = next ? parseChunk(await next, id) : undefined;
    }
    if (read !== total) {
      throw databricksError('protocol', `statement ${id}: read ${read} rows but the manifest promises ${total}`, { statementId: id });
    }
    return { statementId: id, columns, rows, totalRowCount: total, truncated: manifest.truncated ?? false };
  };

  const execute = async (statement: string, params: Record<string, DatabricksParam>, opts: ExecuteOptions): Promise<StatementResult> => {
    const started = Date.now();
    if (!statement.trim()) throw new RangeError('statement must not be empty');
    if (opts.rowLimit !== undefined && (!Number.isInteger(opts.rowLimit) || opts.rowLimit < 1)) {
      throw new RangeError('rowLimit must be a positive integer');
    }
    const parameters = encodeParameters(params);
    const call = startCall(opts.timeoutMs, opts.signal);
    let statementId: string | undefined;
    let finished = false;
    try {
      checkCall(call, undefined);
      const request: WireExecuteRequest = {
        warehouse_id: options.warehouseId,
        catalog: options.catalog,
        schema: options.schema,
        statement,
        parameters,
        wait_timeout: waitTimeoutFor(call.at - Date.now()),
        on_wait_timeout: 'CONTINUE',
        disposition: 'INLINE',
        format: 'JSON_ARRAY',
        ...(opts.rowLimit !== undefined ? { row_limit: opts.rowLimit } : {}),
      };
      let current = parseStatement(await transport.request('POST', transport.url(STATEMENTS_PATH), request, call));
      statementId = current.statement_id;

      let delay = pollInitialMs;
      while (!TERMINAL.has(current.status.state)) {
        await pause(jitter(delay), call, statementId);
        delay = Math.min(delay * 2, pollMaxMs);
        current = parseStatement(await transport.request('GET', statementUrl(statementId), undefined, call, statementId), statementId);
        if (current.statement_id !== statementId) {
          throw databricksError('protocol', `polling statement ${statementId} answered for ${current.statement_id}`, { statementId });
        }
      }
      finished = true;
      if (current.status.state !== 'SUCCEEDED') throw failureOf(current);
      const result = await readRows(current, call, opts.onRows);
      return { ...result, durationMs: Date.now() - started };
    } catch (error) {
      // A statement we stop waiting for would otherwise keep the warehouse busy.
      if (statementId && !finished) {
        const canceled = await transport.bestEffortPost(statementUrl(statementId, '/cancel'), cancelTimeoutMs);
        if (canceled && isDependencyError(error) && error.kind === 'timeout') {
          error.message = `${error.message}; it was canceled`;
        }
      }
      throw error;
    }
  };

  const health = async (table: string, opts: HealthOptions): Promise<HealthResult> => {
    const started = Date.now();
    const sample = opts.sampleRows ?? 10;
    if (!Number.isInteger(sample) || sample < 1) throw new RangeError('sampleRows must be a positive integer');
    const qualified = [options.catalog, options.schema, table].map(quoteIdentifier).join('.');
    const result = await execute(`SELECT 1 AS sampled FROM ${qualified} LIMIT ${sample}`, {}, {
      timeoutMs: opts.timeoutMs,
      rowLimit: sample,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { rowsSampled: result.rows.length, latencyMs: Date.now() - started, table: `${options.catalog}.${options.schema}.${table}` };
  };

  const warehouse = async (opts: { timeoutMs: number; signal?: AbortSignal }): Promise<WarehouseInfo> => {
    const call = startCall(opts.timeoutMs, opts.signal);
    const url = transport.url(`${WAREHOUSES_PATH}/${encodeURIComponent(options.warehouseId)}`);
    const parsed = wireWarehouse.safeParse(await transport.request('GET', url, undefined, call));
    if (!parsed.success) throw databricksError('protocol', 'unexpected warehouse answer');
    return { id: parsed.data.id, state: parsed.data.state, health: parsed.data.health?.status ?? null };
  };

  return { execute, health, warehouse };
}
