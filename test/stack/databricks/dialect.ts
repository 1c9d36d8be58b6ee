// Databricks SQL -> DuckDB SQL, at the token level. Only what differs between the two is rewritten:
// quoting (backticks are identifiers, double quotes are strings, backslash escapes in strings),
// `:name` parameter markers, the clock functions (pinned to the stand-in's clock), Spark functions
// whose DuckDB namesake means something else, numeric literal suffixes and `<=>`. String literal values
// and comments pass through unchanged in meaning.
import { tokenizeSql } from '../../../worker/sqlgen/lexer.ts';
import { StatementError, syntaxError } from './errors.ts';

export interface Translation {
  sql: string;
  /** Parameter names referenced by the statement, in order of first use. */
  parameters: string[];
}

export interface TranslateOptions {
  /** What `current_timestamp()` and friends return. */
  now: Date;
}

type TokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'param' | 'symbol';

interface Token {
  kind: TokenKind;
  /** Source text, or for `string`/`quoted` the decoded value. */
  text: string;
  /** Spark numeric literal suffix (L, S, Y, D, F, BD), upper-cased. */
  suffix?: string;
}

/** Spark functions rewritten to stand-in macros (see spark-functions.ts) because DuckDB differs. */
const RENAMED_FUNCTIONS: Record<string, string> = {
  datediff: 'spark_datediff',
  date_diff: 'spark_datediff',
  timestampdiff: 'spark_timestampdiff',
  date_add: 'spark_date_add',
  dateadd: 'spark_date_add',
  timestampadd: 'spark_date_add',
  date_sub: 'spark_date_sub',
  add_months: 'spark_add_months',
  dayofweek: 'spark_dayofweek',
  weekday: 'spark_weekday',
  to_date: 'spark_to_date',
  to_timestamp: 'spark_to_timestamp',
  unix_timestamp: 'spark_unix_timestamp',
  from_unixtime: 'spark_from_unixtime',
  trunc: 'spark_trunc',
  date_trunc: 'spark_date_trunc',
  percentile_approx: 'spark_percentile_approx',
  approx_percentile: 'spark_percentile_approx',
  percentile: 'spark_percentile',
  collect_list: 'spark_collect_list',
  collect_set: 'spark_collect_set',
  size: 'spark_size',
  array_size: 'spark_size',
};

/** Functions whose first argument may be a bare unit keyword, e.g. `timestampdiff(HOUR, a, b)`. */
const UNIT_FIRST = new Set(['spark_datediff', 'spark_timestampdiff', 'spark_date_add']);
const UNITS = new Set([
  'MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'DAYOFYEAR', 'WEEK', 'MONTH', 'QUARTER', 'YEAR',
]);

const NUMERIC_SUFFIX_CASTS: Record<string, string | null> = {
  L: 'BIGINT',
  S: 'SMALLINT',
  Y: 'TINYINT',
  D: 'DOUBLE',
  F: 'FLOAT',
  // A BD literal is already an exact decimal in DuckDB once the suffix is dropped.
  BD: null,
};

/** Spark string literal escapes; unknown escapes drop the backslash, LIKE wildcards keep theirs. */
function decodeEscape(sql: string, at: number): { value: string; length: number } {
  const c = sql[at] ?? '';
  switch (c) {
    case 'n':
      return { value: '\n', length: 1 };
    case 't':
      return { value: '\t', length: 1 };
    case 'r':
      return { value: '\r', length: 1 };
    case 'b':
      return { value: '\b', length: 1 };
    case '0':
      return { value: '\0', length: 1 };
    case 'Z':
      return { value: '\x1a', length: 1 };
    case '%':
    case '_':
      return { value: `\\${c}`, length: 1 };
    case 'u': {
      const hex = sql.slice(at + 1, at + 5);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) return { value: String.fromCharCode(parseInt(hex, 16)), length: 5 };
      return { value: 'u', length: 1 };
    }
    default:
      return { value: c, length: 1 };
  }
}

