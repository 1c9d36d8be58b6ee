import sqlParser from 'node-sql-parser/build/snowflake.js';
import type { Parser } from 'node-sql-parser/build/snowflake.js';
import type { SafetyPolicy } from './allowlist.ts';
import { checkTableList, inspectAst, lakehouseRules } from './ast-check.ts';
import { forbiddenFunctionReason } from './functions.ts';
import { applyEdits, intervalEdits } from './interval.ts';
import { lex } from './lexer.ts';
import type { Token } from './lexer.ts';
import { planLimit } from './limit.ts';

export { DEFAULT_MAX_LIMIT, policyFromTables } from './allowlist.ts';
export type { PolicyOptions, SafetyPolicy } from './allowlist.ts';

/**
 * The gate every generated statement passes before it reaches Databricks: exactly one read-only
 * SELECT over the allowlisted tables, no dangerous functions, a bounded result. Pure and
 * synchronous; it fails closed (whatever it cannot read is refused).
 *
 * How it reads SQL: its own lexer (lexer.ts) decides, the way Databricks does, what is code and
 * what is a string or comment; node-sql-parser's snowflake grammar — the widest Databricks subset
 * it offers — then parses a copy in which that decision is already made. The AST walk checks every
 * table and function; the parser's own table list is checked as a second opinion.
 *
 * What it returns is the caller's text, not a regenerated statement (node-sql-parser cannot print
 * Databricks identifiers and literals faithfully): trailing semicolons and comments are dropped,
 * `INTERVAL 7 DAYS` becomes `INTERVAL '7' DAY`, and the top-level LIMIT is added or lowered in
 * place. Named parameters (`:start`, `:end`) are left for the data path to bind; unqualified and
 * schema-qualified table names are resolved against the policy's catalog and schema, so the data
 * path must run the statement with those as its defaults.
 *
 * Databricks syntax the grammar lacks (LEFT SEMI/ANTI JOIN, `SELECT * EXCEPT (...)`, LATERAL VIEW,
 * TABLESAMPLE, time travel, FROM-first queries) is refused as `unparseable` or `not_select`.
 */

export type SafetyRejectCode =
  | 'multiple_statements'
  | 'not_select'
  | 'table_not_allowed'
  | 'forbidden_construct'
  | 'forbidden_function'
  | 'unparseable'
  | 'empty';

export type SafetyVerdict =
  | { ok: true; sql: string; tables: string[] }
  | { ok: false; code: SafetyRejectCode; detail: string; offending?: string };

/** Generated analytical SQL is a few hundred characters; this bounds parse time, not expressiveness. */
export const MAX_SQL_LENGTH = 20_000;

/** First words of statements that are not queries (Spark's statement keywords and common others). */
const STATEMENT_KEYWORDS = new Set([
  'ADD', 'ALTER', 'ANALYZE', 'APPLY', 'BEGIN', 'CACHE', 'CALL', 'CLEAR', 'CLONE', 'COMMENT', 'COMMIT', 'CONVERT', 'COPY',
  'CREATE', 'DECLARE', 'DELETE', 'DENY', 'DESC', 'DESCRIBE', 'DROP', 'EXEC', 'EXECUTE', 'EXPLAIN', 'FROM', 'FSCK', 'GENERATE',
  'GET', 'GRANT', 'INSERT', 'KILL', 'LIST', 'LOAD', 'LOCK', 'MAP', 'MERGE', 'MSCK', 'OPTIMIZE', 'PUT', 'REDUCE', 'REFRESH',
  'REMOVE', 'REORG', 'REPAIR', 'REPLACE', 'RESET', 'RESTORE', 'REVOKE', 'ROLLBACK', 'RUN', 'SET', 'SHOW', 'START', 'SYNC',
  'TABLE', 'TRUNCATE', 'UNCACHE', 'UNDROP', 'UNLOCK', 'UNSET', 'UPDATE', 'UPSERT', 'USE', 'VACUUM', 'VALUES',
]);

/** Words that make a statement a write or a command wherever they stand at depth 0 (`WITH x AS (...) INSERT ...`). */
const WRITE_KEYWORDS = new Set([
  'ALTER', 'CACHE', 'CALL', 'COPY', 'CREATE', 'DELETE', 'DROP', 'EXECUTE', 'GRANT', 'INSERT', 'MERGE', 'MSCK', 'OPTIMIZE',
  'REFRESH', 'REVOKE', 'TRUNCATE', 'UNCACHE', 'UPDATE', 'VACUUM',
]);

const PARSE_OPTIONS = { database: 'snowflake' } as const;

let parser: Parser | undefined;
const getParser = (): Parser => (parser ??= new sqlParser.Parser());

type Rejection = Extract<SafetyVerdict, { ok: false }>;

const rejection = (code: SafetyRejectCode, detail: string, offending?: string): Rejection =>
  offending === undefined ? { ok: false, code, detail } : { ok: false, code, detail, offending };

const isPunct = (t: Token | undefined, value: string) => t?.kind === 'punct' && t.value === value;

/** Splits off trailing semicolons; anything after the first semicolon is a second statement. */
function singleStatement(sql: string, tokens: readonly Token[]): readonly Token[] | Rejection {
  const semi = tokens.findIndex((t) => isPunct(t, ';'));
  if (semi < 0) return tokens;
  const after = tokens.slice(semi).find((t) => !isPunct(t, ';'));
  if (after) return rejection('multiple_statements', 'only one statement is allowed', sql.slice(after.start, after.start + 80));
  return tokens.slice(0, semi);
}

