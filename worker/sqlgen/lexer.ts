/**
 * The one SQL tokenizer, and the Databricks reading the safety layer builds on it.
 *
 * `tokenizeSql` splits a statement into tokens the way its engine reads it, losslessly (the tokens
 * joined back are the input), for Postgres or Databricks. Everything that rewrites or inspects a
 * query works on these tokens, so quoted strings, quoted identifiers, comments and `::type` casts are
 * never mistaken for parameters or table names: the named-parameter compiler, the filter CTEs and the
 * local Databricks stand-in's translation to DuckDB.
 *
 * `lex` is the safety layer's strict Databricks reading of the same tokens, for two jobs:
 * 1. Deciding where code is. Strings, comments and quoted identifiers are where a parser and the
 *    engine most easily disagree (escapes, nesting, dialect-only comment styles), and any
 *    disagreement lets text the checker took for data run as code. So this reading is the single
 *    authority: whatever it cannot read exactly like Databricks would, it refuses.
 * 2. Producing `parserText`, a same-length copy for node-sql-parser in which comments are blanked
 *    and every string literal is rewritten into a form the parser reads with the same extent.
 *    The parser then sees exactly the code regions found here, never its own idea of them.
 */

export type SqlDialect = 'postgres' | 'databricks';

export type SqlTokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'param' | 'cast' | 'symbol';

