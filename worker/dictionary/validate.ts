// Structural checks across the dictionary's files: the things a row schema cannot see on its own, such
// as a join to a column that does not exist or a metric reading an undeclared table. Each problem names
// the file and line to fix.
import { INTEGER_KINDS } from './schema.ts';
import type { DataDictionary, DatabricksType, DictionaryColumn, DictionaryTable, Problem } from './schema.ts';

const key = (name: string): string => name.toLowerCase();

/** Join keys must compare without a lossy cast: same type, any two integer types, or decimals of one scale. */
export function joinCompatible(a: DatabricksType, b: DatabricksType): boolean {
  if (a.text === b.text) return true;
  if (INTEGER_KINDS.has(a.kind) && INTEGER_KINDS.has(b.kind)) return true;
  return a.kind === 'DECIMAL' && b.kind === 'DECIMAL' && a.scale === b.scale;
}

/** Three-part names (`catalog.schema.table`) a statement reads, ignoring string literals and comments. */
export function qualifiedTablesIn(sql: string): string[] {
  const code = sql
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
  const found = new Set<string>();
  for (const match of code.matchAll(/(?<![\w.`])`?([A-Za-z_]\w*)`?\.`?([A-Za-z_]\w*)`?\.`?([A-Za-z_]\w*)`?(?![\w`]*\.)/g)) {
    found.add(`${match[1]}.${match[2]}.${match[3]}`);
  }
  return [...found];
}

function checkTables(dict: DataDictionary, problems: Problem[]): void {
  const seen = new Map<string, number>();
  const scopes = new Set<string>();
  for (const table of dict.tableDefinitions) {
    const error = (message: string): void => {
      problems.push({ severity: 'error', file: 'tables.csv', line: table.line, message: `table ${table.name}: ${message}` });
    };
    const first = seen.get(key(table.name));
    if (first !== undefined) error(`is declared twice (first on line ${first})`);
    else seen.set(key(table.name), table.line);
    scopes.add(`${table.catalog}.${table.schema}`);

    if (table.columns.length === 0) {
      error('has no columns in columns.csv');
      continue;
    }
    const primaryKey = dict.column(table.name, table.primaryKey);
    if (!primaryKey) error(`primary key ${table.primaryKey} is not a column declared for it in columns.csv`);
    else if (primaryKey.nullable) error(`primary key ${table.primaryKey} is declared nullable`);
  }
  if (scopes.size > 1) {
    problems.push({
      severity: 'warning',
      file: 'tables.csv',
      message: `tables span several schemas (${[...scopes].join(', ')}); the app reads one DATABRICKS_CATALOG.DATABRICKS_SCHEMA`,
    });
  }
}

function checkAllowedValues(column: DictionaryColumn, error: (message: string) => void): void {
  if (column.allowedValues.length === 0) return;
  if (column.type.kind === 'STRING') return;
  if (INTEGER_KINDS.has(column.type.kind)) {
    const bad = column.allowedValues.filter((value) => !/^-?\d+$/.test(value));
    if (bad.length > 0) error(`allowed_values ${bad.map((value) => `"${value}"`).join(', ')} are not ${column.type.text} values`);
    return;
  }
  error(`allowed_values are only for STRING (or integer-coded) columns, not ${column.type.text}`);
}

function checkColumns(dict: DataDictionary, problems: Problem[]): void {
  const seen = new Map<string, number>();
  for (const column of dict.columns) {
    const error = (message: string): void => {
      problems.push({ severity: 'error', file: 'columns.csv', line: column.line, message: `column ${column.table}.${column.name}: ${message}` });
    };
    if (!dict.table(column.table)) error(`table ${column.table} is not declared in tables.csv`);
    const id = `${key(column.table)}.${key(column.name)}`;
    const first = seen.get(id);
    if (first !== undefined) error(`is declared twice (first on line ${first})`);
    else seen.set(id, column.line);
    checkAllowedValues(column, error);
  }
}

