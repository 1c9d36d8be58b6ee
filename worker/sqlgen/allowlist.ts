/** Which tables a checked statement may read, and how large a result it may ask for. */
export interface SafetyPolicy {
  catalog: string;
  schema: string;
  /** Allowed table names (lower case) in `catalog`.`schema`. */
  tables: ReadonlySet<string>;
  /** Upper bound of the top-level LIMIT. */
  maxLimit: number;
}

export const DEFAULT_CATALOG = 'workspace';
export const DEFAULT_SCHEMA = 'support_l3';
export const DEFAULT_MAX_LIMIT = 10_000;

export interface PolicyOptions {
  catalog?: string;
  schema?: string;
  maxLimit?: number;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

function name(kind: string, value: string): string {
  const lower = value.trim().toLowerCase();
  if (!NAME.test(lower)) throw new Error(`invalid ${kind} name in SQL safety policy: ${JSON.stringify(value)}`);
  return lower;
}

/** Builds a policy from the dictionary's table names (unqualified: `claims`, `customers`, ...). */
export function policyFromTables(tables: readonly string[], opts: PolicyOptions = {}): SafetyPolicy {
  const maxLimit = opts.maxLimit ?? DEFAULT_MAX_LIMIT;
  if (!Number.isSafeInteger(maxLimit) || maxLimit < 1) throw new Error(`invalid maxLimit in SQL safety policy: ${maxLimit}`);
  if (tables.length === 0) throw new Error('SQL safety policy needs at least one table');
  return {
    catalog: name('catalog', opts.catalog ?? DEFAULT_CATALOG),
    schema: name('schema', opts.schema ?? DEFAULT_SCHEMA),
    tables: new Set(tables.map((t) => name('table', t))),
    maxLimit,
  };
}

/** A table reference as written: one, two or three parts. */
export interface TableRef {
  catalog: string | null;
  schema: string | null;
  table: string;
}

/**
 * Format prefixes Databricks reads as "query these files" (``csv.`/path` ``), and characters that
 * only appear in paths and URLs.
 */
const FILE_FORMATS = new Set([
  'csv', 'json', 'parquet', 'delta', 'orc', 'avro', 'text', 'binaryfile', 'xml', 'jdbc', 'iceberg', 'hudi', 'file',
  'cloudfiles', 'cloud_files', 'libsvm', 'image',
]);
const PATH_CHARS = /[/:\\]/;

export const displayRef = (ref: TableRef) => [ref.catalog, ref.schema, ref.table].filter((p) => p !== null).join('.');

export function isPathSource(ref: TableRef): boolean {
  if (ref.catalog === null && ref.schema !== null && FILE_FORMATS.has(ref.schema.toLowerCase())) return true;
  return [ref.catalog, ref.schema, ref.table].some((p) => p !== null && PATH_CHARS.test(p));
}

/**
 * The fully qualified name (lower case) when `ref` names an allowed table, else null. Unqualified
 * and schema-qualified names resolve against the policy's catalog and schema, which the data path
 * sets as the statement's defaults. Identifiers are case-insensitive in Databricks.
 */
export function resolveTable(ref: TableRef, policy: SafetyPolicy): string | null {
  const catalog = (ref.catalog ?? policy.catalog).toLowerCase();
  const schema = (ref.schema ?? policy.schema).toLowerCase();
  const table = ref.table.toLowerCase();
  if (catalog !== policy.catalog || schema !== policy.schema || !policy.tables.has(table)) return null;
  return `${catalog}.${schema}.${table}`;
}

/**
 * The app database's operational tables (migrations 0004 and 0008): the only ones an
 * admin-written Postgres metric query may read. Users, API tokens, the catalog, widgets, layouts,
 * conversations and generation logs are not here. Migration 0013 grants exactly these to
 * POSTGRES_METRIC_ROLE, and a test keeps the two equal.
 */
export const POSTGRES_METRIC_TABLES: ReadonlySet<string> = new Set(['alerts', 'claims', 'devices', 'events', 'issue_sessions', 'recommendations']);

/** The role metric statements run as (`SET LOCAL ROLE` inside their read-only transaction). */
export const POSTGRES_METRIC_ROLE = 'cc_metric_reader';

/**
 * An operational table's name (lower case) when `ref` names one: unqualified or in `public`,
 * never another database or schema (pg_catalog, information_schema).
 */
export function resolvePostgresTable(ref: TableRef): string | null {
  if (ref.catalog !== null) return null;
  if (ref.schema !== null && ref.schema.toLowerCase() !== 'public') return null;
  const table = ref.table.toLowerCase();
  return POSTGRES_METRIC_TABLES.has(table) ? table : null;
}
