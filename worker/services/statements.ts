import type { DatabricksClient } from './databricks/client.ts';
import { isDatabricksError } from './databricks/client.ts';
import type { DatabricksParam } from './databricks/types.ts';
import { ApiError } from '../http/errors.ts';
import type { Postgres } from './postgres.ts';
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

/**
 * Postgres metric queries run in a read-only transaction with a statement timeout: a catalog
 * query can neither write nor outlive its route's deadline.
 */
export async function runPostgres(
  postgres: Pick<Postgres, 'batch'>,
  sql: string,
  params: Record<string, TypedValue>,
  timeoutMs: number,
): Promise<QueryAnswer> {
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.value]));
  const compiled = compileNamedForPostgres(sql, values, (name) => PG_CASTS[params[name]?.type ?? '']);
  const started = Date.now();
  try {
    // One round trip: a read-only transaction that sets its own deadline, then the statement.
    const results = await postgres.batch(
      [{ text: `SET LOCAL statement_timeout = ${Math.max(100, Math.floor(timeoutMs))}` }, { text: compiled.text, params: compiled.values }],
      // The server cancels a slow statement at the deadline (504); a connection that hangs is given
      // up a moment later (503), so the request never outlives its route.
      { readOnly: true, timeoutMs: Math.max(100, Math.floor(timeoutMs)) + 1_000 },
    );
    const result = results[1]!;
    const numeric = new Set(result.fields.filter((f) => NUMERIC_OIDS.has(f.dataTypeID)).map((f) => f.name));
    const rows = result.rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[k] = numeric.has(k) && v !== null ? Number(v) : v instanceof Date ? v.toISOString() : v;
      return out;
    });
    return { rows, columns: result.fields.map((f) => f.name), sql, durationMs: Date.now() - started };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (code === '57014') throw new ApiError('dependency_timeout', `The Postgres query exceeded its ${timeoutMs} ms deadline.`);
    if (code === '42703') throw new ApiError('validation_failed', `A filter names a column the app database does not have: ${message}`);
    throw new ApiError('internal_error', `The Postgres query failed: ${message.slice(0, 200)}`, { cause: err });
  }
}

/**
 * Catalog statements repeat (the same composition for the same widget, only the bound values
 * change), and a long one — a 30-bucket series — costs the parser 100 ms of CPU. The verdict for
 * a given text and policy never changes, so it is kept per isolate.
 */
const VERDICTS_MAX = 256;
const verdicts = new Map<string, { policy: SafetyPolicy; verdict: ReturnType<typeof checkSql> }>();

function checkedSql(sql: string, policy: SafetyPolicy): ReturnType<typeof checkSql> {
  const known = verdicts.get(sql);
  if (known && known.policy === policy) return known.verdict;
  const verdict = checkSql(sql, policy);
  if (verdicts.size >= VERDICTS_MAX) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(sql, { policy, verdict });
  return verdict;
}

export class LiveSourceError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'LiveSourceError';
    this.reason = reason;
  }
}

/**
 * Databricks statements pass the safety layer first (it also adds or clamps the LIMIT); what
 * ran is what the tile shows. Source failures become LiveSourceError so the caller can degrade.
 */
export async function runDatabricks(
  client: DatabricksClient | null,
  policy: SafetyPolicy,
  sql: string,
  params: Record<string, TypedValue>,
  timeoutMs: number,
): Promise<QueryAnswer> {
  const verdict = checkedSql(sql, policy);
  if (!verdict.ok) throw new ApiError('internal_error', `The catalog query was refused by the safety layer (${verdict.code}): ${verdict.detail}`);
  if (!client) throw new LiveSourceError('Databricks is not configured on this server.');
  const bound: Record<string, DatabricksParam> = {};
  for (const [name, p] of Object.entries(params)) bound[name] = { value: p.value instanceof Date ? p.value.toISOString() : p.value, type: p.type as never };
  const started = Date.now();
  try {
    const result = await client.execute(verdict.sql, bound, { timeoutMs });
    return { rows: result.rows, columns: result.columns.map((c) => c.name), sql: verdict.sql, durationMs: Date.now() - started };
  } catch (err) {
    if (isDatabricksError(err)) throw new LiveSourceError(`Databricks ${err.kind}: ${err.message}`, { cause: err });
    throw new LiveSourceError(`Databricks failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
