// The embedded engine behind the stand-in: an in-memory DuckDB whose catalogs, schemas and tables are
// created from the data dictionary and filled with the synthetic data. Sessions are set up the way a
// warehouse session is (default catalog and schema), with the Spark function shims on the search path
// and no access to files, extensions or settings.
import {
  DuckDBDataChunk,
  DuckDBInstance,
  dateValue,
  decimalValue,
  timestampValue,
} from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { DataDictionary, DictionaryColumn, DictionaryTable } from '../../../worker/dictionary/schema.ts';
import { duckdbTypeFor } from './duckdb-types.ts';
import { SPARK_FUNCTION_MACROS } from './spark-functions.ts';
import { generateLakehouse } from './synthetic-data.ts';
import { buildMarts } from './marts.ts';
import type { CellValue, GeneratedRow } from './synthetic-data.ts';

const DAY_MS = 86_400_000;
/** Where the function shims live; every session searches it after its own schema. */
const SHIM_SCHEMA = 'memory.main';
/** A warehouse session without an explicit schema starts here, as on a Unity Catalog workspace. */
export const DEFAULT_SCHEMA = 'default';

export interface Lakehouse {
  /** Rows per table, as loaded. */
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly defaultCatalog: string;
  /** A fresh connection whose unqualified names resolve in `catalog.schema`; the caller closes it. */
  openSession(catalog: string, schema: string): Promise<Session>;
  /** Raw DuckDB SQL on a private connection, bypassing the dialect layer (tests inspect data this way). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Appends rows to a dictionary table (the refresh job's write) and counts them in `rowCounts`. */
  append(table: string, rows: GeneratedRow[]): Promise<void>;
  close(): void;
}

export interface Session {
  readonly connection: DuckDBConnection;
  close(): void;
}

export interface LakehouseOptions {
  dictionary: DataDictionary;
  now: Date;
  seed: number;
}

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

function createTableSql(table: DictionaryTable): string {
  const columns = table.columns.map(
    (column) => `${quote(column.name)} ${duckdbTypeFor(column.type)}${column.nullable ? '' : ' NOT NULL'}`,
  );
  columns.push(`PRIMARY KEY (${quote(table.primaryKey)})`);
  return `CREATE TABLE ${quote(table.catalog)}.${quote(table.schema)}.${quote(table.name)} (${columns.join(', ')})`;
}

function toDuckValue(column: DictionaryColumn, value: CellValue | undefined): DuckDBValue {
  const where = `${column.table}.${column.name}`;
  if (value === null || value === undefined) {
    if (!column.nullable) throw new Error(`synthetic data left non-nullable ${where} empty`);
    return null;
  }
  const expect = (ok: boolean): void => {
    if (!ok) throw new Error(`synthetic value ${JSON.stringify(value)} does not fit ${where} ${column.type.text}`);
  };
  const kind = column.type.kind;
  switch (kind) {
    case 'STRING':
      expect(typeof value === 'string');
      return value;
    case 'BOOLEAN':
      expect(typeof value === 'boolean');
      return value;
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
      expect(Number.isInteger(value));
      return value;
    case 'BIGINT':
      expect(Number.isInteger(value));
      return BigInt(value as number);
    case 'FLOAT':
    case 'DOUBLE':
      expect(typeof value === 'number');
      return value;
    case 'DATE':
      expect(typeof value === 'number');
      return dateValue(Math.floor((value as number) / DAY_MS));
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
      expect(typeof value === 'number');
      return timestampValue(BigInt(Math.round(value as number)) * 1000n);
    case 'DECIMAL': {
      expect(typeof value === 'number');
      const scale = column.type.scale ?? 0;
      return decimalValue(BigInt(Math.round((value as number) * 10 ** scale)), column.type.precision ?? 38, scale);
    }
    default: {
      const unhandled: never = kind;
      throw new Error(`no DuckDB value for ${where} of type ${String(unhandled)}`);
    }
  }
}

