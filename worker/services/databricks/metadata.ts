// A Delta table's metadata through the Statement Execution API: DESCRIBE DETAIL (files, bytes, last
// modified) and DESCRIBE HISTORY (versions). These are fixed commands over tables the data dictionary
// names, not queries: they do not go through the SELECT-only safety layer, and nothing a client sends
// reaches their text (names are quoted identifiers).
import { databricksError } from './http.ts';
import type { DatabricksClient } from './types.ts';

export interface TableDetail {
  format: string;
  name: string;
  location: string | null;
  createdAt: string | null;
  lastModified: string | null;
  numFiles: number;
  sizeInBytes: number;
  properties: Record<string, string>;
}

export interface TableCommit {
  version: number;
  timestamp: string;
  operation: string;
  operationMetrics: Record<string, string>;
  /** The job run that wrote it, when a job did. */
  jobRunId: string | null;
}

export interface MetadataOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

function quote(name: string): string {
  if (!name) throw new RangeError('an identifier must not be empty');
  return `\`${name.replaceAll('`', '``')}\``;
}

/** `catalog.schema.table` with every part quoted. */
export function qualified(catalog: string, schema: string, table: string): string {
  return [catalog, schema, table].map(quote).join('.');
}

/** MAP and STRUCT values arrive as JSON text; anything unreadable is a protocol error. */
function jsonObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'string') throw databricksError('protocol', `${what} is not JSON text`);
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw databricksError('protocol', `${what} is not a JSON object`);
}

const strings = (value: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

function count(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw databricksError('protocol', `${what} is not a count`);
}

export async function describeDetail(client: DatabricksClient, table: string, opts: MetadataOptions): Promise<TableDetail> {
  const result = await client.execute(`DESCRIBE DETAIL ${table}`, {}, opts);
  const row = result.rows[0];
  if (!row || result.rows.length !== 1) throw databricksError('protocol', `DESCRIBE DETAIL ${table} answered ${result.rows.length} rows, not 1`);
  return {
    format: String(row.format ?? ''),
    name: String(row.name ?? table),
    location: typeof row.location === 'string' ? row.location : null,
    createdAt: typeof row.createdAt === 'string' ? row.createdAt : null,
    lastModified: typeof row.lastModified === 'string' ? row.lastModified : null,
    numFiles: count(row.numFiles, `${table} numFiles`),
    sizeInBytes: count(row.sizeInBytes, `${table} sizeInBytes`),
    properties: strings(jsonObject(row.properties, `${table} properties`)),
  };
}

/** The newest `limit` commits, newest first. */
export async function describeHistory(client: DatabricksClient, table: string, limit: number, opts: MetadataOptions): Promise<TableCommit[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const result = await client.execute(`DESCRIBE HISTORY ${table} LIMIT ${limit}`, {}, opts);
  return result.rows.map((row) => {
    const job = jsonObject(row.job, `${table} job`);
    return {
      version: count(row.version, `${table} version`),
      timestamp: String(row.timestamp ?? ''),
      operation: String(row.operation ?? ''),
      operationMetrics: strings(jsonObject(row.operationMetrics, `${table} operationMetrics`)),
      jobRunId: typeof job.jobRunId === 'string' ? job.jobRunId : null,
    };
  });
}
