// The data dictionary's four CSVs as zod models: one row schema per file, strict about headers, types
// and enums, and the typed shapes the rest of the app reads. Cross-row checks (does this join point at
// a real column?) live in validate.ts.
import { z } from 'zod';

export const DICTIONARY_FILES = ['tables.csv', 'columns.csv', 'joins.csv', 'metrics.csv'] as const;
export type DictionaryFile = (typeof DICTIONARY_FILES)[number];

/** Databricks column types the dictionary may declare, besides `DECIMAL(p,s)`. */
export const SIMPLE_TYPES = [
  'STRING',
  'BOOLEAN',
  'TINYINT',
  'SMALLINT',
  'INT',
  'BIGINT',
  'FLOAT',
  'DOUBLE',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMP_NTZ',
] as const;
export type SimpleTypeKind = (typeof SIMPLE_TYPES)[number];
export type DatabricksTypeKind = SimpleTypeKind | 'DECIMAL';

export interface DatabricksType {
  kind: DatabricksTypeKind;
  /** As Databricks spells it, e.g. `DECIMAL(12,2)`; what a manifest's type_text says. */
  text: string;
  precision?: number;
  scale?: number;
}

export const INTEGER_KINDS: ReadonlySet<DatabricksTypeKind> = new Set(['TINYINT', 'SMALLINT', 'INT', 'BIGINT']);
export const MAX_DECIMAL_PRECISION = 38;

export const UNITS = ['count', 'usd', 'seconds', 'percent', 'score', 'points'] as const;
export const DIRECTIONS = ['higher_is_better', 'lower_is_better'] as const;
export const RELATIONSHIPS = ['many_to_one', 'one_to_one'] as const;
export type MetricUnit = (typeof UNITS)[number];
export type MetricDirection = (typeof DIRECTIONS)[number];
export type JoinRelationship = (typeof RELATIONSHIPS)[number];

const DECIMAL_TYPE = /^DECIMAL\((\d{1,2}),(\d{1,2})\)$/;

/** Parses a declared column type; null when it is not one the dictionary supports. */
export function parseDatabricksType(raw: string): DatabricksType | null {
  const decimal = DECIMAL_TYPE.exec(raw);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale > precision) return null;
    return { kind: 'DECIMAL', text: raw, precision, scale };
  }
  const kind = SIMPLE_TYPES.find((candidate) => candidate === raw);
  return kind ? { kind, text: raw } : null;
}

export const databricksType = z.string().transform((raw, ctx): DatabricksType => {
  const parsed = parseDatabricksType(raw.trim());
  if (!parsed) {
    ctx.addIssue({
      code: 'custom',
      message: `unsupported Databricks type "${raw}" (expected one of ${SIMPLE_TYPES.join(', ')} or DECIMAL(p,s) with 1 <= p <= 38 and s <= p)`,
    });
    return z.NEVER;
  }
  return parsed;
});

export const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a lower-case identifier (a-z, 0-9, _)');
const text = z.string().trim().min(1, 'must not be empty');
const bool = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((value) => value === 'true');

/** `a|b|c` -> ['a', 'b', 'c']; an empty cell is an empty list; empty or repeated entries are errors. */
function pipeList<T extends z.ZodType<string, string>>(item: T) {
  return z
    .string()
    .transform((value) => (value.trim() === '' ? [] : value.split('|').map((entry) => entry.trim())))
    .pipe(z.array(item))
    .superRefine((entries, ctx) => {
      const seen = new Set<string>();
      for (const entry of entries) {
        if (entry === '') ctx.addIssue({ code: 'custom', message: 'has an empty entry between | separators' });
        else if (seen.has(entry)) ctx.addIssue({ code: 'custom', message: `lists "${entry}" twice` });
        seen.add(entry);
      }
    });
}

const qualifiedColumn = z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, 'must be table.column');

export const tableRow = z
  .strictObject({
    catalog: identifier,
    schema: identifier,
    table: identifier,
    description: text,
    primary_key: identifier,
    grain: text,
  })
  .transform((row) => ({
    catalog: row.catalog,
    schema: row.schema,
    name: row.table,
    description: row.description,
    primaryKey: row.primary_key,
    grain: row.grain,
  }));

