/**
 * Metric queries use named parameters (`:start`, `:end`, `:f0` …) for both sources. Databricks
 * binds them by name itself; for Postgres they are compiled to `$n` here. Everything that
 * rewrites a query works on the tokens below, so quoted strings, quoted identifiers, comments and
 * `::type` casts are never mistaken for parameters or table names.
 */

export type SqlDialect = 'postgres' | 'databricks';

export type SqlTokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'param' | 'cast' | 'symbol';

export interface SqlToken {
  kind: SqlTokenKind;
  /** The token's source text, exactly as written. */
  text: string;
  /** Parameters: the name without the colon. Words: the text. Quoted identifiers: the unquoted name. */
  name?: string;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_\u0080-\uffff]/.test(c);
// Postgres allows `$` inside identifiers (not first), which also keeps `a$b$` from opening a dollar quote.
const isIdentPart = (c: string | undefined, dialect: SqlDialect) =>
  c !== undefined && (/[A-Za-z0-9_\u0080-\uffff]/.test(c) || (dialect === 'postgres' && c === '$'));
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * Splits a statement into tokens the way its engine reads it. Postgres: `'…'` with `''`
 * (backslash escapes only in `E'…'`), `"…"` identifiers, `$tag$…$tag$` bodies, nested block
 * comments. Databricks: `'…'` and `"…"` strings with backslash escapes, `` `…` `` identifiers,
 * nested block comments. An unterminated string or comment runs to the end, as it would fail there.
 */
export function tokenizeSql(sql: string, dialect: SqlDialect): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const push = (kind: SqlTokenKind, end: number, name?: string) => {
    const text = sql.slice(i, end);
    tokens.push(name === undefined ? { kind, text } : { kind, text, name });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (isSpace(ch)) {
      let end = i + 1;
      while (end < sql.length && isSpace(sql[end])) end++;
      push('space', end);
    } else if (ch === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      push('comment', nl === -1 ? sql.length : nl);
    } else if (ch === '/' && next === '*') {
      push('comment', blockCommentEnd(sql, i));
    } else if (ch === "'") {
      const previous = tokens.at(-1);
      const escapes = dialect === 'databricks' || (previous?.kind === 'word' && (previous.text === 'E' || previous.text === 'e'));
      push('string', quotedEnd(sql, i, "'", escapes));
    } else if (ch === '"') {
      if (dialect === 'databricks') push('string', quotedEnd(sql, i, '"', true));
      else {
        const end = quotedEnd(sql, i, '"', false);
        push('quoted', end, sql.slice(i + 1, end - 1).replaceAll('""', '"'));
      }
    } else if (ch === '`' && dialect === 'databricks') {
      const end = quotedEnd(sql, i, '`', false);
      push('quoted', end, sql.slice(i + 1, end - 1).replaceAll('``', '`'));
    } else if (ch === '$' && dialect === 'postgres' && !isIdentPart(sql[i - 1], dialect) && dollarTag(sql, i) !== null) {
      const tag = dollarTag(sql, i)!;
      const close = sql.indexOf(tag, i + tag.length);
      push('string', close === -1 ? sql.length : close + tag.length);
    } else if (ch === ':' && next === ':') {
      push('cast', i + 2);
    } else if (ch === ':' && isIdentStart(next)) {
      let end = i + 2;
      while (end < sql.length && /[A-Za-z0-9_]/.test(sql[end]!)) end++;
      push('param', end, sql.slice(i + 1, end));
    } else if (isIdentStart(ch)) {
      let end = i + 1;
      while (end < sql.length && isIdentPart(sql[end], dialect)) end++;
      push('word', end, sql.slice(i, end));
    } else if (isDigit(ch) || (ch === '.' && isDigit(next))) {
      let end = i + 1;
      while (end < sql.length && (isIdentPart(sql[end], dialect) || sql[end] === '.')) end++;
      push('number', end);
    } else {
      push('symbol', i + 1);
    }
  }
  return tokens;
}

function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** Block comments nest in both engines. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** `$$` or `$tag$` at `start`, or null (a positional `$1` is not a dollar quote). */
function dollarTag(sql: string, start: number): string | null {
  const match = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(start, start + 130));
  return match ? match[0] : null;
}

/** Tokens joined back: the exact input, or the input with some tokens rewritten. */
export function joinTokens(tokens: readonly SqlToken[]): string {
  return tokens.map((t) => t.text).join('');
}

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
