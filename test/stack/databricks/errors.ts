// How statement failures look to a client: Databricks puts an error class in brackets at the front of
// the message, a SQLSTATE next to it and a coarse error_code on the status. DuckDB's own wording (and
// its "did you mean" hints, which would leak engine internals) never reaches the client.

export class StatementError extends Error {
  readonly errorCode: string;
  readonly sqlState: string | undefined;

  constructor(errorCode: string, message: string, sqlState?: string) {
    super(message);
    this.name = 'StatementError';
    this.errorCode = errorCode;
    this.sqlState = sqlState;
  }
}

/** A Databricks-style failure: `[ERROR_CLASS] detail SQLSTATE: xxxxx`. */
export function sqlError(errorClass: string, detail: string, sqlState: string, errorCode = 'BAD_REQUEST'): StatementError {
  return new StatementError(errorCode, `[${errorClass}] ${detail} SQLSTATE: ${sqlState}`, sqlState);
}

export function syntaxError(near: string): StatementError {
  return sqlError('PARSE_SYNTAX_ERROR', `Syntax error at or near ${near}.`, '42601');
}

/** Functions the dialect layer renames; errors should name what the user wrote. */
const userFacingName = (name: string): string => name.replace(/^spark_/, '');

interface Rule {
  pattern: RegExp;
  map: (match: RegExpExecArray) => StatementError;
}

const RULES: Rule[] = [
  {
    pattern: /^Catalog Error: Table with name "?([^"\s!]+)"? does not exist/,
    map: (m) =>
      sqlError(
        'TABLE_OR_VIEW_NOT_FOUND',
        `The table or view \`${m[1]}\` cannot be found. Verify the spelling and correctness of the schema and catalog.`,
        '42P01',
      ),
  },
  {
    pattern: /^Binder Error: Catalog "([^"]+)" does not exist/,
    map: (m) =>
      sqlError('TABLE_OR_VIEW_NOT_FOUND', `The table or view cannot be found: the catalog \`${m[1]}\` does not exist.`, '42P01'),
  },
  {
    pattern: /^Catalog Error: (?:Table Function|Scalar Function|Aggregate Function|Function|Macro Function) with name "?([^"\s!]+)"? does not exist/,
    map: (m) =>
      sqlError('UNRESOLVED_ROUTINE', `Cannot resolve routine \`${userFacingName(m[1] ?? '')}\` on search path [\`system\`.\`builtin\`].`, '42883'),
  },
  {
    pattern: /^Catalog Error: SET schema: No catalog \+ schema named "([^"]+)" found|^Catalog Error: (?:Schema|Catalog) with name "?([^"\s!]+)"? does not exist/,
    map: (m) => sqlError('SCHEMA_NOT_FOUND', `The schema \`${m[1] ?? m[2]}\` cannot be found.`, '42704'),
  },
  {
    pattern: /^Binder Error: Referenced column "([^"]+)" not found|^Binder Error: Values list "[^"]+" does not have a column named "([^"]+)"|^Binder Error: Referenced table "([^"]+)" not found/,
    map: (m) =>
      sqlError(
        'UNRESOLVED_COLUMN.WITHOUT_SUGGESTION',
        `A column, variable, or function parameter with name \`${m[1] ?? m[2] ?? m[3]}\` cannot be resolved.`,
        '42703',
      ),
  },
  {
    pattern: /^Binder Error: column "([^"]+)" must appear in the GROUP BY clause/,
    map: (m) =>
      sqlError(
        'MISSING_AGGREGATION',
        `The non-aggregating expression \`${m[1]}\` is based on columns which are not participating in the GROUP BY clause.`,
        '42803',
      ),
  },
  {
    pattern: /^Binder Error: Macro ([A-Za-z0-9_]+)\(\) does not support the supplied arguments/,
    map: (m) =>
      sqlError('WRONG_NUM_ARGS', `The \`${userFacingName(m[1] ?? '')}\` function was called with arguments it does not accept.`, '42605'),
  },
  {
    pattern: /^Binder Error: (?:No function matches the given name and argument types '([A-Za-z0-9_]+)\(|Could not choose a best candidate function|Cannot compare values of type|Cannot mix values of type)/,
    map: (m) =>
      sqlError(
        'DATATYPE_MISMATCH',
        `Cannot resolve ${m[1] ? `\`${userFacingName(m[1])}\`` : 'the expression'} due to data type mismatch; add explicit casts.`,
        '42K09',
      ),
  },
  {
    pattern: /^Parser Error: syntax error at or near "(.*)"/,
    map: (m) => syntaxError(`'${m[1]}'`),
  },
  {
    pattern: /^Parser Error: syntax error at end of input/,
    map: () => syntaxError('end of input'),
  },
  {
    pattern: /^Parser Error: (.*)/,
    map: (m) => sqlError('PARSE_SYNTAX_ERROR', firstLine(m[1] ?? ''), '42601'),
  },
  {
    pattern: /^Conversion Error: (?:Could not convert string '([^']*)' to (\S+)|(.*))/,
    map: (m) =>
      m[1] !== undefined
        ? sqlError('CAST_INVALID_INPUT', `The value '${m[1]}' of the type "STRING" cannot be cast to "${m[2]}" because it is malformed.`, '22018')
        : sqlError('CAST_INVALID_INPUT', firstLine(m[3] ?? ''), '22018'),
  },
  {
    pattern: /^Out of Range Error: (.*)/,
    map: (m) => sqlError('ARITHMETIC_OVERFLOW', firstLine(m[1] ?? ''), '22003'),
  },
  {
    pattern: /^Permission Error|^Invalid Input Error: .*(?:disabled|not allowed|lock_configuration)/,
    map: () =>
      sqlError(
        'INSUFFICIENT_PERMISSIONS',
        "Insufficient privileges: only the tables of the warehouse's catalogs can be read.",
        '42501',
        'PERMISSION_DENIED',
      ),
  },
];

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

/** Turns an engine error into what Databricks would report for the same mistake. */
export function toStatementError(error: unknown): StatementError {
  if (error instanceof StatementError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  // Some engine calls wrap the error ("Failed to extract statements: Parser Error: ..."); match on the error itself.
  const start = raw.search(/\b[A-Z][A-Za-z ]* Error: /);
  const message = start > 0 ? raw.slice(start) : raw;
  for (const rule of RULES) {
    const match = rule.pattern.exec(message);
    if (match) return rule.map(match);
  }
  const binder = /^Binder Error: (.*)/.exec(message);
  if (binder) return sqlError('DATATYPE_MISMATCH', firstLine(binder[1] ?? ''), '42K09');
  return new StatementError('INTERNAL_ERROR', `[INTERNAL_ERROR] ${firstLine(message)} SQLSTATE: XX000`, 'XX000');
}
