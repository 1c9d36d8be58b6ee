import sqlParser from 'node-sql-parser/build/snowflake.js';
import type { Parser } from 'node-sql-parser/build/snowflake.js';
import type { Metric } from '../catalog/store.ts';
import { applyEdits, intervalEdits } from '../../sqlgen/interval.ts';
import { lex } from '../../sqlgen/lexer.ts';
import { namedParameters } from '../../sqlgen/named-params.ts';
import { Lru } from '../../lib/lru.ts';

/**
 * What a metric's queries return, read from the SQL rather than from a run:
 *   scalar    one `value` (and no `label`): it can be sliced by group or by time bucket;
 *   labelled  `label, value` rows: already a breakdown, so it is not sliced again;
 *   unknown   no query's output columns could be read; nothing is composed around it.
 * `windowed` says every query takes both `:start` and `:end`, so a sub-window means something.
 */
export interface MetricShape {
  output: 'scalar' | 'labelled' | 'unknown';
  windowed: boolean;
}

const PARSE_OPTIONS = { database: 'snowflake' } as const;
let parser: Parser | undefined;
const getParser = (): Parser => (parser ??= new sqlParser.Parser());

const MEMO_MAX = 200;
const memo = new Lru<string, string[] | null>(MEMO_MAX);

/**
 * The names of a query's output columns, lower-cased: each item's alias, or the column's own
 * name for a bare column reference. Null when the query cannot be read, or an item has no name
 * the query fixes (`*`, an unaliased expression). Reading goes through the safety layer's lexer,
 * which decides what is code the way Databricks does, and the same grammar it parses with.
 */
export function outputColumns(sql: string): string[] | null {
  const cached = memo.get(sql);
  if (cached !== undefined) return cached;
  const found = readOutputColumns(sql);
  memo.set(sql, found);
  return found;
}

function readOutputColumns(sql: string): string[] | null {
  let lexed = lex(sql);
  if (!lexed.ok) return null;
  const edits = intervalEdits(lexed.tokens);
  if (edits.length > 0) {
    lexed = lex(applyEdits(sql, edits));
    if (!lexed.ok) return null;
  }
  const tokens = lexed.tokens.filter((t) => !(t.kind === 'punct' && t.value === ';'));
  if (tokens.length === 0) return null;
  let ast: unknown;
  try {
    ast = getParser().parse(lexed.parserText.slice(tokens[0]!.start, tokens.at(-1)!.end), PARSE_OPTIONS).ast;
  } catch {
    return null;
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return null;
    ast = ast[0];
  }
  const columns = (ast as { type?: string; columns?: unknown } | null)?.columns;
  if ((ast as { type?: string } | null)?.type !== 'select' || !Array.isArray(columns)) return null;
  const names: string[] = [];
  for (const item of columns as Array<{ as?: unknown; expr?: { type?: string; column?: unknown } }>) {
    const name = typeof item.as === 'string' ? item.as : item.expr?.type === 'column_ref' ? columnName(item.expr.column) : null;
    if (!name || name === '*') return null;
    names.push(name.toLowerCase());
  }
  return names;
}

function columnName(column: unknown): string | null {
  if (typeof column === 'string') return column;
  const nested = (column as { expr?: { value?: unknown } } | null)?.expr?.value;
  return typeof nested === 'string' ? nested : null;
}

export function metricShape(metric: Pick<Metric, 'queries'>): MetricShape {
  const queries = (['postgres', 'databricks'] as const).flatMap((source) => {
    const sql = metric.queries[source];
    return sql ? [{ source, sql }] : [];
  });
  const outputs = queries.map((q) => outputColumns(q.sql));
  const labelled = outputs.some((o) => o?.includes('label'));
  // A metric's queries compute the same number from two sources (the compare route holds them to
  // it), so one readable scalar query speaks for a sibling the grammar cannot read. Were the sibling
  // to return several rows after all, the composed statement fails loudly (a scalar subquery of
  // more than one row) rather than answering something else.
  const scalar = outputs.some((o) => o !== null && o.includes('value'));
  const windowed =
    queries.length > 0 &&
    queries.every((q) => {
      const names = namedParameters(q.sql, q.source);
      return names.includes('start') && names.includes('end');
    });
  return { output: labelled ? 'labelled' : scalar ? 'scalar' : 'unknown', windowed };
}
