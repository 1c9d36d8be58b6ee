// A local stand-in for a Databricks SQL warehouse: the Statement Execution API 2.0 (submit, wait, poll,
// chunks, cancel, errors) and the Warehouses API's Get, over an embedded DuckDB holding the data
// dictionary's tables filled with deterministic synthetic data. An unchanged production client
// (fetch + bearer token) works against it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readDictionaryDir } from '../../../scripts/dictionary-files.ts';
import { loadDictionary } from '../../../worker/dictionary/load.ts';
import { describeIssues, executeStatementRequest } from './api-schema.ts';
import { createDeltaLog } from './delta-log.ts';
import { answerDescribe } from './describe.ts';
import { createFaultInjector } from './faults.ts';
import type { FaultControls } from './faults.ts';
import { createStatementLog, explainStatements, timeStatements } from './engine-timing.ts';
import type { LoggedStatement } from './engine-timing.ts';
import { createJobs, JOBS_PATH } from './jobs.ts';
import { openLakehouse } from './lakehouse.ts';
import { parseParameterType } from './parameters.ts';
import { DEFAULT_VOLUMES, scaledVolumes } from './synthetic-data.ts';
import { chunkBody, createStatementRegistry, isTerminal, statementBody } from './statements.ts';
import type { StatementRegistry } from './statements.ts';

export type { FaultControls, FaultSettings } from './faults.ts';

export interface DatabricksStandInOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The only bearer token accepted. */
  token: string;
  warehouseId?: string;
  /** Folder holding tables.csv, columns.csv, joins.csv and metrics.csv. */
  dictionaryDir: string;
  /** End of the synthetic data's 120 days; defaults to the current time truncated to the hour. */
  now?: Date;
  /** Rows per result chunk. */
  chunkRows?: number;
  seed?: number;
  /** Multiplies every wait_timeout, so tests can exercise "5s" waits in a fraction of the time. */
  waitScale?: number;
  /** How long a SUCCEEDED result stays fetchable before the statement is CLOSED. */
  resultTtlMs?: number;
  /** How long a refresh job run spends in each of its phases (default 1000 ms); tests make it short. */
  jobPhaseMs?: number;
  /** The refresh job's id (default a fixed one); the Jobs API finds it by name too. */
  refreshJobId?: number;
  /**
   * The scale knob: how many contacts `interactions` holds (default 30,000); customers and devices
   * grow with it (see `scaledVolumes`). A million loads in well under a minute.
   */
  interactions?: number;
}