async function appendRows(connection: DuckDBConnection, table: DictionaryTable, rows: GeneratedRow[]): Promise<void> {
  const appender = await connection.createAppender(table.name, table.schema, table.catalog);
  try {
    const types: DuckDBType[] = table.columns.map((_, index) => appender.columnType(index));
    const batch = 2048;
    for (let offset = 0; offset < rows.length; offset += batch) {
      const slice = rows.slice(offset, offset + batch);
      const columns = table.columns.map((column) => slice.map((row) => toDuckValue(column, row[column.name])));
      const chunk = DuckDBDataChunk.create(types, slice.length);
      chunk.setColumns(columns);
      appender.appendDataChunk(chunk);
    }
  } finally {
    appender.closeSync();
  }
}

/** Makes DuckDB values plain for test assertions: safe bigints become numbers. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (Array.isArray(value)) return value.map(plainValue);
  return value;
}

export async function openLakehouse(options: LakehouseOptions): Promise<Lakehouse> {
  const { dictionary } = options;
  // The engine must never reach the network or disk on a query's behalf.
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const sessions = new Set<DuckDBConnection>();
  let closed = false;
  const admin = await instance.connect();
  try {
    const generated = generateLakehouse({ now: options.now, seed: options.seed });
    const unknown = Object.keys(generated).filter((name) => !dictionary.tableDefinitions.some((table) => table.name === name));
    if (unknown.length > 0) throw new Error(`synthetic data for tables missing from the dictionary: ${unknown.join(', ')}`);

    const catalogs = [...new Set(dictionary.tableDefinitions.map((table) => table.catalog))];
    for (const catalog of catalogs) {
      await admin.run(`ATTACH ':memory:' AS ${quote(catalog)}`);
      const schemas = new Set([DEFAULT_SCHEMA, ...dictionary.tableDefinitions.filter((t) => t.catalog === catalog).map((t) => t.schema)]);
      for (const schema of schemas) await admin.run(`CREATE SCHEMA ${quote(catalog)}.${quote(schema)}`);
    }

    const rowCounts: Record<string, number> = {};
    for (const table of dictionary.tableDefinitions) {
      await admin.run(createTableSql(table));
      const rows = generated[table.name];
      if (!rows) throw new Error(`no synthetic data generator for table ${table.name}`);
      await appendRows(admin, table, rows);
      rowCounts[table.name] = rows.length;
    }

    await buildMarts((sql) => admin.run(sql));
    for (const macro of SPARK_FUNCTION_MACROS) await admin.run(macro);
    await admin.run('SET GLOBAL enable_external_access = false');
    await admin.run('SET GLOBAL lock_configuration = true');

    const defaultCatalog = catalogs[0] ?? 'workspace';
    return {
      rowCounts,
      defaultCatalog,
      async openSession(catalog, schema) {
        if (closed) throw new Error('lakehouse is closed');
        const connection = await instance.connect();
        sessions.add(connection);
        try {
          await connection.run(`USE ${quote(catalog)}.${quote(schema)}`);
          await connection.run(`SET search_path = '${quote(catalog)}.${quote(schema)},${SHIM_SCHEMA}'`);
        } catch (error) {
          connection.closeSync();
          sessions.delete(connection);
          throw error;
        }
        return {
          connection,
          close() {
            if (!sessions.delete(connection)) return;
            connection.closeSync();
          },
        };
      },
      async query(sql) {
        if (closed) throw new Error('lakehouse is closed');
        const connection = await instance.connect();
        try {
          const reader = await connection.runAndReadAll(sql);
          return reader.getRowObjectsJS().map((row) =>
            Object.fromEntries(Object.entries(row).map(([key, value]) => [key, plainValue(value)])),
          );
        } finally {
          connection.closeSync();
        }
      },
      async append(name, rows) {
        if (closed) throw new Error('lakehouse is closed');
        const table = dictionary.tableDefinitions.find((t) => t.name === name);
        if (!table) throw new Error(`no table ${name} in the dictionary`);
        await appendRows(admin, table, rows);
        rowCounts[name] = (rowCounts[name] ?? 0) + rows.length;
      },
      close() {
        if (closed) return;
        closed = true;
        for (const connection of sessions) connection.closeSync();
        admin.closeSync();
        instance.closeSync();
      },
    };
  } catch (error) {
    admin.closeSync();
    instance.closeSync();
    throw error;
  }
}
