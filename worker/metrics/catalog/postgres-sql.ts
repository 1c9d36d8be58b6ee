import sqlParser from 'node-sql-parser/build/postgresql.js';
import type { Parser } from 'node-sql-parser/build/postgresql.js';
import { POSTGRES_METRIC_TABLES, resolvePostgresTable } from '../../sqlgen/allowlist.ts';
import { checkTableList, inspectAstWith } from '../../sqlgen/ast-check.ts';
import type { AstRules } from '../../sqlgen/ast-check.ts';
import { postgresFunctionProblem } from '../../sqlgen/functions.ts';
import { MAX_SQL_LENGTH } from '../../sqlgen/safety.ts';

/**
 * The write-time check of an admin's Postgres metric query, the counterpart of the lakehouse
 * safety layer: one SELECT over the operational tables, calling only allowlisted functions.
 * Its rows and its SQL reach every viewer, so reading users or tokens, sleeping, locking or
 * changing settings is refused before the definition is stored. At run time the statement also
 * runs as a role that can read nothing else (migration 0013).
 *
 * node-sql-parser's postgresql grammar reads the statement; the AST walk is the lakehouse's, with
 * Postgres rules. Text where the parser and Postgres could disagree about what is code (backslash
 * escapes, dollar quoting, Unicode escapes, comments, which Postgres nests) is refused outright
 * rather than reasoned about: a metric query needs none of it.
 */

const RULES: AstRules = {
  resolveTable: resolvePostgresTable,
  allowlistName: `the operational tables metric queries may read (${[...POSTGRES_METRIC_TABLES].sort().join(', ')})`,
  functionProblem: postgresFunctionProblem,
};

const PARSE_OPTIONS = { database: 'postgresql' } as const;

let parser: Parser | undefined;
const getParser = (): Parser => (parser ??= new sqlParser.Parser());

/**
 * Finds what is refused before parsing: outside quotes `$`, `;`, `\`, comments and `U&` escapes;
 * inside quotes only `\` (an escape to the parser, a plain character to Postgres).
 */
function lexicalProblem(sql: string): string | null {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === '\\') return 'backslashes are not allowed (escape strings read differently)';
    if (quote) {
      // A doubled quote is the quote character itself; the string goes on.
      if (ch === quote) {
        if (sql[i + 1] === quote) i++;
        else quote = null;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      if (i > 0 && sql[i - 1] === '&' && /[uU]/.test(sql[i - 2] ?? '')) return 'Unicode escapes (U&) are not allowed';
      quote = ch;
    } else if (ch === '$') return '$ is not allowed: use the named parameters :start and :end, and plain quoted strings';
    else if (ch === ';') return 'only one statement is allowed, without a semicolon';
    else if ((ch === '-' && sql[i + 1] === '-') || (ch === '/' && sql[i + 1] === '*')) return 'comments are not allowed';
  }
  return quote ? 'a quoted string or name is not closed' : null;
}

/** A readable sentence naming what is refused, or null when the query may be stored. */
export function postgresMetricSqlProblem(sql: string): string | null {
  if (sql.length > MAX_SQL_LENGTH) return `longer than ${MAX_SQL_LENGTH} characters`;
  const lexical = lexicalProblem(sql);
  if (lexical) return lexical;
  let parsed: { ast: unknown; tableList: string[] };
  try {
    parsed = getParser().parse(sql, PARSE_OPTIONS) as { ast: unknown; tableList: string[] };
  } catch (error) {
    const offset = (error as { location?: { start?: { offset?: number } } } | null)?.location?.start?.offset;
    return typeof offset === 'number' ? `could not be read near "${sql.slice(offset, offset + 40)}"` : 'could not be read';
  }
  const ast = Array.isArray(parsed.ast) ? (parsed.ast.length === 1 ? parsed.ast[0] : null) : parsed.ast;
  if (ast === null) return 'only one statement is allowed';
  const inspected = inspectAstWith(ast, RULES);
  if (!inspected.ok) return inspected.rejection.detail;
  return checkTableList(parsed.tableList ?? [], inspected.cteNames, inspected.tables, RULES)?.detail ?? null;
}
