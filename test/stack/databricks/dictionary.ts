// Reads data-dictionary/*.csv, the single description of the lakehouse, and checks it hangs together
// (every join, metric lineage and primary key points at a declared column) before anything is built
// from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

export type ColumnKind = 'STRING' | 'DATE' | 'TIMESTAMP' | 'INT' | 'BIGINT' | 'BOOLEAN' | 'DOUBLE' | 'DECIMAL';

export interface ColumnType {
  kind: ColumnKind;
  /** The type exactly as Databricks spells it, e.g. `DECIMAL(12,2)`. */
  text: string;
  precision?: number;
  scale?: number;
}

export interface DictionaryColumn {
  table: string;
  column: string;
  type: ColumnType;
  nullable: boolean;
  description: string;
  allowedValues: string[];
}

export interface DictionaryTable {
  catalog: string;
  schema: string;
  table: string;
  description: string;
  primaryKey: string;
  grain: string;
  columns: DictionaryColumn[];
}

export interface DictionaryJoin {
  fromTable: string;
  fromColumn: string;
  toTable: string;
  toColumn: string;
  relationship: 'many_to_one';
}

export interface DictionaryMetric {
  name: string;
  displayName: string;
  description: string;
  unit: 'count' | 'usd' | 'seconds' | 'percent' | 'score' | 'points';
  direction: 'higher_is_better' | 'lower_is_better';
  tables: string[];
  columns: string[];
  databricksSql: string | null;
}

export interface DataDictionary {
  tables: DictionaryTable[];
  joins: DictionaryJoin[];
  metrics: DictionaryMetric[];
}

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case identifier expected');
const text = z.string().trim().min(1);
const pipeList = z.string().transform((value) => (value === '' ? [] : value.split('|')));

const tableRow = z.strictObject({
  catalog: identifier,
  schema: identifier,
  table: identifier,
  description: text,
  primary_key: identifier,
  grain: text,
});

const columnRow = z.strictObject({
  table: identifier,
  column: identifier,
  type: z.string(),
  nullable: z.enum(['true', 'false']),
  description: text,
  allowed_values: pipeList,
});

const joinRow = z.strictObject({
  from_table: identifier,
  from_column: identifier,
  to_table: identifier,
  to_column: identifier,
  relationship: z.literal('many_to_one'),
});

const metricRow = z.strictObject({
  metric_name: identifier,
  display_name: text,
  description: text,
  unit: z.enum(['count', 'usd', 'seconds', 'percent', 'score', 'points']),
  direction: z.enum(['higher_is_better', 'lower_is_better']),
  tables: pipeList,
  columns: pipeList,
  databricks_sql: z.string(),
});

export function parseColumnType(raw: string): ColumnType {
  const decimal = /^DECIMAL\((\d{1,2}),(\d{1,2})\)$/.exec(raw);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    if (precision < 1 || precision > 38 || scale > precision) throw new Error(`invalid decimal type ${raw}`);
    return { kind: 'DECIMAL', text: raw, precision, scale };
  }
  const simple = ['STRING', 'DATE', 'TIMESTAMP', 'INT', 'BIGINT', 'BOOLEAN', 'DOUBLE'] as const;
  const kind = simple.find((candidate) => candidate === raw);
  if (!kind) throw new Error(`unsupported Databricks type "${raw}"`);
  return { kind, text: raw };
}

/** The DuckDB type that stores a Databricks column type without loss. */
export function duckdbTypeFor(type: ColumnType): string {
  switch (type.kind) {
    case 'STRING':
      return 'VARCHAR';
    case 'INT':
      return 'INTEGER';
    case 'DECIMAL':
      return `DECIMAL(${type.precision},${type.scale})`;
    default:
      return type.kind;
  }
}

function readCsv<T>(dir: string, file: string, row: z.ZodType<T>): T[] {
  const path = join(dir, file);
  let records: unknown[];
  try {
    records = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, bom: true });
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  return records.map((record, index) => {
    const parsed = row.safeParse(record);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      // Line numbers count the header, so data row 0 is line 2.
      throw new Error(`${path} line ${index + 2}: ${problems}`);
    }
    return parsed.data;
  });
}