export const columnRow = z
  .strictObject({
    table: identifier,
    column: identifier,
    type: databricksType,
    nullable: bool,
    description: text,
    allowed_values: pipeList(z.string()),
  })
  .transform((row) => ({
    table: row.table,
    name: row.column,
    type: row.type,
    nullable: row.nullable,
    description: row.description,
    allowedValues: row.allowed_values,
  }));

export const joinRow = z
  .strictObject({
    from_table: identifier,
    from_column: identifier,
    to_table: identifier,
    to_column: identifier,
    relationship: z.enum(RELATIONSHIPS),
  })
  .transform((row) => ({
    fromTable: row.from_table,
    fromColumn: row.from_column,
    toTable: row.to_table,
    toColumn: row.to_column,
    relationship: row.relationship,
  }));

export const metricRow = z
  .strictObject({
    metric_name: identifier,
    display_name: text,
    description: text,
    unit: z.enum(UNITS),
    direction: z.enum(DIRECTIONS),
    tables: pipeList(identifier),
    columns: pipeList(qualifiedColumn),
    databricks_sql: z.string(),
  })
  .transform((row) => ({
    name: row.metric_name,
    displayName: row.display_name,
    description: row.description,
    unit: row.unit,
    direction: row.direction,
    tables: row.tables,
    columns: row.columns,
    databricksSql: row.databricks_sql.trim() === '' ? null : row.databricks_sql.trim(),
  }));

/** The header each file must have, in order; taken from the row schemas so the two cannot drift. */
export const HEADERS: Record<DictionaryFile, readonly string[]> = {
  'tables.csv': Object.keys(tableRow.in.shape),
  'columns.csv': Object.keys(columnRow.in.shape),
  'joins.csv': Object.keys(joinRow.in.shape),
  'metrics.csv': Object.keys(metricRow.in.shape),
};

/** Where a dictionary entry came from, so problems can point at the line to fix. */
interface Sourced {
  line: number;
}

export type DictionaryColumn = z.output<typeof columnRow> & Sourced;
export type DictionaryJoin = z.output<typeof joinRow> & Sourced;
export type DictionaryMetric = z.output<typeof metricRow> & Sourced;
export type DictionaryTable = z.output<typeof tableRow> &
  Sourced & {
    /** `catalog.schema.table`. */
    qualifiedName: string;
    /** In file order, duplicates included (validateDictionary reports them). */
    columns: DictionaryColumn[];
  };

export interface TableLookupOptions {
  /** Only `catalog.schema.table` counts, as the query guidelines require. */
  qualified?: boolean;
}

export interface DataDictionary {
  /** Table names in file order. */
  readonly tables: readonly string[];
  readonly tableDefinitions: readonly DictionaryTable[];
  /** Every column of every table, in file order. */
  readonly columns: readonly DictionaryColumn[];
  readonly joins: readonly DictionaryJoin[];
  readonly metrics: readonly DictionaryMetric[];
  /** ai_query_guidelines.md when it was provided. */
  readonly guidelines: string | null;
  /** By `table`, `schema.table` or `catalog.schema.table`, case-insensitive, parts optionally in backticks. */
  table(name: string, options?: TableLookupOptions): DictionaryTable | undefined;
  column(table: string, column: string): DictionaryColumn | undefined;
  isAllowedTable(name: string, options?: TableLookupOptions): boolean;
  metric(name: string): DictionaryMetric | undefined;
  /** Joins that start or end at the table. */
  joinsOf(table: string): DictionaryJoin[];
}

export type ProblemSeverity = 'error' | 'warning';

export interface Problem {
  severity: ProblemSeverity;
  /** The file to fix; absent for problems found in the lakehouse rather than the files. */
  file?: DictionaryFile | undefined;
  line?: number | undefined;
  message: string;
}

/** `error: columns.csv line 12: ...`, one line a person can act on. */
export function formatProblem(problem: Problem): string {
  const where = problem.file ? `${problem.file}${problem.line !== undefined ? ` line ${problem.line}` : ''}: ` : '';
  return `${problem.severity}: ${where}${problem.message}`;
}