function checkJoins(dict: DataDictionary, problems: Problem[]): void {
  const seen = new Map<string, number>();
  for (const join of dict.joins) {
    const name = `${join.fromTable}.${join.fromColumn} -> ${join.toTable}.${join.toColumn}`;
    const error = (message: string): void => {
      problems.push({ severity: 'error', file: 'joins.csv', line: join.line, message: `join ${name}: ${message}` });
    };
    const id = key(name);
    const first = seen.get(id);
    if (first !== undefined) error(`is declared twice (first on line ${first})`);
    else seen.set(id, join.line);

    const ends: Array<[string, string, string]> = [
      ['source', join.fromTable, join.fromColumn],
      ['target', join.toTable, join.toColumn],
    ];
    const resolved = ends.map(([role, table, column]) => {
      if (!dict.table(table)) {
        error(`${role} table ${table} is not declared in tables.csv`);
        return undefined;
      }
      const found = dict.column(table, column);
      if (!found) error(`${role} column ${table}.${column} is not declared in columns.csv`);
      return found;
    });
    const [from, to] = resolved;
    if (key(join.fromTable) === key(join.toTable) && key(join.fromColumn) === key(join.toColumn)) {
      error('joins a column to itself');
    }
    if (from && to && !joinCompatible(from.type, to.type)) {
      error(`joins ${from.type.text} to ${to.type.text}; join keys need compatible types`);
    }
    const target: DictionaryTable | undefined = dict.table(join.toTable);
    if (to && target && key(target.primaryKey) !== key(join.toColumn)) {
      error(`a ${join.relationship} join must end at the primary key of ${target.name} (${target.primaryKey})`);
    }
  }
}

function checkMetrics(dict: DataDictionary, problems: Problem[]): void {
  const seen = new Map<string, number>();
  for (const metric of dict.metrics) {
    const report = (severity: Problem['severity'], message: string): void => {
      problems.push({ severity, file: 'metrics.csv', line: metric.line, message: `metric ${metric.name}: ${message}` });
    };
    const error = (message: string): void => report('error', message);
    const first = seen.get(key(metric.name));
    if (first !== undefined) error(`is declared twice (first on line ${first})`);
    else seen.set(key(metric.name), metric.line);

    const listed = new Set(metric.tables.map(key));
    for (const table of metric.tables) {
      if (!dict.table(table)) error(`table ${table} is not declared in tables.csv`);
    }
    for (const qualified of metric.columns) {
      const [table = '', column = ''] = qualified.split('.');
      if (!dict.table(table)) error(`column ${qualified} is on table ${table}, which is not declared in tables.csv`);
      else if (!dict.column(table, column)) error(`column ${qualified} is not declared in columns.csv`);
      if (!listed.has(key(table))) error(`column ${qualified} is on table ${table}, which is not in the metric's tables`);
    }

    if (metric.databricksSql === null) {
      if (metric.tables.length > 0) report('warning', 'lists tables but has no databricks_sql');
      continue;
    }
    if (metric.tables.length === 0) error('has databricks_sql but lists no tables');
    const read = new Set<string>();
    for (const qualified of qualifiedTablesIn(metric.databricksSql)) {
      const table = dict.table(qualified, { qualified: true });
      if (!table) {
        error(`databricks_sql reads ${qualified}, which is not a table in tables.csv`);
        continue;
      }
      read.add(key(table.name));
      if (!listed.has(key(table.name))) error(`databricks_sql reads ${table.name}, which is not in the metric's tables`);
    }
    for (const table of metric.tables) {
      if (dict.table(table) && !read.has(key(table))) report('warning', `lists table ${table} but databricks_sql never reads it by its three-part name`);
    }
  }
}

/** Every structural problem, errors and warnings, in file order. An empty list means the dictionary is consistent. */
export function validateDictionary(dict: DataDictionary): Problem[] {
  const problems: Problem[] = [];
  checkTables(dict, problems);
  checkColumns(dict, problems);
  checkJoins(dict, problems);
  checkMetrics(dict, problems);
  return problems;
}