export function loadDataDictionary(dir: string): DataDictionary {
  const tableRows = readCsv(dir, 'tables.csv', tableRow);
  const columnRows = readCsv(dir, 'columns.csv', columnRow);
  const joinRows = readCsv(dir, 'joins.csv', joinRow);
  const metricRows = readCsv(dir, 'metrics.csv', metricRow);
  const problems: string[] = [];

  const tables: DictionaryTable[] = tableRows.map((row) => ({
    catalog: row.catalog,
    schema: row.schema,
    table: row.table,
    description: row.description,
    primaryKey: row.primary_key,
    grain: row.grain,
    columns: [],
  }));
  const byName = new Map<string, DictionaryTable>();
  for (const table of tables) {
    if (byName.has(table.table)) problems.push(`table ${table.table} is declared twice`);
    byName.set(table.table, table);
  }

  for (const row of columnRows) {
    const table = byName.get(row.table);
    if (!table) {
      problems.push(`column ${row.table}.${row.column} belongs to an undeclared table`);
      continue;
    }
    if (table.columns.some((column) => column.column === row.column)) {
      problems.push(`column ${row.table}.${row.column} is declared twice`);
      continue;
    }
    let type: ColumnType;
    try {
      type = parseColumnType(row.type);
    } catch (error) {
      problems.push(`column ${row.table}.${row.column}: ${(error as Error).message}`);
      continue;
    }
    table.columns.push({
      table: row.table,
      column: row.column,
      type,
      nullable: row.nullable === 'true',
      description: row.description,
      allowedValues: row.allowed_values,
    });
  }

  const findColumn = (table: string, column: string): DictionaryColumn | undefined =>
    byName.get(table)?.columns.find((candidate) => candidate.column === column);

  for (const table of tables) {
    if (table.columns.length === 0) problems.push(`table ${table.table} has no columns`);
    const key = findColumn(table.table, table.primaryKey);
    if (!key) problems.push(`primary key ${table.table}.${table.primaryKey} is not a declared column`);
    else if (key.nullable) problems.push(`primary key ${table.table}.${table.primaryKey} is nullable`);
  }

  const joins: DictionaryJoin[] = joinRows.map((row) => {
    const from = findColumn(row.from_table, row.from_column);
    const to = findColumn(row.to_table, row.to_column);
    if (!from) problems.push(`join source ${row.from_table}.${row.from_column} is not a declared column`);
    if (!to) problems.push(`join target ${row.to_table}.${row.to_column} is not a declared column`);
    else if (byName.get(row.to_table)?.primaryKey !== row.to_column) {
      problems.push(`join target ${row.to_table}.${row.to_column} is not that table's primary key`);
    }
    if (from && to && from.type.text !== to.type.text) {
      problems.push(`join ${row.from_table}.${row.from_column} -> ${row.to_table}.${row.to_column} mixes types`);
    }
    return {
      fromTable: row.from_table,
      fromColumn: row.from_column,
      toTable: row.to_table,
      toColumn: row.to_column,
      relationship: row.relationship,
    };
  });

  const metricNames = new Set<string>();
  const metrics: DictionaryMetric[] = metricRows.map((row) => {
    if (metricNames.has(row.metric_name)) problems.push(`metric ${row.metric_name} is declared twice`);
    metricNames.add(row.metric_name);
    for (const table of row.tables) {
      if (!byName.has(table)) problems.push(`metric ${row.metric_name} reads undeclared table ${table}`);
    }
    for (const qualified of row.columns) {
      const [table = '', column = ''] = qualified.split('.');
      if (!findColumn(table, column)) problems.push(`metric ${row.metric_name} reads undeclared column ${qualified}`);
      else if (!row.tables.includes(table)) problems.push(`metric ${row.metric_name} column ${qualified} is outside its tables`);
    }
    const sql = row.databricks_sql.trim();
    return {
      name: row.metric_name,
      displayName: row.display_name,
      description: row.description,
      unit: row.unit,
      direction: row.direction,
      tables: row.tables,
      columns: row.columns,
      databricksSql: sql === '' ? null : sql,
    };
  });

  if (problems.length > 0) throw new Error(`data dictionary in ${dir} is inconsistent:\n- ${problems.join('\n- ')}`);
  return { tables, joins, metrics };
}
