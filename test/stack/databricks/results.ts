// Shapes a DuckDB result the way the Statement Execution API returns INLINE + JSON_ARRAY results:
// Databricks type names in the manifest, every value a string (or null), rows split into chunks.
import { DuckDBTypeId } from '@duckdb/node-api';
import type {
  DuckDBArrayType,
  DuckDBDecimalType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBResultReader,
  DuckDBStructType,
  DuckDBType,
  DuckDBValue,
} from '@duckdb/node-api';
import { StatementError } from './errors.ts';

export interface ColumnInfo {
  name: string;
  position: number;
  type_name: string;
  type_text: string;
  type_precision?: number;
  type_scale?: number;
}

export interface ChunkInfo {
  chunk_index: number;
  row_offset: number;
  row_count: number;
}

export interface Manifest {
  format: 'JSON_ARRAY';
  schema: { column_count: number; columns: ColumnInfo[] };
  total_chunk_count: number;
  chunks: ChunkInfo[];
  total_row_count: number;
  truncated: boolean;
}

export type Row = (string | null)[];

export interface ChunkedResult {
  manifest: Manifest;
  /** Row data per chunk, aligned with `manifest.chunks`. */
  chunkRows: Row[][];
}

export interface ResultLimits {
  rowLimit?: number;
  byteLimit?: number;
  chunkRows: number;
}

/** INLINE results larger than this fail on Databricks rather than being cut. */
export const INLINE_RESULT_LIMIT_BYTES = 25 * 1024 * 1024;

function typeInfo(type: DuckDBType): { name: string; text: string; precision?: number; scale?: number } {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { name: 'BOOLEAN', text: 'BOOLEAN' };
    case DuckDBTypeId.TINYINT:
      return { name: 'BYTE', text: 'TINYINT' };
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { name: 'SHORT', text: 'SMALLINT' };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { name: 'INT', text: 'INT' };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      // Spark has no 128-bit integer; sums and counts come back as BIGINT there.
      return { name: 'LONG', text: 'BIGINT' };
    case DuckDBTypeId.FLOAT:
      return { name: 'FLOAT', text: 'FLOAT' };
    case DuckDBTypeId.DOUBLE:
      return { name: 'DOUBLE', text: 'DOUBLE' };
    case DuckDBTypeId.DECIMAL: {
      const decimal = type as DuckDBDecimalType;
      return { name: 'DECIMAL', text: `DECIMAL(${decimal.width},${decimal.scale})`, precision: decimal.width, scale: decimal.scale };
    }
    case DuckDBTypeId.DATE:
      return { name: 'DATE', text: 'DATE' };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { name: 'TIMESTAMP', text: 'TIMESTAMP' };
    case DuckDBTypeId.INTERVAL:
      return { name: 'INTERVAL', text: 'INTERVAL DAY TO SECOND' };
    case DuckDBTypeId.BLOB:
      return { name: 'BINARY', text: 'BINARY' };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { name: 'ARRAY', text: `ARRAY<${typeInfo((type as DuckDBListType | DuckDBArrayType).valueType).text}>` };
    case DuckDBTypeId.MAP: {
      const map = type as DuckDBMapType;
      return { name: 'MAP', text: `MAP<${typeInfo(map.keyType).text}, ${typeInfo(map.valueType).text}>` };
    }
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType;
      const fields = struct.entryNames.map((name, index) => {
        const entryType = struct.entryTypes[index];
        return `${name}: ${entryType ? typeInfo(entryType).text : 'STRING'}`;
      });
      return { name: 'STRUCT', text: `STRUCT<${fields.join(', ')}>` };
    }
    case DuckDBTypeId.SQLNULL:
      return { name: 'NULL', text: 'VOID' };
    default:
      return { name: 'STRING', text: 'STRING' };
  }
}

/** Java's Double.toString, which is how Databricks renders DOUBLE values. */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa = '0', exponent = '0'] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

function isoFromMicros(micros: bigint): string {
  const millis = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? String(micros) : date.toISOString();
}