export interface DatabricksStandIn {
  /** `http://host:port`, the value a client uses as its Databricks host. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly warehouseId: string;
  readonly token: string;
  /** The end of the synthetic data; `current_timestamp()` starts here and advances in real time. */
  readonly now: Date;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly faults: FaultControls;
  /** The `support_l3_refresh` job's id. */
  readonly refreshJobId: number;
  /** Each table's current Delta version. */
  tableVersions(): Record<string, number>;
  /** Statements submitted after `seq` (the last 200 at most), and the number of the newest. */
  statementsSince(seq: number): { last: number; statements: LoggedStatement[] };
  /** Runs a group of submitted statements straight on the engine `runs` times: each run's milliseconds. */
  timeOnEngine(group: ReadonlyArray<LoggedStatement['request']>, runs: number): Promise<number[]>;
  /** Each statement of a group as the engine plans and runs it (EXPLAIN ANALYZE). */
  explainOnEngine(group: ReadonlyArray<LoggedStatement['request']>): Promise<string[]>;
  /** Raw DuckDB SQL against the same data (three-part names work), for test assertions. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Closes the listener so connections are refused; statements and data are kept. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  /** Stops listening, cancels running statements and closes the engine. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const STATEMENTS_PATH = '/api/2.0/sql/statements';
const WAREHOUSES_PATH = '/api/2.0/sql/warehouses';
const MAX_BODY_BYTES = 17 * 1024 * 1024;

class HttpError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly headers: Record<string, string>;

  constructor(status: number, errorCode: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
    this.headers = headers;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', 'Request body is too large.');
    parts.push(buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'MALFORMED_REQUEST', 'Could not parse the request body as JSON.');
  }
}

export async function startDatabricksStandIn(options: DatabricksStandInOptions): Promise<DatabricksStandIn> {
  if (!options.token) throw new Error('startDatabricksStandIn needs a token');
  const host = options.host ?? '127.0.0.1';
  const warehouseId = options.warehouseId ?? 'a0b1c2d3e4f50617';
  const chunkRows = options.chunkRows ?? 1000;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new Error('chunkRows must be a positive integer');
  const waitScale = options.waitScale ?? 1;
  const now = options.now ?? new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
  const expectedToken = digest(options.token);

  // The app's own loader, so the lakehouse is built from exactly the dictionary the worker accepts.
  const dictionary = loadDictionary(readDictionaryDir(options.dictionaryDir));
  const volumes = options.interactions === undefined ? DEFAULT_VOLUMES : scaledVolumes(options.interactions);
  const lakehouse = await openLakehouse({ dictionary, now, seed: options.seed ?? 20_240_601, volumes });
  const startedAt = Date.now();
  const faults = createFaultInjector();
  const clock = (): Date => new Date(now.getTime() + (Date.now() - startedAt));
  const delta = createDeltaLog({ tables: dictionary.tableDefinitions, rowCounts: lakehouse.rowCounts, loadedAt: now.getTime() });
  const jobs = createJobs({
    lakehouse,
    delta,
    faults,
    clock,
    seed: options.seed ?? 20_240_601,
    volumes,
    dataEnd: now,
    phaseMs: options.jobPhaseMs ?? 1000,
    jobId: options.refreshJobId ?? 428_019_573_306_145,
    origin: () => `http://${host}:${port}`,
  });
  const statementLog = createStatementLog();
  const statements: StatementRegistry = createStatementRegistry({
    lakehouse,
    faults,
    chunkRows,
    clock: () => new Date(now.getTime() + (Date.now() - startedAt)),
    resultTtlMs: options.resultTtlMs ?? HOUR_MS,
    maxStatements: 2000,
    describe: (command, session, limits) =>
      answerDescribe(command, { delta, ...session, describeTable: (name) => dictionary.table(name)?.description ?? null }, limits),
  });

  const send = async (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, carriesRows = false): Promise<void> => {
    const delay = faults.current.responseDelayMs ?? 0;
    if (delay > 0) await sleep(delay);
    if (response.destroyed) return;
    let text = JSON.stringify(body);
    // A cut-off body is what a proxy dropping the connection mid-chunk looks like to the client.
    if (carriesRows && faults.current.malformedChunk) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    response.end(text);
  };

  const authenticate = (request: IncomingMessage): void => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new HttpError(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');
    }
    if (!timingSafeEqual(digest(match[1]), expectedToken)) throw new HttpError(403, 'PERMISSION_DENIED', 'Invalid access token.');
  };

  const submit = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const parsed = executeStatementRequest.safeParse(await readJson(request));
    if (!parsed.success) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', describeIssues(parsed.error));
    const body = parsed.data;
    if (body.warehouse_id !== warehouseId) {
      throw new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `Warehouse ${body.warehouse_id} does not exist.`);
    }
    if ((body.disposition ?? 'INLINE') !== 'INLINE') {
      throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `disposition ${body.disposition} is not supported by this warehouse; use INLINE.`);
    }
    if ((body.format ?? 'JSON_ARRAY') !== 'JSON_ARRAY') {
      throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `format ${body.format} is not supported with INLINE disposition; use JSON_ARRAY.`);
    }
    const names = new Set<string>();
    for (const parameter of body.parameters ?? []) {
      if (names.has(parameter.name)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Parameter ${parameter.name} is given twice.`);
      names.add(parameter.name);
      if (!parseParameterType(parameter.type)) {
        throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Parameter ${parameter.name} has an unsupported type ${parameter.type}.`);
      }
    }

    if (!/^\s*describe\s/i.test(body.statement)) statementLog.add(body);
    const record = statements.submit(body);
    const waitSeconds = Number.parseInt(body.wait_timeout ?? '10s', 10);
    const finished = await statements.waitFor(record, waitSeconds * 1000 * waitScale);
    if (!finished && waitSeconds > 0 && (body.on_wait_timeout ?? 'CONTINUE') === 'CANCEL') statements.cancel(record);
    const result = statementBody(record);
    await send(response, 200, result, {}, result.result?.data_array !== undefined);
  };

  /** An HTTP fault the control server injected: a 429 or 503 before the request is looked at. */
  const throwInjectedHttpFault = (): void => {
    const injected = faults.takeHttpFault();
    if (!injected) return;
    const headers: Record<string, string> = injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : {};
    throw injected.status === 429
      ? new HttpError(429, 'REQUEST_LIMIT_EXCEEDED', 'Too many requests; retry later.', headers)
      : new HttpError(503, 'TEMPORARILY_UNAVAILABLE', 'The service is temporarily unavailable; retry later.', headers);
  };