/**
 * A string literal's value. A doubled quote inside the token is where Spark reads two adjacent
 * literals, which it concatenates: it contributes nothing.
 */
function decodeString(literal: string): string {
  const quote = literal[0];
  let value = '';
  for (let i = 1; i < literal.length - 1; ) {
    const ch = literal[i]!;
    if (ch === '\\') {
      const escape = decodeEscape(literal, i + 1);
      value += escape.value;
      i += 1 + escape.length;
    } else if (ch === quote) {
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  return value;
}

const NUMERIC_SUFFIX = /^(.*?)(BD|L|S|Y|D|F)$/i;
const PLAIN_NUMBER = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A numeric literal with its Spark type suffix (`10L`, `1.25BD`) split off; an exponent's E is no suffix. */
function numberToken(text: string): Token {
  const suffixed = NUMERIC_SUFFIX.exec(text);
  const suffix = suffixed?.[2]?.toUpperCase();
  return suffixed && suffix && PLAIN_NUMBER.test(suffixed[1]!) ? { kind: 'number', text: suffixed[1]!, suffix } : { kind: 'number', text };
}

/** The worker's tokenizer (the one the safety layer reads with), decoded for rewriting into DuckDB. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const read = tokenizeSql(sql, 'databricks');
  for (let index = 0; index < read.length; index++) {
    const token = read[index]!;
    switch (token.kind) {
      case 'comment':
        if (token.unterminated) throw new StatementError('BAD_REQUEST', '[UNCLOSED_BRACKETED_COMMENT] Found an unclosed bracketed comment. SQLSTATE: 42601', '42601');
        tokens.push({ kind: 'comment', text: token.text });
        break;
      case 'string':
        if (token.unterminated) throw syntaxError('end of input');
        tokens.push({ kind: 'string', text: decodeString(token.text) });
        break;
      case 'quoted':
        if (token.unterminated) throw syntaxError('end of input');
        tokens.push({ kind: 'quoted', text: token.name ?? '' });
        break;
      case 'param':
        tokens.push({ kind: 'param', text: token.name ?? '' });
        break;
      case 'cast':
        tokens.push({ kind: 'symbol', text: '::' });
        break;
      case 'number':
        tokens.push(numberToken(token.text));
        break;
      case 'symbol':
        // Spark reads `.5D` as one literal; the shared tokenizer gives the dot on its own.
        if (token.text === '.' && read[index + 1]?.kind === 'number' && read[index + 1]!.start === token.end) {
          tokens.push(numberToken(`.${read[index + 1]!.text}`));
          index++;
          break;
        }
        // Not Databricks syntax; in DuckDB it would open a parameter or dollar-quoted string.
        if (token.text === '$') throw syntaxError("'$'");
        if (token.text === '<' && read[index + 1]?.text === '=' && read[index + 2]?.text === '>') {
          tokens.push({ kind: 'symbol', text: '<=>' });
          index += 2;
        } else tokens.push({ kind: 'symbol', text: token.text });
        break;
      default:
        tokens.push({ kind: token.kind, text: token.text });
    }
  }
  return tokens;
}

const quoteString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const quoteIdentifier = (value: string): string => `"${value.replaceAll('"', '""')}"`;

function clockLiterals(now: Date): { timestamp: string; date: string; epochSeconds: string } {
  const iso = now.toISOString();
  return {
    timestamp: `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}'`,
    date: `DATE '${iso.slice(0, 10)}'`,
    epochSeconds: `CAST(${Math.floor(now.getTime() / 1000)} AS BIGINT)`,
  };
}

const PATTERN_LETTERS: Record<string, string> = {
  yyyy: '%Y',
  yyy: '%Y',
  yy: '%y',
  y: '%Y',
  MMMM: '%B',
  MMM: '%b',
  MM: '%m',
  M: '%-m',
  LL: '%m',
  L: '%-m',
  dd: '%d',
  d: '%-d',
  DDD: '%j',
  D: '%-j',
  HH: '%H',
  H: '%-H',
  hh: '%I',
  h: '%-I',
  mm: '%M',
  m: '%-M',
  ss: '%S',
  s: '%-S',
  SSSSSS: '%f',
  SSS: '%g',
  EEEE: '%A',
  EEE: '%a',
  EE: '%a',
  E: '%a',
  a: '%p',
  XXX: '%z',
  Z: '%z',
};

/** A Spark datetime pattern (`yyyy-MM-dd HH:mm`) as a strftime/strptime format (`%Y-%m-%d %H:%M`). */
export function sparkPatternToStrftime(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (c === "'") {
      // Quoted text is literal; '' is a single quote.
      const end = pattern.indexOf("'", i + 1);
      const literal = end === -1 ? pattern.slice(i + 1) : pattern.slice(i + 1, end);
      out += literal === '' ? "'" : literal.replaceAll('%', '%%');
      i = end === -1 ? pattern.length : end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      const run = pattern.slice(i, j);
      out += PATTERN_LETTERS[run] ?? run;
      i = j;
    } else {
      out += c === '%' ? '%%' : c;
      i++;
    }
  }
  return out;
}

/**
 * Spark functions taking a datetime pattern literal as their second argument. DuckDB only accepts a
 * constant format, so the pattern is converted here rather than in a macro.
 */
const PATTERN_CALLS: Record<string, { name: string; before?: string; firstArg?: [string, string]; after?: string }> = {
  date_format: { name: 'strftime', firstArg: ['CAST(', ' AS TIMESTAMP)'] },
  to_timestamp: { name: 'strptime' },
  to_date: { name: 'strptime', before: 'CAST(', after: ' AS DATE)' },
  unix_timestamp: { name: 'strptime', before: 'CAST(floor(epoch(', after: ')) AS BIGINT)' },
  from_unixtime: { name: 'strftime', firstArg: ['make_timestamp(CAST(', ' AS BIGINT) * 1000000)'] },
};

interface Edits {
  before: string[];
  replace?: string;
  after: string[];
}

export function translateDatabricksSql(sql: string, options: TranslateOptions): Translation {
  const tokens = mergeAdjacentStrings(tokenize(sql));
  const clock = clockLiterals(options.now);
  const parameters: string[] = [];
  const edits: Edits[] = tokens.map(() => ({ before: [], after: [] }));
  const edit = (index: number): Edits => {
    const found = edits[index];
    if (!found) throw new Error(`no token ${index}`);
    return found;
  };

  const significant = (from: number, step: 1 | -1): number => {
    let index = from;
    while (index >= 0 && index < tokens.length) {
      const kind = tokens[index]?.kind;
      if (kind !== 'space' && kind !== 'comment') return index;
      index += step;
    }
    return -1;
  };
  const symbolAt = (index: number, symbol: string): boolean => tokens[index]?.kind === 'symbol' && tokens[index]?.text === symbol;

  /** The significant-token ranges of a call's top-level arguments, and its closing parenthesis. */
  const callArguments = (open: number): { args: [number, number][]; close: number } | null => {
    const args: [number, number][] = [];
    let depth = 0;
    let first = -1;
    let last = -1;
    for (let index = open + 1; index < tokens.length; index++) {
      const token = tokens[index];
      if (!token || token.kind === 'space' || token.kind === 'comment') continue;
      if (token.kind === 'symbol' && token.text === '(') depth++;
      if (token.kind === 'symbol' && token.text === ')') {
        if (depth === 0) {
          if (first >= 0) args.push([first, last]);
          return { args, close: index };
        }
        depth--;
      }
      if (depth === 0 && token.kind === 'symbol' && token.text === ',') {
        args.push([first, last]);
        first = -1;
        continue;
      }
      if (first < 0) first = index;
      last = index;
    }
    return null;
  };

  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (!token || token.kind !== 'word') continue;
    const lower = token.text.toLowerCase();
    const previous = significant(index - 1, -1);
    if (symbolAt(previous, '.')) continue;
    const open = significant(index + 1, 1);
    const called = symbolAt(open, '(');
    const call = called ? callArguments(open) : null;

    const clockWord = ['current_timestamp', 'now', 'current_date', 'curdate', 'unix_timestamp'].includes(lower);
    const bareKeyword = lower === 'current_timestamp' || lower === 'current_date';
    if (clockWord && ((call && call.args.length === 0) || (bareKeyword && !called))) {
      edit(index).replace = lower === 'unix_timestamp' ? clock.epochSeconds : lower.endsWith('date') ? clock.date : clock.timestamp;
      if (call) for (let k = index + 1; k <= call.close; k++) edit(k).replace = '';
      continue;
    }
    if (!call) continue;

    const patterned = PATTERN_CALLS[lower];
    const patternArg = call.args[1];
    if (patterned && call.args.length === 2 && patternArg && patternArg[0] === patternArg[1] && tokens[patternArg[0]]?.kind === 'string') {
      const first = call.args[0];
      if (!first) continue;
      edit(index).replace = patterned.name;
      if (patterned.before) edit(index).before.push(patterned.before);
      // Suffixes go innermost-first: calls nested inside this one are visited after it.
      if (patterned.after) edit(call.close).after.unshift(patterned.after);
      if (patterned.firstArg) {
        edit(first[0]).before.push(patterned.firstArg[0]);
        edit(first[1]).after.unshift(patterned.firstArg[1]);
      }
      edit(patternArg[0]).replace = quoteString(sparkPatternToStrftime(tokens[patternArg[0]]?.text ?? ''));
      continue;
    }

    const renamed = RENAMED_FUNCTIONS[lower];
    if (!renamed) continue;
    edit(index).replace = renamed;
    const unit = call.args[0];
    if (UNIT_FIRST.has(renamed) && call.args.length === 3 && unit && unit[0] === unit[1]) {
      const word = tokens[unit[0]];
      if (word?.kind === 'word' && UNITS.has(word.text.toUpperCase())) edit(unit[0]).replace = quoteString(word.text.toUpperCase());
    }
  }

  const out: string[] = [];
  tokens.forEach((token, index) => {
    const { before, replace, after } = edit(index);
    out.push(...before);
    if (replace !== undefined) out.push(replace);
    else out.push(render(token, parameters));
    out.push(...after);
  });
  return { sql: out.join(''), parameters };
}

