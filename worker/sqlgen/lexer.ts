/**
 * A lexer that reads SQL the way Databricks (Spark's SqlBase lexer) does, for two jobs:
 *
 * 1. Deciding where code is. Strings, comments and quoted identifiers are where a parser and the
 *    engine most easily disagree (escapes, nesting, dialect-only comment styles), and any
 *    disagreement lets text the checker took for data run as code. So this lexer is the single
 *    authority: whatever it cannot read exactly like Databricks would, it refuses.
 * 2. Producing `parserText`, a same-length copy for node-sql-parser in which comments are blanked
 *    and every string literal is rewritten into a form the parser reads with the same extent.
 *    The parser then sees exactly the code regions found here, never its own idea of them.
 */

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

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c);

/** Printable ASCII other than quotes and backslash: content the parser reads exactly as written. */
function isPlainContent(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 39 || c === 34 || c === 92) return false;
  }
  return true;
}

const describeChar = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

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
  const n = sql.length;
  let i = 0;

  /** Swaps sql[start, end) for `text` (same length) in the parser's copy. */
  const substitute = (start: number, end: number, text: string) => {
    pieces.push(sql.slice(copied, start), text);
    copied = end;
  };
  const fail = (code: LexFailureCode, detail: string, offending?: string): LexResult =>
    offending === undefined ? { ok: false, code, detail } : { ok: false, code, detail, offending };

  while (i < n) {
    const c = sql.charCodeAt(i);

    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }

    // `--` comment: Spark ends it at CR or LF, but a backslash before the LF continues it onto
    // the next line. Rather than model that, such comments are refused.
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      let j = i + 2;
      while (j < n && sql.charCodeAt(j) !== 10 && sql.charCodeAt(j) !== 13) j++;
      if (j < n && sql.charCodeAt(j - 1) === 92) {
        return fail('forbidden_construct', 'a line comment ending in a backslash continues onto the next line in Databricks', sql.slice(i, j));
      }
      substitute(i, j, ' '.repeat(j - i));
      i = j;
      continue;
    }

    // Block comment. Spark nests them; other readers do not. A comment that contains `/*` is the
    // one case where the two readings end it in different places, so it is refused. `/*+` opens an
    // optimizer hint, whose body Spark parses as code, so hints are refused too.
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      if (sql.charCodeAt(i + 2) === 43) {
        return fail('forbidden_construct', 'optimizer hints (/*+ ... */) are not accepted', sql.slice(i, i + 20));
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) return fail('unparseable', 'unterminated block comment', sql.slice(i, i + 20));
      const inner = sql.indexOf('/*', i + 2);
      if (inner >= 0 && inner < close) {
        return fail('forbidden_construct', 'nested block comments are not accepted', sql.slice(i, close + 2).slice(0, 60));
      }
      substitute(i, close + 2, ' '.repeat(close + 2 - i));
      i = close + 2;
      continue;
    }

    // String literal, single or double quoted (Databricks reads "..." as a string). Backslash
    // escapes the next character; a doubled quote is read as two adjacent literals by Spark and as
    // one escaped quote elsewhere — the same extent either way, so both are taken as one token.
    if (c === 39 || c === 34) {
      const prev = tokens.at(-1);
      if (prev && prev.end === i && prev.kind === 'word' && prev.value === 'R') {
        // A raw literal (r'...') has no escapes, so it ends somewhere else than '...' would.
        // Typed literals (DATE'...', X'...') are a name and an ordinary string to Spark.
        return fail('forbidden_construct', "raw string literals (r'...') are not accepted", sql.slice(prev.start, i + 10));
      }
      let j = i + 1;
      let backslash = false;
      for (;;) {
        if (j >= n) return fail('unparseable', 'unterminated string literal', sql.slice(i, i + 20));
        const d = sql.charCodeAt(j);
        if (d === 92) {
          backslash = true;
          j += 2;
        } else if (d === c) {
          if (sql.charCodeAt(j + 1) === c) j += 2;
          else break;
        } else j++;
      }
      const end = j + 1;
      const content = sql.slice(i + 1, j);
      if (c === 34 && backslash) {
        // With ANSI double-quoted identifiers a backslash is not an escape: ambiguous extent.
        return fail('forbidden_construct', 'double-quoted text containing a backslash is ambiguous in Databricks', sql.slice(i, end).slice(0, 60));
      }
      const shown = isPlainContent(content) ? content : 'x'.repeat(content.length);
      if (c === 34 || shown !== content) substitute(i, end, `'${shown}'`);
      tokens.push({ kind: 'string', start: i, end, depth, value: content });
      i = end;
      continue;
    }

    // Backtick identifier. Spark escapes a backtick by doubling it; the parser does not, so
    // doubled backticks are refused rather than read two ways.
    if (c === 96) {
      const close = sql.indexOf('`', i + 1);
      if (close < 0) return fail('unparseable', 'unterminated backtick identifier', sql.slice(i, i + 20));
      if (sql.charCodeAt(close + 1) === 96) {
        return fail('forbidden_construct', 'escaped backticks inside identifiers are not accepted', sql.slice(i, close + 2));
      }
      const content = sql.slice(i + 1, close);
      for (let k = 0; k < content.length; k++) {
        if (content.charCodeAt(k) < 32) {
          return fail('forbidden_construct', 'control characters inside identifiers are not accepted', sql.slice(i, close + 1));
        }
      }
      tokens.push({ kind: 'quoted', start: i, end: close + 1, depth, value: content });
      i = close + 1;
      continue;
    }

    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      const value = sql.slice(i, j).toUpperCase();
      const replacement = PARSER_SET_OPERATOR[value];
      if (replacement !== undefined) substitute(i, j, replacement);
      else if (value === 'DISTINCT') {
        // `UNION DISTINCT` means UNION; the parser only knows the bare form.
        const prev = tokens.at(-1);
        if (prev?.kind === 'word' && SET_OPERATORS.has(prev.value)) substitute(i, j, ' '.repeat(j - i));
      }
      tokens.push({ kind: 'word', start: i, end: j, depth, value });
      i = j;
      continue;
    }

    if (isDigit(c)) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      if (sql.charCodeAt(j) === 46) {
        j++;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
      }
      const e = sql.charCodeAt(j);
      if ((e === 69 || e === 101) && (isDigit(sql.charCodeAt(j + 1)) || ((sql.charCodeAt(j + 1) === 43 || sql.charCodeAt(j + 1) === 45) && isDigit(sql.charCodeAt(j + 2))))) {
        j += 2;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
      }
      // Type suffixes (10L, 1.5BD) stay part of the number token.
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      tokens.push({ kind: 'number', start: i, end: j, depth, value: sql.slice(i, j) });
      i = j;
      continue;
    }

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
        tokens.push({ kind: 'punct', start: i, end: i + 1, depth, value: sql[i]! });
      }
      i++;
      continue;
    }

    // Anything else outside a literal: Unicode look-alikes and invisible or exotic whitespace are
    // how keywords get disguised; `#`, `$`, `@` and `\` mean something to the parser's grammar
    // (comments, variables) that they do not mean to Databricks.
    if (c > 127) {
      return fail('forbidden_construct', `non-ASCII character ${describeChar(c)} outside a string literal or comment`, sql.slice(Math.max(0, i - 10), i + 10));
    }
    if (c < 32 || c === 127) {
      return fail('forbidden_construct', `control character ${describeChar(c)} outside a string literal or comment`, sql.slice(Math.max(0, i - 10), i + 10));
    }
    return fail('unparseable', `unexpected character '${sql[i]}'`, sql.slice(Math.max(0, i - 10), i + 10));
  }

  if (depth !== 0) return fail('unparseable', 'unbalanced parentheses', '(');
  if (pieces.length === 0) return { ok: true, tokens, parserText: sql };
  pieces.push(sql.slice(copied));
  return { ok: true, tokens, parserText: pieces.join('') };
}