  /** The Jobs API: the same faults and the same bearer token as the statements. */
  const handleJobs = async (request: IncomingMessage, response: ServerResponse, method: string, path: string, query: URLSearchParams): Promise<void> => {
    throwInjectedHttpFault();
    authenticate(request);
    const answer = await jobs.handle(method, path, query, () => readJson(request));
    await send(response, answer.status, answer.body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = request.method ?? 'GET';
    if (path.startsWith(`${JOBS_PATH}/`)) return handleJobs(request, response, method, path, url.searchParams);
    const isWarehouse = path.startsWith(`${WAREHOUSES_PATH}/`);
    if (path !== STATEMENTS_PATH && !path.startsWith(`${STATEMENTS_PATH}/`) && !isWarehouse) {
      throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${url.pathname}'`);
    }
    throwInjectedHttpFault();
    authenticate(request);

    // The Warehouses API's Get: the one warehouse this stand-in is, always running and healthy.
    if (isWarehouse) {
      const id = decodeURIComponent(path.slice(WAREHOUSES_PATH.length + 1));
      if (method !== 'GET' || id.includes('/')) throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${url.pathname}'`);
      if (id !== warehouseId) throw new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `Warehouse ${id} does not exist.`);
      await send(response, 200, { id, name: 'Local stand-in warehouse', cluster_size: '2X-Small', state: 'RUNNING', health: { status: 'HEALTHY' } });
      return;
    }

    if (path === STATEMENTS_PATH) {
      if (method !== 'POST') throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${url.pathname}'`);
      await submit(request, response);
      return;
    }
    const [id = '', ...rest] = path.slice(STATEMENTS_PATH.length + 1).split('/');
    let record: ReturnType<StatementRegistry['get']>;
    try {
      record = statements.get(decodeURIComponent(id));
    } catch {
      record = undefined;
    }
    const notFound = (): HttpError => new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `Statement ${id} does not exist.`);

    if (rest.length === 0 && method === 'GET') {
      if (!record) throw notFound();
      const body = statementBody(record);
      await send(response, 200, body, {}, body.result?.data_array !== undefined);
      return;
    }
    if (rest.length === 1 && rest[0] === 'cancel' && method === 'POST') {
      if (!record) throw notFound();
      statements.cancel(record);
      await send(response, 200, {});
      return;
    }
    if (rest.length === 3 && rest[0] === 'result' && rest[1] === 'chunks' && method === 'GET') {
      if (!record) throw notFound();
      if (record.state === 'CLOSED') throw new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `The result of statement ${id} has expired.`);
      if (record.state !== 'SUCCEEDED') {
        throw new HttpError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Statement ${id} is ${record.state}${isTerminal(record.state) ? '' : ' and has no result yet'}; results exist only for SUCCEEDED statements.`,
        );
      }
      const index = /^\d+$/.test(rest[2] ?? '') ? Number(rest[2]) : -1;
      const chunk = index >= 0 ? chunkBody(record, index) : undefined;
      if (!chunk) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Chunk index ${rest[2]} is out of range.`);
      await send(response, 200, chunk, {}, true);
      return;
    }
    throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${url.pathname}'`);
  };

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch(async (error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof HttpError) {
        await send(response, error.status, { error_code: error.errorCode, message: error.message }, error.headers);
      } else {
        await send(response, 500, { error_code: 'INTERNAL_ERROR', message: 'The stand-in failed to handle the request.' });
      }
    }).catch(() => {
      // The client went away while we were answering; nothing left to do.
    });
  };

  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let port = options.port ?? 0;

  const start = async (): Promise<void> => {
    if (server) return;
    const next = createServer(listener);
    next.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, host, () => {
        next.off('error', reject);
        resolve();
      });
    });
    const address = next.address();
    if (address && typeof address === 'object') port = address.port;
    server = next;
  };

  const stop = async (): Promise<void> => {
    const current = server;
    if (!current) return;
    server = null;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };

  try {
    await start();
  } catch (error) {
    await jobs.shutdown();
    await statements.shutdown();
    lakehouse.close();
    throw error;
  }

  let closing: Promise<void> | null = null;
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    host,
    warehouseId,
    token: options.token,
    now,
    rowCounts: lakehouse.rowCounts,
    faults,
    refreshJobId: jobs.jobId,
    tableVersions: () => delta.versions(),
    query: (sql) => lakehouse.query(sql),
    statementsSince: (seq) => ({ last: statementLog.last, statements: statementLog.since(seq) }),
    timeOnEngine: (group, runs) => timeStatements(lakehouse, clock, group, runs),
    explainOnEngine: (group) => explainStatements(lakehouse, clock, group),
    stop,
    start,
    close() {
      closing ??= (async () => {
        await stop();
        await jobs.shutdown();
        await statements.shutdown();
        lakehouse.close();
      })();
      return closing;
    },
  };
}