function formatValue(typeId: DuckDBTypeId, value: DuckDBValue): string | null {
  if (value === null) return null;
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return value ? 'true' : 'false';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return formatDouble(value as number);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return isoFromMicros((value as { micros: bigint }).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return isoFromMicros((value as { seconds: bigint }).seconds * 1_000_000n);
    case DuckDBTypeId.TIMESTAMP_MS:
      return isoFromMicros((value as { millis: bigint }).millis * 1000n);
    case DuckDBTypeId.TIMESTAMP_NS:
      return isoFromMicros((value as { nanos: bigint }).nanos / 1000n);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/** Reads a finished DuckDB result into API-shaped chunks, applying row_limit and byte_limit. */
export function chunkResult(reader: DuckDBResultReader, limits: ResultLimits): ChunkedResult {
  const columnTypes = reader.columnTypes();
  const columns: ColumnInfo[] = reader.columnNames().map((name, position) => {
    const type = columnTypes[position];
    const info = type ? typeInfo(type) : { name: 'STRING', text: 'STRING' };
    return {
      name,
      position,
      type_name: info.name,
      type_text: info.text,
      ...(info.precision !== undefined ? { type_precision: info.precision, type_scale: info.scale ?? 0 } : {}),
    };
  });
  const typeIds = columnTypes.map((type) => type.typeId);

  const source = reader.getRows();
  // Databricks renders arrays, maps and structs as JSON text.
  const nested = typeIds.map((id) => id === DuckDBTypeId.LIST || id === DuckDBTypeId.ARRAY || id === DuckDBTypeId.STRUCT || id === DuckDBTypeId.MAP);
  const json = nested.some(Boolean) ? reader.getRowsJson() : null;
  const rowCap = Math.min(source.length, limits.rowLimit ?? Number.POSITIVE_INFINITY);
  const rows: Row[] = [];
  let bytes = 0;
  let truncated = rowCap < source.length;
  for (let index = 0; index < rowCap; index++) {
    const row = (source[index] ?? []).map((value, column) =>
      nested[column] && value !== null
        ? JSON.stringify(json?.[index]?.[column] ?? null)
        : formatValue(typeIds[column] ?? DuckDBTypeId.VARCHAR, value),
    );
    bytes += JSON.stringify(row).length + 1;
    if (limits.byteLimit !== undefined && bytes > limits.byteLimit) {
      truncated = true;
      break;
    }
    if (bytes > INLINE_RESULT_LIMIT_BYTES) {
      throw new StatementError(
        'BAD_REQUEST',
        'The result of the statement exceeds the 25 MiB limit of the INLINE disposition; add a LIMIT, or set row_limit or byte_limit.',
      );
    }
    rows.push(row);
  }
  return chunked(columns, rows, limits.chunkRows, truncated);
}

function chunked(columns: ColumnInfo[], rows: Row[], rowsPerChunk: number, truncated: boolean): ChunkedResult {
  const chunkRows: Row[][] = [];
  const chunks: ChunkInfo[] = [];
  for (let offset = 0; offset < rows.length; offset += rowsPerChunk) {
    const slice = rows.slice(offset, offset + rowsPerChunk);
    chunks.push({ chunk_index: chunks.length, row_offset: offset, row_count: slice.length });
    chunkRows.push(slice);
  }
  return {
    manifest: {
      format: 'JSON_ARRAY',
      schema: { column_count: columns.length, columns },
      total_chunk_count: chunks.length,
      chunks,
      total_row_count: rows.length,
      truncated,
    },
    chunkRows,
  };
}

/**
 * A result the stand-in answers itself rather than from the engine (the DESCRIBE commands): typed
 * columns and rows already rendered as the API renders them.
 */
export function literalResult(
  columns: ReadonlyArray<{ name: string; type_name: string; type_text: string }>,
  rows: Row[],
  limits: ResultLimits,
): ChunkedResult {
  const kept = rows.slice(0, limits.rowLimit ?? rows.length);
  return chunked(
    columns.map((column, position) => ({ ...column, position })),
    kept,
    limits.chunkRows,
    kept.length < rows.length,
  );
}
