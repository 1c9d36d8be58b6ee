import type { DatabricksParam } from './databricks/types.ts';
import { ApiError, DependencyError, isDependencyError } from '../http/errors.ts';
import { Lru } from '../lib/lru.ts';
import type { Services } from './index.ts';
import type { Postgres } from './postgres.ts';
import { POSTGRES_METRIC_ROLE } from '../sqlgen/allowlist.ts';
import type { SafetyPolicy } from '../sqlgen/allowlist.ts';
import { checkSql } from '../sqlgen/safety.ts';
import { compileNamedForPostgres } from '../sqlgen/named-params.ts';

export interface QueryAnswer {
  rows: Record<string, unknown>[];
  columns: string[];
  /** The statement that ran, as it ran. */
  sql: string;
  durationMs: number;
}

export interface TypedValue {
  value: string | number | boolean | Date | null;
  /** Databricks type name for the parameter (STRING, INT, TIMESTAMP, …). */
  type: string;
}

const PG_CASTS: Record<string, string> = {
  TIMESTAMP: 'timestamptz',
  DATE: 'date',
  STRING: 'text',
  INT: 'integer',
  BIGINT: 'bigint',
  DOUBLE: 'double precision',
  DECIMAL: 'numeric',
  BOOLEAN: 'boolean',
};

// Postgres sends numerics as text (they may exceed a double); metric values are read as numbers.
const NUMERIC_OIDS = new Set([20, 21, 23, 700, 701, 1700]);

export type Source = 'postgres' | 'databricks';

export interface Statement {
  source: Source;
  /** SQL with named parameters (`:start`, `:f0` …), bound as data on either source. */
  sql: string;
  params: Record<string, TypedValue>;
  /** The statement's deadline; the source cancels it then. */
  timeoutMs: number;
  /** Databricks only: the tables the statement may read (the safety layer's allowlist). */
  policy?: SafetyPolicy;
}

/**
 * The one way any domain runs a statement on a source. Postgres statements run read-only with a
 * statement timeout; Databricks statements pass the safety layer first (it also adds or clamps
 * the LIMIT), and what ran is what the caller shows. Either source's outage or timeout is a DependencyError:
 * callers degrade a Databricks one, and the error handler answers a Postgres one (503/504).
 */
export async function runStatement(
  services: { postgres: Pick<Postgres, 'batch'>; databricks?: Pick<Services['databricks'], 'client'> },
  statement: Statement,
): Promise<QueryAnswer> {
  if (statement.source === 'postgres') return runPostgres(services.postgres, statement);
  if (!statement.policy) throw new ApiError('internal_error', 'A Databricks statement needs a safety policy.');
  return runDatabricks(services.databricks?.client ?? null, statement.policy, statement);
}

async function runPostgres(postgres: Pick<Postgres, 'batch'>, { sql, params, timeoutMs }: Statement): Promise<QueryAnswer> {
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.value]));
  const compiled = compileNamedForPostgres(sql, values, (name) => PG_CASTS[params[name]?.type ?? '']);
  const started = Date.now();
  const deadline = Math.max(100, Math.floor(timeoutMs));
  try {
    // One round trip: a read-only transaction that takes the metric role (it reads only the
    // operational tables) and sets its own deadline, then the statement.
    const results = await postgres.batch(
      [{ text: `SET LOCAL ROLE ${POSTGRES_METRIC_ROLE}` }, { text: `SET LOCAL statement_timeout = ${deadline}` }, { text: compiled.text, params: compiled.values }],
      // The server cancels a slow statement at the deadline (504); a connection that hangs is given
      // up a moment later (503), so the request never outlives its route.
      { readOnly: true, timeoutMs: deadline + 1_000 },
    );
    const result = results.at(-1)!;
    const numeric = new Set(result.fields.filter((f) => NUMERIC_OIDS.has(f.dataTypeID)).map((f) => f.name));
    const rows = result.rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[k] = numeric.has(k) && v !== null ? Number(v) : v instanceof Date ? v.toISOString() : v;
      return out;
    });
    return { rows, columns: result.fields.map((f) => f.name), sql, durationMs: Date.now() - started };
  } catch (err) {
    if (err instanceof ApiError || isDependencyError(err)) throw err;
    // The database's own text names tables and columns: it goes to the log (as the cause), not to clients.
    if ((err as { code?: string }).code === '42703') {
      throw new ApiError('validation_failed', 'A filter names a column the app database does not have.', { cause: err });
    }
    throw err;
  }
}

/**
 * Catalog statements repeat (the same composition for the same widget, only the bound values
 * change), and a long one — a 30-bucket series — costs the parser 100 ms of CPU. The verdict for
 * a given text and policy never changes, so it is kept per isolate.
 */
const verdicts = new Lru<string, { policy: SafetyPolicy; verdict: ReturnType<typeof checkSql> }>(256);

function checkedSql(sql: string, policy: SafetyPolicy): ReturnType<typeof checkSql> {
  const known = verdicts.get(sql);
  if (known && known.policy === policy) return known.verdict;
  const verdict = checkSql(sql, policy);
  verdicts.set(sql, { policy, verdict });
  return verdict;
}

async function runDatabricks(
  client: Services['databricks']['client'],
  policy: SafetyPolicy,
  { sql, params, timeoutMs }: Statement,
): Promise<QueryAnswer> {
  const verdict = checkedSql(sql, policy);
  if (!verdict.ok) throw new ApiError('internal_error', `The query was refused by the safety layer (${verdict.code}): ${verdict.detail}`);
  if (!client) throw new DependencyError('databricks', 'not_configured', 'Databricks is not configured on this server.');
  const bound: Record<string, DatabricksParam> = {};
  for (const [name, p] of Object.entries(params)) bound[name] = { value: p.value instanceof Date ? p.value.toISOString() : p.value, type: p.type as never };
  const started = Date.now();
  try {
    const result = await client.execute(verdict.sql, bound, { timeoutMs });
    return { rows: result.rows, columns: result.columns.map((c) => c.name), sql: verdict.sql, durationMs: Date.now() - started };
  } catch (err) {
    if (isDependencyError(err)) throw err;
    // Parameters the client could not encode: the statement never left, and the tile degrades like any refusal.
    throw new DependencyError('databricks', 'rejected', `the statement was not sent: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