export interface SqlToken {
  kind: SqlTokenKind;
  /** Offsets of the token in the input: `text` is `sql.slice(start, end)`. */
  start: number;
  end: number;
  /** The token's source text, exactly as written. */
  text: string;
  /** Parameters: the name without the colon. Words: the text. Quoted identifiers: the unquoted name. */
  name?: string;
  /** A string, quoted identifier or block comment still open at the end of the input. */
  unterminated?: true;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** Postgres reads letters beyond ASCII as part of a name; Spark's lexer knows only ASCII ones. */
const isIdentStart = (c: number, dialect: SqlDialect) => isAsciiIdentStart(c) || (c >= 128 && dialect === 'postgres');
// Postgres allows `$` inside identifiers (not first), which also keeps `a$b$` from opening a dollar quote.
const isIdentPart = (c: number, dialect: SqlDialect) => isIdentStart(c, dialect) || isDigit(c) || (c === 36 && dialect === 'postgres');
/** Spark's whitespace is space, tab, CR and LF; Postgres also takes form feed and vertical tab. */
const isSpace = (c: number, dialect: SqlDialect) => c === 32 || c === 9 || c === 10 || c === 13 || (dialect === 'postgres' && (c === 12 || c === 11));

/**
 * Postgres: `'…'` with `''` (backslash escapes only in `E'…'`), `"…"` identifiers, `$tag$…$tag$`
 * bodies, nested block comments. Databricks: `'…'` and `"…"` strings with backslash escapes (a doubled
 * quote continues the token: Spark reads two adjacent literals, other readers one escaped quote, the
 * same extent either way), `` `…` `` identifiers with ``` `` ``` escapes, nested block comments. Both:
 * `--` comments end at CR or LF, `:name` parameters, `::` casts, numbers with any type suffix (`10L`,
 * `1.5BD`). An unterminated string, identifier or comment runs to the end and is marked so.
 */
export function tokenizeSql(sql: string, dialect: SqlDialect): SqlToken[] {
  const tokens: SqlToken[] = [];
  let previousWasE = false;
  for (let start = 0; start < sql.length; ) {
    const { kind, end, unterminated } = scanToken(sql, start, dialect, previousWasE);
    const text = sql.slice(start, end);
    const token: SqlToken = { kind, start, end, text };
    if (kind === 'word') token.name = text;
    else if (kind === 'param') token.name = text.slice(1);
    else if (kind === 'quoted') token.name = text.slice(1, unterminated ? undefined : -1).replaceAll(text[0]!.repeat(2), text[0]!);
    if (unterminated) token.unterminated = true;
    tokens.push(token);
    previousWasE = kind === 'word' && (text === 'E' || text === 'e');
    start = end;
  }
  return tokens;
}

/** What `scanToken` found. One object, reused: the safety layer's hot path allocates nothing per token. */
const scanned: { kind: SqlTokenKind; end: number; unterminated: boolean } = { kind: 'space', end: 0, unterminated: false };

/**
 * The token starting at `i` (the input is not empty there). `previousWasE`: the token before is the
 * word `E`, which makes a following Postgres string take backslash escapes.
 */
function scanToken(sql: string, i: number, dialect: SqlDialect, previousWasE: boolean): typeof scanned {
  const n = sql.length;
  const c = sql.charCodeAt(i);
  const next = sql.charCodeAt(i + 1);
  let kind: SqlTokenKind;
  let end: number;
  if (isSpace(c, dialect)) {
    kind = 'space';
    end = i + 1;
    while (end < n && isSpace(sql.charCodeAt(end), dialect)) end++;
  } else if (c === 45 && next === 45) {
    kind = 'comment';
    end = i + 2;
    while (end < n && sql.charCodeAt(end) !== 10 && sql.charCodeAt(end) !== 13) end++;
  } else if (c === 47 && next === 42) {
    kind = 'comment';
    end = blockCommentEnd(sql, i);
  } else if (c === 39 || (c === 34 && dialect === 'databricks')) {
    kind = 'string';
    end = quotedEnd(sql, i, c, dialect === 'databricks' || previousWasE);
  } else if (c === 34 || (c === 96 && dialect === 'databricks')) {
    kind = 'quoted';
    end = quotedEnd(sql, i, c, false);
  } else if (c === 36 && dialect === 'postgres' && !(i > 0 && isIdentPart(sql.charCodeAt(i - 1), dialect)) && dollarTag(sql, i) !== null) {
    kind = 'string';
    const tag = dollarTag(sql, i)!;
    const close = sql.indexOf(tag, i + tag.length);
    end = close < 0 ? -1 : close + tag.length;
  } else if (c === 58 && next === 58) {
    kind = 'cast';
    end = i + 2;
  } else if (c === 58 && isAsciiIdentStart(next)) {
    kind = 'param';
    end = i + 2;
    while (end < n && (isAsciiIdentStart(sql.charCodeAt(end)) || isDigit(sql.charCodeAt(end)))) end++;
  } else if (isIdentStart(c, dialect)) {
    kind = 'word';
    end = i + 1;
    while (end < n && isIdentPart(sql.charCodeAt(end), dialect)) end++;
  } else if (isDigit(c)) {
    kind = 'number';
    end = numberEnd(sql, i, dialect);
  } else {
    kind = 'symbol';
    end = i + 1;
  }
  scanned.kind = kind;
  scanned.unterminated = end < 0;
  scanned.end = end < 0 ? n : end;
  return scanned;
}

/** Digits, a fraction, an exponent, then any type suffix (`10L`, `1.5BD`) as part of the number. */
function numberEnd(sql: string, start: number, dialect: SqlDialect): number {
  const n = sql.length;
  let j = start + 1;
  while (j < n && isDigit(sql.charCodeAt(j))) j++;
  if (sql.charCodeAt(j) === 46) {
    j++;
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
  }
  const e = sql.charCodeAt(j);
  const sign = sql.charCodeAt(j + 1);
  if ((e === 69 || e === 101) && (isDigit(sign) || ((sign === 43 || sign === 45) && isDigit(sql.charCodeAt(j + 2))))) {
    j += 2;
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
  }
  while (j < n && isIdentPart(sql.charCodeAt(j), dialect)) j++;
  return j;
}

/** End of the quoted text opening at `start` (a doubled quote continues it), or -1 when it never closes. */
function quotedEnd(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  const n = sql.length;
  let j = start + 1;
  while (j < n) {
    const d = sql.charCodeAt(j);
    if (backslashEscapes && d === 92) j += 2;
    else if (d === quote) {
      if (sql.charCodeAt(j + 1) !== quote) return j + 1;
      j += 2;
    } else j++;
  }
  return -1;
}

/** Block comments nest in both engines; -1 when the outermost never closes. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let j = start;
  while (j < sql.length) {
    if (sql.charCodeAt(j) === 47 && sql.charCodeAt(j + 1) === 42) {
      depth++;
      j += 2;
    } else if (sql.charCodeAt(j) === 42 && sql.charCodeAt(j + 1) === 47) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return -1;
}

/** `$$` or `$tag$` at `start`, or null (a positional `$1` is not a dollar quote). */
function dollarTag(sql: string, start: number): string | null {
  const match = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(start, start + 130));
  return match ? match[0] : null;
}

/** Tokens joined back: the exact input, or the input with some tokens rewritten. */
export function joinTokens(tokens: readonly Pick<SqlToken, 'text'>[]): string {
  return tokens.map((t) => t.text).join('');
}

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** Parenthesis depth the token sits at (an opening parenthesis carries the outer depth). */
  depth: number;
  /** Words: upper-cased text. Quoted identifiers and strings: raw content. Others: the text. */
  value: string;
}

export type LexFailureCode = 'unparseable' | 'forbidden_construct';

