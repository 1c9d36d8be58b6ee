// What the stand-in keeps of each table's Delta transaction log: its identity, its files and bytes,
// and one commit per write (version, time, operation, metrics). DESCRIBE DETAIL and DESCRIBE HISTORY
// answer from here, and the refresh job commits its appends here, so a table's version moves exactly
// when its data does.
import { createHash } from 'node:crypto';
import type { DictionaryColumn, DictionaryTable } from '../../../worker/dictionary/schema.ts';

const DAY_MS = 86_400_000;
/** Files a writer aims for; the first load splits into files of about this size. */
const TARGET_FILE_BYTES = 32 * 1024 * 1024;
/** What a Parquet file's footer and page headers add besides the data. */
const FILE_OVERHEAD_BYTES = 4_096;
/** Roughly what Parquet's encodings and compression leave of the raw values. */
const COMPRESSION = 0.45;

export interface JobCommitInfo {
  jobId: string;
  jobName: string;
  jobRunId: string;
  runId: string;
  jobOwnerId: string;
  triggerType: string;
}

export interface DeltaCommit {
  version: number;
  /** Epoch milliseconds on the stand-in's clock. */
  timestamp: number;
  userId: string;
  userName: string;
  operation: string;
  operationParameters: Record<string, string>;
  job: JobCommitInfo | null;
  clusterId: string | null;
  readVersion: number | null;
  isolationLevel: string;
  isBlindAppend: boolean;
  operationMetrics: Record<string, string>;
}

export interface DeltaTable {
  readonly catalog: string;
  readonly schema: string;
  readonly name: string;
  readonly qualifiedName: string;
  readonly id: string;
  readonly location: string;
  readonly createdAt: number;
  numFiles: number;
  sizeInBytes: number;
  /** Oldest first; the last commit is the current version. */
  readonly history: DeltaCommit[];
}

export interface DeltaLog {
  /** Case-insensitive, as Unity Catalog names are. */
  find(catalog: string, schema: string, name: string): DeltaTable | undefined;
  tables(): readonly DeltaTable[];
  /** Records an append of `rows` rows to `name` as a new version; returns the commit. */
  commitAppend(name: string, rows: number, at: number, job: JobCommitInfo): DeltaCommit;
  /** Current version per table name. */
  versions(): Record<string, number>;
}

export interface DeltaLogOptions {
  tables: readonly DictionaryTable[];
  rowCounts: Readonly<Record<string, number>>;
  /** When the initial load committed: the end of the synthetic data. */
  loadedAt: number;
}

const OWNER = { userId: '4127935601225584', userName: 'data-engineering@command-center.local' };

/** Raw bytes a row of this column takes before encoding, on average. */
function columnBytes(column: DictionaryColumn): number {
  switch (column.type.kind) {
    case 'STRING':
      return 12;
    case 'BOOLEAN':
    case 'TINYINT':
      return 1;
    case 'SMALLINT':
      return 2;
    case 'INT':
    case 'FLOAT':
    case 'DATE':
      return 4;
    default:
      return 8;
  }
}

/** Deterministic bytes for `rows` rows of `table`, so the same data always reports the same size. */
export function estimateBytes(table: DictionaryTable, rows: number): number {
  const perRow = table.columns.reduce((sum, column) => sum + columnBytes(column), 0);
  return Math.round(rows * perRow * COMPRESSION);
}

function tableId(qualifiedName: string): string {
  const hex = createHash('sha256').update(`delta-table:${qualifiedName}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function createDeltaLog(options: DeltaLogOptions): DeltaLog {
  const entries = options.tables.map((table): { table: DeltaTable; definition: DictionaryTable } => {
    const rows = options.rowCounts[table.name] ?? 0;
    const dataBytes = estimateBytes(table, rows);
    const numFiles = Math.max(1, Math.ceil(dataBytes / TARGET_FILE_BYTES));
    // Created the day before the synthetic data begins, loaded in one write at its end.
    const createdAt = options.loadedAt - 121 * DAY_MS;
    const delta: DeltaTable = {
      catalog: table.catalog,
      schema: table.schema,
      name: table.name,
      qualifiedName: `${table.catalog}.${table.schema}.${table.name}`,
      id: tableId(`${table.catalog}.${table.schema}.${table.name}`),
      location: `s3://lakehouse-stand-in/${table.catalog}/${table.schema}/${table.name}`,
      createdAt,
      numFiles,
      sizeInBytes: dataBytes + numFiles * FILE_OVERHEAD_BYTES,
      history: [
        {
          version: 0,
          timestamp: createdAt,
          ...OWNER,
          operation: 'CREATE TABLE',
          operationParameters: { isManaged: 'true', description: table.description ?? '', partitionBy: '[]', clusterBy: '[]' },
          job: null,
          clusterId: null,
          readVersion: null,
          isolationLevel: 'WriteSerializable',
          isBlindAppend: true,
          operationMetrics: {},
        },
        {
          version: 1,
          timestamp: options.loadedAt,
          ...OWNER,
          operation: 'WRITE',
          operationParameters: { mode: 'Append', partitionBy: '[]' },
          job: null,
          clusterId: null,
          readVersion: 0,
          isolationLevel: 'WriteSerializable',
          isBlindAppend: true,
          operationMetrics: { numFiles: String(numFiles), numOutputRows: String(rows), numOutputBytes: String(dataBytes) },
        },
      ],
    };
    return { table: delta, definition: table };
  });
  const byName = new Map(entries.map((entry) => [entry.table.name.toLowerCase(), entry]));

  return {
    find(catalog, schema, name) {
      const entry = byName.get(name.toLowerCase());
      if (!entry) return undefined;
      const { table } = entry;
      return table.catalog.toLowerCase() === catalog.toLowerCase() && table.schema.toLowerCase() === schema.toLowerCase() ? table : undefined;
    },
    tables: () => entries.map((entry) => entry.table),
    commitAppend(name, rows, at, job) {
      const entry = byName.get(name.toLowerCase());
      if (!entry) throw new Error(`no Delta table ${name}`);
      const { table, definition } = entry;
      const current = table.history.at(-1)!;
      const bytes = estimateBytes(definition, rows);
      const commit: DeltaCommit = {
        version: current.version + 1,
        // Versions are ordered in time even if two commits land in the same millisecond.
        timestamp: Math.max(at, current.timestamp + 1),
        ...OWNER,
        operation: 'WRITE',
        operationParameters: { mode: 'Append', partitionBy: '[]' },
        job,
        clusterId: null,
        readVersion: current.version,
        isolationLevel: 'WriteSerializable',
        isBlindAppend: true,
        operationMetrics: { numFiles: '1', numOutputRows: String(rows), numOutputBytes: String(bytes) },
      };
      table.history.push(commit);
      table.numFiles += 1;
      table.sizeInBytes += bytes + FILE_OVERHEAD_BYTES;
      return commit;
    },
    versions: () => Object.fromEntries(entries.map(({ table }) => [table.name, table.history.at(-1)!.version])),
  };
}
