/**
 * Metric queries use named parameters (`:start`, `:end`, `:f0` …) for both sources. Databricks
 * binds them by name itself; for Postgres they are compiled to `$n` here. All of it works on the
 * shared tokenizer's tokens, so quoted strings, quoted identifiers, comments and `::type` casts are
 * never mistaken for parameters.
 */
import { joinTokens, tokenizeSql } from './lexer.ts';
import type { SqlDialect } from './lexer.ts';

/**
 * Compiles named parameters to `$n` for Postgres; a name used twice gets one `$n`. An explicit
 * cast per parameter keeps Postgres from guessing a type from its neighbours (`:end - INTERVAL
 * '72 hours'` would otherwise be read as interval arithmetic).
 */
export function compileNamedForPostgres(
  sql: string,
  params: Record<string, unknown>,
  castFor: (name: string) => string | undefined = () => undefined,
): { text: string; values: unknown[] } {
  const order: string[] = [];
  let out = '';
  for (const token of tokenizeSql(sql, 'postgres')) {
    if (token.kind !== 'param') {
      out += token.text;
      continue;
    }
    const name = token.name!;
    if (!(name in params)) throw new Error(`the query uses :${name}, which has no value`);
    let index = order.indexOf(name);
    if (index === -1) index = order.push(name) - 1;
    const cast = castFor(name);
    out += cast ? `$${index + 1}::${cast}` : `$${index + 1}`;
  }
  return { text: out, values: order.map((n) => params[n]) };
}

/** Names a query refers to, in order of first use (for validation before running it). */
export function namedParameters(sql: string, dialect: SqlDialect = 'postgres'): string[] {
  const seen = new Set<string>();
  for (const token of tokenizeSql(sql, dialect)) if (token.kind === 'param') seen.add(token.name!);
  return [...seen];
}

/** The query with some parameters renamed (`:start` → `:b0_start`); nothing else changes. */
export function renameParameters(sql: string, renames: Readonly<Record<string, string>>, dialect: SqlDialect): string {
  return joinTokens(
    tokenizeSql(sql, dialect).map((t) => (t.kind === 'param' && Object.hasOwn(renames, t.name!) ? { ...t, text: `:${renames[t.name!]}` } : t)),
  );
}
