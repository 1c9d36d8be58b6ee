// The client's public shapes. Wire shapes (what the Statement Execution API sends) live in wire.ts.

/** Parameter types the client sends; `DECIMAL(p,s)` pins precision and scale, plain DECIMAL infers them from the value. */
export type DatabricksParamType =
  | 'STRING'
  | 'INT'
  | 'BIGINT'
  | 'DOUBLE'
  | 'DECIMAL'
  | `DECIMAL(${number},${number})`
  | 'DATE'
  | 'TIMESTAMP'
  | 'BOOLEAN';

export type DatabricksParamValue = string | number | boolean | null;

export interface DatabricksTypedParam {
  value: DatabricksParamValue | Date;
  /** Omitted: inferred from the value (string STRING, integer INT/BIGINT, other number DOUBLE, boolean BOOLEAN, Date TIMESTAMP). */
  type?: DatabricksParamType;
}

/** A named statement parameter, either typed explicitly or as a plain value whose type is inferred. */
export type DatabricksParam = DatabricksTypedParam | DatabricksParamValue | Date;

export interface ExecuteOptions {
  /** Total budget for submit, polling and reading every chunk. */
  timeoutMs: number;
  /** Aborting cancels the statement (best effort) and rejects with a Databricks DependencyError of kind `aborted`. */
  signal?: AbortSignal;
  /** Sent as `row_limit`; the result then reports `truncated` when rows were cut. */
  rowLimit?: number;
  /**
   * Streams the result: each chunk's rows are handed over as they arrive (awaited before the next
   * chunk is fetched) and not kept, so the result's `rows` is empty and memory stays one chunk deep.
   */
  onRows?: (rows: Array<Record<string, unknown>>, chunkIndex: number) => Promise<void> | void;
}

export interface ResultColumn {
  name: string;
  /** The API's type_name: STRING, INT, LONG, DECIMAL, TIMESTAMP... */
  typeName: string;
  /** The full SQL type, e.g. `DECIMAL(12,2)` or `BIGINT`. */
  typeText: string;
  precision?: number;
  scale?: number;
}

export interface StatementResult {
  statementId: string;
  columns: ResultColumn[];
  /**
   * One object per row, keyed by column name, with values converted by type_name:
   * BYTE/SHORT/INT/LONG, FLOAT/DOUBLE and DECIMAL become numbers (see convert.ts for precision),
   * BOOLEAN a boolean, DATE `YYYY-MM-DD`, TIMESTAMP an ISO-8601 UTC string, anything else the API's string.
   * SQL NULL stays null.
   */
  rows: Array<Record<string, unknown>>;
  totalRowCount: number;
  /** True when row_limit (or the warehouse's byte limit) cut the result. */
  truncated: boolean;
  durationMs: number;
}

export interface DatabricksClientOptions {
  /** Workspace URL, e.g. `https://adb-123.azuredatabricks.net`; a bare host name gets https://. */
  host: string;
  token: string;
  warehouseId: string;
  /** Session defaults for unqualified names, and where health() samples. */
  catalog: string;
  schema: string;
  fetch?: typeof fetch;
  /** Attempts per request when the API answers 429/503 (default 4, so up to 3 retries). */
  maxAttempts?: number;
  /** First poll delay; doubles up to pollMaxMs (defaults 100 ms and 1000 ms). */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** How long the best-effort cancel after a deadline may take (default 1000 ms). */
  cancelTimeoutMs?: number;
}

export interface HealthOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Rows to read from the table (default 10). */
  sampleRows?: number;
}

export interface HealthResult {
  rowsSampled: number;
  latencyMs: number;
  /** The three-part name that was sampled. */
  table: string;
}

/** A SQL warehouse as the Warehouses API describes it (GET /api/2.0/sql/warehouses/{id}). */
export interface WarehouseInfo {
  id: string;
  /** STARTING, RUNNING, STOPPING, STOPPED, DELETING or DELETED. */
  state: string;
  /** HEALTHY, DEGRADED, FAILED or STATUS_UNSPECIFIED, when reported. */
  health: string | null;
}

export interface DatabricksClient {
  execute(statement: string, params: Record<string, DatabricksParam>, opts: ExecuteOptions): Promise<StatementResult>;
  /**
   * The warehouse's state without running anything on it: proves reachability and auth, and,
   * unlike a statement, neither starts a stopped warehouse nor keeps a running one awake.
   */
  warehouse(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<WarehouseInfo>;
  /** Reads a few rows of `<catalog>.<schema>.<table>`: proves reachability, auth, the warehouse and the data. */
  health(table: string, opts: HealthOptions): Promise<HealthResult>;
}
