import type { BoundFilter } from './filters.ts';
import { predicate } from './filters.ts';
import { joinTokens, tokenizeSql } from '../../sqlgen/lexer.ts';
import type { SqlToken } from '../../sqlgen/lexer.ts';

type Source = 'postgres' | 'databricks';

/** The Statement Execution API takes at most this many named parameters per statement. */
export const DATABRICKS_MAX_PARAMETERS = 256;

/**
 * A condition the data path itself writes (never the client): a dictionary column name and
 * parameter placeholders only, for narrowings a filter cannot say (`col IS NULL OR col NOT IN …`).
 */
export interface Narrowing {
  table: string;
  where: string;
}

/**
 * Applies filters by shadowing the filtered tables with CTEs, so a catalog query keeps its own
 * shape: the query still says `FROM claims`, and `claims` is now the filtered rows.
 *   Postgres: the CTE takes the table's own name (an unqualified name resolves to the CTE first).
 *   Databricks: queries use three-part names, which a CTE cannot shadow, so the references are
 *   renamed to the CTE. The composed statement then goes through the safety layer like any other.
 * The result is a complete query that may also stand as a subquery: both engines accept a WITH
 * inside parentheses, which is what grouping and time series build on.
 */
export function applyFilters(sql: string, filters: ReadonlyArray<BoundFilter | Narrowing>, source: Source, qualify: (t: string) => string): string {
  if (filters.length === 0) return sql;
  const byTable = new Map<string, string[]>();
  for (const f of filters) byTable.set(f.table, [...(byTable.get(f.table) ?? []), 'where' in f ? f.where : predicate(f)]);
  const ctes: string[] = [];
  let tokens = trimmed(tokenizeSql(sql, source));
  for (const [table, predicates] of byTable) {
    const where = predicates.join(' AND ');
    if (source === 'postgres') {
      ctes.push(`${table} AS (SELECT * FROM public.${table} WHERE ${where})`);
    } else {
      const alias = `cc_filtered_${table}`;
      tokens = renameQualified(tokens, qualify(table), alias);
      ctes.push(`${alias} AS (SELECT * FROM ${qualify(table)} WHERE ${where})`);
    }
  }
  // The query's own WITH list continues ours (RECURSIVE, when present, covers the whole list).
  const first = tokens[0];
  if (first?.kind === 'word' && first.text.toUpperCase() === 'WITH') {
    let at = 1;
    while (tokens[at]?.kind === 'space' || tokens[at]?.kind === 'comment') at++;
    const recursive = tokens[at]?.kind === 'word' && tokens[at]!.text.toUpperCase() === 'RECURSIVE';
    const rest = joinTokens(tokens.slice(recursive ? at + 1 : 1)).trimStart();
    return `WITH ${recursive ? 'RECURSIVE ' : ''}${ctes.join(', ')}, ${rest}`;
  }
  return `WITH ${ctes.join(', ')} ${joinTokens(tokens)}`;
}

/**
 * The statement without what surrounds it: leading and trailing whitespace, comments and
 * semicolons. A trailing line comment would otherwise swallow the `)` of an enclosing subquery.
 */
export function statementBody(sql: string, source: Source): string {
  return joinTokens(trimmed(tokenizeSql(sql, source)));
}

function trimmed(tokens: SqlToken[]): SqlToken[] {
  const skip = (t: SqlToken | undefined) => t !== undefined && (t.kind === 'space' || t.kind === 'comment' || (t.kind === 'symbol' && t.text === ';'));
  let start = 0;
  let end = tokens.length;
  while (start < end && skip(tokens[start])) start++;
  while (end > start && skip(tokens[end - 1])) end--;
  return tokens.slice(start, end);
}

const nameOf = (t: SqlToken | undefined): string | null =>
  t?.kind === 'word' ? t.text.toLowerCase() : t?.kind === 'quoted' ? t.name!.toLowerCase() : null;
const isDot = (t: SqlToken | undefined) => t?.kind === 'symbol' && t.text === '.';

/** Where `qualified` (catalog.schema.table, each part optionally quoted) starts in the tokens. */
function qualifiedAt(tokens: readonly SqlToken[], i: number, parts: readonly string[]): boolean {
  if (isDot(tokens[i - 1])) return false;
  for (let p = 0; p < parts.length; p++) {
    if (nameOf(tokens[i + 2 * p]) !== parts[p]) return false;
    if (p < parts.length - 1 && !isDot(tokens[i + 2 * p + 1])) return false;
  }
  return !isDot(tokens[i + 2 * parts.length - 1]);
}

function renameQualified(tokens: readonly SqlToken[], qualified: string, alias: string): SqlToken[] {
  const parts = qualified.toLowerCase().split('.');
  const out: SqlToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (qualifiedAt(tokens, i, parts)) {
      out.push({ kind: 'word', start: tokens[i]!.start, end: tokens[i + 2 * parts.length - 2]!.end, text: alias, name: alias });
      i += 2 * parts.length - 2;
    } else out.push(tokens[i]!);
  }
  return out;
}

/**
 * Whether shadowing `table` changes what the query reads: Postgres queries must name it
 * unqualified, Databricks queries by its configured three-part name. A lineage table the query
 * never names this way could be "filtered" without any effect on the number.
 */
export function shadowsTable(sql: string, table: string, source: Source, qualify: (t: string) => string): boolean {
  const tokens = tokenizeSql(sql, source);
  if (source === 'postgres') {
    const name = table.toLowerCase();
    return tokens.some((t, i) => nameOf(t) === name && !isDot(tokens[i - 1]) && !(t.kind === 'word' && tokens[i + 1]?.text === '('));
  }
  const parts = qualify(table).toLowerCase().split('.');
  return tokens.some((_, i) => qualifiedAt(tokens, i, parts));
}

/**
 * One row of a composed answer: a label and the metric's `value` for one slice. The metric runs
 * as a derived table so only its `value` column is read, whatever else it selects.
 */
export function sliceRow(labelParam: string, metricSql: string, source: Source): string {
  return `SELECT :${labelParam} AS label, (SELECT cc_metric.value FROM (\n${statementBody(metricSql, source)}\n) AS cc_metric) AS value`;
}

export function unionAll(rows: readonly string[]): string {
  return rows.join('\nUNION ALL\n');
}