export type LexResult =
  | { ok: true; tokens: Token[]; parserText: string }
  | { ok: false; code: LexFailureCode; detail: string; offending?: string };

/** Deeper nesting than this is not analytical SQL and only risks the parser's recursion. */
export const MAX_PAREN_DEPTH = 64;

const SET_OPERATORS = new Set(['UNION', 'INTERSECT', 'EXCEPT', 'MINUS']);

/**
 * The snowflake grammar only knows UNION; the other set operators combine rows the same way as far
 * as table access is concerned, so the parser is shown UNION (padded to the same length).
 */
const PARSER_SET_OPERATOR: Readonly<Record<string, string>> = {
  INTERSECT: 'UNION    ',
  EXCEPT: 'UNION ',
  MINUS: 'UNION',
};

const PUNCTUATION = new Set('(),.*+-/%=<>!|&^~:;[]{}?');


/** Printable ASCII other than quotes and backslash: content the parser reads exactly as written. */
function isPlainContent(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 39 || c === 34 || c === 92) return false;
  }
  return true;
}

const describeChar = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/** The strict Databricks reading of `tokenizeSql`'s tokens: what the safety layer checks and parses. */
export function lex(sql: string): LexResult {
  // Spark substitutes `${var}`, `${env:VAR}` and `${system:prop}` in the raw text before parsing,
  // inside string literals too, which would read configuration and environment values.
  const substitution = sql.indexOf('${');
  if (substitution >= 0) {
    return { ok: false, code: 'forbidden_construct', detail: 'variable substitution (${...}) is not allowed', offending: sql.slice(substitution, substitution + 40) };
  }
  const tokens: Token[] = [];
  const pieces: string[] = [];
  let copied = 0;
  let depth = 0;

  /** Swaps sql[start, end) for `text` (same length) in the parser's copy. */
  const substitute = (start: number, end: number, text: string) => {
    pieces.push(sql.slice(copied, start), text);
    copied = end;
  };
  const fail = (code: LexFailureCode, detail: string, offending?: string): LexResult =>
    offending === undefined ? { ok: false, code, detail } : { ok: false, code, detail, offending };
  const around = (at: number) => sql.slice(Math.max(0, at - 10), at + 10);
  const nonAscii = (at: number): LexResult =>
    fail('forbidden_construct', `non-ASCII character ${describeChar(sql.charCodeAt(at))} outside a string literal or comment`, around(at));
  for (let i = 0; i < sql.length; ) {
    // Whitespace is most of what is read and none of what is kept: stepped over here, without a call.
    if (isSpace(sql.charCodeAt(i), 'databricks')) {
      i++;
      continue;
    }
    const { kind, end, unterminated } = scanToken(sql, i, 'databricks', false);
    switch (kind) {
      case 'comment':
        if (sql.charCodeAt(i) === 45) {
          // `--` comment: Spark ends it at CR or LF, but a backslash before the LF continues it onto
          // the next line. Rather than model that, such comments are refused.
          if (end < sql.length && sql.charCodeAt(end - 1) === 92) {
            return fail('forbidden_construct', 'a line comment ending in a backslash continues onto the next line in Databricks', sql.slice(i, end));
          }
        } else {
          // Block comment. Spark nests them; other readers do not. A comment that contains `/*` is the
          // one case where the two readings end it in different places, so it is refused. `/*+` opens an
          // optimizer hint, whose body Spark parses as code, so hints are refused too.
          if (sql.charCodeAt(i + 2) === 43) return fail('forbidden_construct', 'optimizer hints (/*+ ... */) are not accepted', sql.slice(i, i + 20));
          const close = sql.indexOf('*/', i + 2);
          if (close < 0) return fail('unparseable', 'unterminated block comment', sql.slice(i, i + 20));
          const inner = sql.indexOf('/*', i + 2);
          if (inner >= 0 && inner < close) return fail('forbidden_construct', 'nested block comments are not accepted', sql.slice(i, close + 2).slice(0, 60));
        }
        substitute(i, end, ' '.repeat(end - i));
        break;

      case 'string': {
        // Single or double quoted (Databricks reads "..." as a string).
        const prev = tokens.at(-1);
        if (prev && prev.end === i && prev.kind === 'word' && prev.value === 'R') {
          // A raw literal (r'...') has no escapes, so it ends somewhere else than '...' would.
          // Typed literals (DATE'...', X'...') are a name and an ordinary string to Spark.
          return fail('forbidden_construct', "raw string literals (r'...') are not accepted", sql.slice(prev.start, i + 10));
        }
        if (unterminated) return fail('unparseable', 'unterminated string literal', sql.slice(i, i + 20));
        const content = sql.slice(i + 1, end - 1);
        const double = sql.charCodeAt(i) === 34;
        if (double && content.includes('\\')) {
          // With ANSI double-quoted identifiers a backslash is not an escape: ambiguous extent.
          return fail('forbidden_construct', 'double-quoted text containing a backslash is ambiguous in Databricks', sql.slice(i, end).slice(0, 60));
        }
        const shown = isPlainContent(content) ? content : 'x'.repeat(content.length);
        if (double || shown !== content) substitute(i, end, `'${shown}'`);
        tokens.push({ kind: 'string', start: i, end, depth, value: content });
        break;
      }

      case 'quoted': {
        // Backtick identifier. Spark escapes a backtick by doubling it; the parser does not, so
        // doubled backticks are refused rather than read two ways.
        const close = sql.indexOf('`', i + 1);
        if (close < 0) return fail('unparseable', 'unterminated backtick identifier', sql.slice(i, i + 20));
        if (sql.charCodeAt(close + 1) === 96) return fail('forbidden_construct', 'escaped backticks inside identifiers are not accepted', sql.slice(i, close + 2));
        const content = sql.slice(i + 1, close);
        for (let k = 0; k < content.length; k++) {
          if (content.charCodeAt(k) < 32) return fail('forbidden_construct', 'control characters inside identifiers are not accepted', sql.slice(i, close + 1));
        }
        tokens.push({ kind: 'quoted', start: i, end: close + 1, depth, value: content });
        break;
      }

      case 'param':
      case 'word': {
        // To the parser, `:name` is a colon and a name, as written.
        const start = kind === 'param' ? i + 1 : i;
        if (start > i) tokens.push({ kind: 'punct', start: i, end: start, depth, value: ':' });
        const value = sql.slice(start, end).toUpperCase();
        const replacement = PARSER_SET_OPERATOR[value];
        if (replacement !== undefined) substitute(start, end, replacement);
        else if (value === 'DISTINCT') {
          // `UNION DISTINCT` means UNION; the parser only knows the bare form.
          const prev = tokens.at(-1);
          if (prev?.kind === 'word' && SET_OPERATORS.has(prev.value)) substitute(start, end, ' '.repeat(end - start));
        }
        tokens.push({ kind: 'word', start, end, depth, value });
        break;
      }
      case 'number':
        // Type suffixes (10L, 1.5BD) stay part of the number token.
        tokens.push({ kind: 'number', start: i, end, depth, value: sql.slice(i, end) });
        break;

      case 'cast':
        tokens.push({ kind: 'punct', start: i, end: i + 1, depth, value: ':' }, { kind: 'punct', start: i + 1, end, depth, value: ':' });
        break;

      case 'symbol': {
        const c = sql.charCodeAt(i);
        if (c < 128 && PUNCTUATION.has(sql[i]!)) {
          // `//` opens a comment in the parser's grammar but is two division signs to Databricks.
          if (c === 47 && sql.charCodeAt(i + 1) === 47) return fail('unparseable', "'//' is not valid Databricks SQL", '//');
          if (c === 40) {
            tokens.push({ kind: 'punct', start: i, end: i + 1, depth, value: '(' });
            depth++;
            if (depth > MAX_PAREN_DEPTH) return fail('unparseable', `parentheses nested deeper than ${MAX_PAREN_DEPTH}`);
          } else if (c === 41) {
            depth--;
            if (depth < 0) return fail('unparseable', 'unbalanced parentheses', ')');
            tokens.push({ kind: 'punct', start: i, end: i + 1, depth, value: ')' });
          } else {
            tokens.push({ kind: 'punct', start: i, end: i + 1, depth, value: sql.slice(i, end) });
          }
          break;
        }
        // Unicode look-alikes and invisible or exotic whitespace are how keywords get disguised;
        // `#`, `$`, `@` and `\` mean something to the parser's grammar (comments, variables) that
        // they do not mean to Databricks.
        if (c > 127) return nonAscii(i);
        if (c < 32 || c === 127) {
          return fail('forbidden_construct', `control character ${describeChar(c)} outside a string literal or comment`, around(i));
        }
        return fail('unparseable', `unexpected character '${sql[i]}'`, around(i));
      }
    }
    i = end;
  }

  if (depth !== 0) return fail('unparseable', 'unbalanced parentheses', '(');
  if (pieces.length === 0) return { ok: true, tokens, parserText: sql };
  pieces.push(sql.slice(copied));
  return { ok: true, tokens, parserText: pieces.join('') };
}