/** The statement must open (after any parentheses) with SELECT or WITH. */
function checkStatementKind(tokens: readonly Token[]): Rejection | null {
  const first = tokens.find((t) => !isPunct(t, '('));
  if (first?.kind === 'word' && (first.value === 'SELECT' || first.value === 'WITH')) return null;
  if (first?.kind === 'word' && STATEMENT_KEYWORDS.has(first.value)) {
    return rejection('not_select', `only SELECT queries are allowed, found ${first.value}`, first.value);
  }
  return rejection('unparseable', 'the statement does not start with SELECT or WITH', first?.value ?? '');
}

/**
 * Function calls seen in the tokens, before any parsing: a call is a name followed by `(`. This
 * does not depend on how the parser shapes its AST, and it also sees calls in statements the parser
 * cannot read (`SELECT current_user`). Script transforms are caught here for the same reason.
 */
function checkCalls(tokens: readonly Token[]): Rejection | null {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'word' && (t.value === 'CURRENT_USER' || t.value === 'SESSION_USER')) {
      const name = t.value.toLowerCase();
      return rejection('forbidden_function', `${name} is not allowed: it reveals the identity the query runs as`, name);
    }
    if (t.kind === 'word' && t.value === 'USING' && tokens[k + 1]?.kind === 'string') {
      // `SELECT TRANSFORM(...) USING 'script'` pipes rows through a shell command.
      return rejection('forbidden_construct', "script transforms (USING '...') are not allowed", 'USING');
    }
    if ((t.kind !== 'word' && t.kind !== 'quoted') || !isPunct(tokens[k + 1], '(')) continue;
    const name = t.value.toLowerCase();
    if (name === 'identifier') return rejection('forbidden_construct', 'IDENTIFIER(...) builds names at run time and is not allowed', 'IDENTIFIER');
    if (isPunct(tokens[k - 1], '.')) {
      return rejection('forbidden_function', `qualified function names are user-defined functions and are not allowed: ${name}`, name);
    }
    const reason = forbiddenFunctionReason(name);
    if (reason) return rejection('forbidden_function', `function ${name} is not allowed: it ${reason}`, name);
  }
  return null;
}

/** Why a statement the parser refused was refused: a write hidden behind WITH, or just unreadable. */
function parseFailure(sql: string, tokens: readonly Token[], error: unknown): Rejection {
  const write = tokens.find((t) => t.kind === 'word' && t.depth === 0 && WRITE_KEYWORDS.has(t.value));
  if (write) return rejection('not_select', `only SELECT queries are allowed, found ${write.value}`, write.value);
  const e = error as { location?: { start?: { offset?: number } } } | null;
  const offset = e?.location?.start?.offset;
  if (typeof offset === 'number') {
    const at = tokens[0]!.start + offset;
    return rejection('unparseable', `could not parse the statement near offset ${at}`, sql.slice(at, at + 40));
  }
  return rejection('unparseable', 'could not parse the statement');
}

/** The LIMIT value node-sql-parser attached to the outermost query, if any. */
function astTopLimit(ast: Record<string, unknown>): number | null {
  let last = ast;
  while (last._next && typeof last._next === 'object') last = last._next as Record<string, unknown>;
  const limit = (ast._limit ?? last.limit) as { value?: Array<{ type?: string; value?: unknown }> } | null | undefined;
  const first = limit?.value?.[0];
  return first?.type === 'number' || first?.type === 'bigint' ? Number(first.value) : null;
}

export function checkSql(sql: string, policy: SafetyPolicy): SafetyVerdict {
  if (typeof sql !== 'string') return rejection('empty', 'no SQL given');
  if (sql.length > MAX_SQL_LENGTH) return rejection('unparseable', `statement longer than ${MAX_SQL_LENGTH} characters`);

  let text = sql;
  let lexed = lex(text);
  if (!lexed.ok) return rejection(lexed.code, lexed.detail, lexed.offending);
  if (lexed.tokens.every((t) => isPunct(t, ';'))) return rejection('empty', 'no SQL statement given');

  const edits = intervalEdits(lexed.tokens);
  if (edits.length > 0) {
    text = applyEdits(text, edits);
    lexed = lex(text);
    if (!lexed.ok) return rejection(lexed.code, lexed.detail, lexed.offending);
  }

  const tokens = singleStatement(text, lexed.tokens);
  if ('ok' in tokens) return tokens;
  const kind = checkStatementKind(tokens);
  if (kind) return kind;
  const calls = checkCalls(tokens);
  if (calls) return calls;

  const plan = planLimit(text, tokens, policy.maxLimit);
  if (!plan.ok) return rejection('forbidden_construct', plan.detail, plan.offending);

  const start = tokens[0]!.start;
  const end = tokens.at(-1)!.end;
  let parsed: { ast: unknown; tableList: string[] };
  try {
    parsed = getParser().parse(lexed.parserText.slice(start, end), PARSE_OPTIONS);
  } catch (error) {
    return parseFailure(text, tokens, error);
  }
  let ast = parsed.ast;
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return rejection('multiple_statements', 'only one statement is allowed');
    ast = ast[0];
  }

  const inspected = inspectAst(ast, policy);
  if (!inspected.ok) {
    const r = inspected.rejection;
    return rejection(r.code, r.detail, r.offending);
  }
  const listed = checkTableList(parsed.tableList ?? [], inspected.cteNames, inspected.tables, lakehouseRules(policy));
  if (listed) return rejection(listed.code, listed.detail, listed.offending);

  if (plan.literal !== null && astTopLimit(ast as Record<string, unknown>) !== plan.literal) {
    return rejection('unparseable', 'could not tell which query the final LIMIT belongs to');
  }
  const body = plan.edit ? applyEdits(text.slice(0, end), [plan.edit]) : text.slice(0, end);
  return { ok: true, sql: body.slice(start), tables: [...inspected.tables].sort() };
}
