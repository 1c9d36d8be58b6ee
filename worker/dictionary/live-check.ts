// Compares the dictionary with the lakehouse it describes, through the Databricks client: every table
// exists, every column exists with the declared type, and anything the lakehouse has beyond the
// dictionary is reported as a warning. Types come from the result manifest of `SELECT * ... LIMIT 0`,
// which real warehouses and the local stand-in report identically (information_schema and DESCRIBE
// differ between the two).
import { isDependencyError } from '../http/errors.ts';
import type { DependencyError } from '../http/errors.ts';
import type { DatabricksClient, ResultColumn } from '../services/databricks/types.ts';
import type { DataDictionary, DictionaryTable, Problem } from './schema.ts';

/** The warehouse ran the statement and refused it (a missing table, no privilege): a finding, not an outage. */
const ranAndFailed = (error: unknown): error is DependencyError =>
  isDependencyError(error, 'databricks') && error.kind === 'rejected' && error.details.statementId !== undefined;

export interface LiveCheckOptions {
  /** Where the tables live when it differs from the dictionary's own catalog/schema. */
  catalog?: string | undefined;
  schema?: string | undefined;
  /** Per statement. */
  timeoutMs?: number;
}

const quote = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
const key = (name: string): string => name.toLowerCase();

const TYPE_ALIASES: Record<string, string> = {
  INTEGER: 'INT',
  LONG: 'BIGINT',
  SHORT: 'SMALLINT',
  BYTE: 'TINYINT',
  REAL: 'FLOAT',
  TIMESTAMP_LTZ: 'TIMESTAMP',
  DEC: 'DECIMAL(10,0)',
  DECIMAL: 'DECIMAL(10,0)',
  NUMERIC: 'DECIMAL(10,0)',
};

/** One spelling per type, so `decimal(12, 2)` and `DECIMAL(12,2)` compare equal. */
export function normalizeTypeText(text: string): string {
  const compact = text.toUpperCase().replace(/\s+/g, '').replace(/^(DEC|NUMERIC)\(/, 'DECIMAL(');
  return TYPE_ALIASES[compact] ?? compact;
}

function typeOf(column: ResultColumn): string {
  if (column.typeName === 'DECIMAL' && column.precision !== undefined) return `DECIMAL(${column.precision},${column.scale ?? 0})`;
  return normalizeTypeText(column.typeText || column.typeName);
}

async function checkTable(
  client: DatabricksClient,
  table: DictionaryTable,
  location: { sql: string; plain: string },
  timeoutMs: number,
  problems: Problem[],
): Promise<void> {
  let columns: ResultColumn[];
  try {
    ({ columns } = await client.execute(`SELECT * FROM ${location.sql} LIMIT 0`, {}, { timeoutMs }));
  } catch (error) {
    if (!ranAndFailed(error)) throw error;
    problems.push({ severity: 'error', file: 'tables.csv', line: table.line, message: `table ${table.name}: cannot be read at ${location.plain}: ${error.message}` });
    return;
  }
  const actual = new Map(columns.map((column) => [key(column.name), column]));
  for (const column of table.columns) {
    const found = actual.get(key(column.name));
    const where = { severity: 'error' as const, file: 'columns.csv' as const, line: column.line };
    if (!found) {
      problems.push({ ...where, message: `column ${table.name}.${column.name}: does not exist in the lakehouse` });
      continue;
    }
    const declared = normalizeTypeText(column.type.text);
    const live = typeOf(found);
    if (declared !== live) {
      problems.push({ ...where, message: `column ${table.name}.${column.name}: declared ${column.type.text} but the lakehouse has ${live}` });
    }
  }
  const declared = new Set(table.columns.map((column) => key(column.name)));
  for (const column of columns) {
    if (!declared.has(key(column.name))) {
      problems.push({ severity: 'warning', message: `${location.plain} has column ${column.name} (${typeOf(column)}) that columns.csv does not describe` });
    }
  }
}

/** Tables in a schema beyond the dictionary's; best effort, as listing needs its own privilege. */
async function checkExtraTables(
  client: DatabricksClient,
  scope: { sql: string; plain: string },
  known: ReadonlySet<string>,
  timeoutMs: number,
  problems: Problem[],
): Promise<void> {
  let rows: Array<Record<string, unknown>>;
  try {
    ({ rows } = await client.execute(`SHOW TABLES FROM ${scope.sql}`, {}, { timeoutMs }));
  } catch (error) {
    if (!ranAndFailed(error)) throw error;
    problems.push({ severity: 'warning', message: `could not list the tables of ${scope.plain} to look for undescribed ones: ${error.message}` });
    return;
  }
  for (const row of rows) {
    // Databricks answers tableName (and flags temporary views); other engines answer name.
    if (row.isTemporary === true) continue;
    const name = row.tableName ?? row.name;
    if (typeof name === 'string' && !known.has(key(name))) {
      problems.push({ severity: 'warning', message: `${scope.plain} has table ${name} that tables.csv does not describe` });
    }
  }
}

/**
 * Problems found by reading the lakehouse. Statement failures become problems; transport failures
 * (auth, unavailable, timeout) are thrown, since they say nothing about the dictionary.
 */
export async function checkLakehouse(dict: DataDictionary, client: DatabricksClient, options: LiveCheckOptions = {}): Promise<Problem[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const problems: Problem[] = [];
  const scopes = new Map<string, { scope: { sql: string; plain: string }; known: Set<string> }>();
  for (const table of dict.tableDefinitions) {
    const catalog = options.catalog ?? table.catalog;
    const schema = options.schema ?? table.schema;
    const scope = { sql: `${quote(catalog)}.${quote(schema)}`, plain: `${catalog}.${schema}` };
    const location = { sql: `${scope.sql}.${quote(table.name)}`, plain: `${scope.plain}.${table.name}` };
    await checkTable(client, table, location, timeoutMs, problems);
    const entry = scopes.get(scope.plain) ?? { scope, known: new Set<string>() };
    entry.known.add(key(table.name));
    scopes.set(scope.plain, entry);
  }
  for (const { scope, known } of scopes.values()) await checkExtraTables(client, scope, known, timeoutMs, problems);
  return problems;
}