function render(token: Token, parameters: string[]): string {
  switch (token.kind) {
    case 'string':
      return quoteString(token.text);
    case 'quoted':
      return quoteIdentifier(token.text);
    case 'param':
      if (!parameters.includes(token.text)) parameters.push(token.text);
      return `$${token.text}`;
    case 'number': {
      const cast = token.suffix ? NUMERIC_SUFFIX_CASTS[token.suffix] : null;
      return cast ? `CAST(${token.text} AS ${cast})` : token.text;
    }
    case 'symbol':
      return token.text === '<=>' ? ' IS NOT DISTINCT FROM ' : token.text;
    default:
      return token.text;
  }
}

/** Spark concatenates adjacent string literals (`'it' 's'` is `'its'`); DuckDB would reject them. */
function mergeAdjacentStrings(tokens: Token[]): Token[] {
  const merged: Token[] = [];
  let lastString = -1;
  for (const token of tokens) {
    if (token.kind === 'string' && lastString >= 0) {
      const target = merged[lastString];
      if (target) {
        target.text += token.text;
        // Whatever whitespace separated the pieces is dropped with them.
        merged.length = lastString + 1;
        continue;
      }
    }
    merged.push({ ...token });
    if (token.kind === 'string') lastString = merged.length - 1;
    else if (token.kind !== 'space' && token.kind !== 'comment') lastString = -1;
  }
  return merged;
}
