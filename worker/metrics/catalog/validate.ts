import type { DataDictionary } from '../../dictionary/load.ts';
import { ApiError } from '../../http/errors.ts';
import type { FieldProblem } from '../../http/errors.ts';
import type { Postgres } from '../../services/postgres.ts';
import { checkSql } from '../../sqlgen/safety.ts';
import { POSTGRES_METRIC_ROLE } from '../../sqlgen/allowlist.ts';
import type { SafetyPolicy } from '../../sqlgen/allowlist.ts';
import { compileNamedForPostgres, namedParameters } from '../../sqlgen/named-params.ts';
import { postgresMetricSqlProblem } from './postgres-sql.ts';
import type { MetricDefinition } from './store.ts';

const KNOWN_PARAMS = new Set(['start', 'end']);

/**
 * A definition is accepted only when it can run: lineage names real dictionary tables and
 * columns, the lakehouse query passes the safety layer, and the Postgres query reads only the
 * operational tables with allowlisted functions and plans (EXPLAIN in a read-only transaction,
 * as the metric role) against the app database.
 */
export async function validateDefinition(
  def: MetricDefinition,
  dictionary: DataDictionary,
  policy: SafetyPolicy,
  postgres: Pick<Postgres, 'batch'>,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  for (const [i, table] of def.lineage.tables.entries()) {
    if (!dictionary.table(table)) problems.push({ pointer: `body/lineage/tables/${i}`, message: `${table} is not a dictionary table` });
  }
  for (const [i, column] of def.lineage.columns.entries()) {
    const [table, name, extra] = column.split('.');
    if (!table || !name || extra !== undefined || !dictionary.column(table, name)) {
      problems.push({ pointer: `body/lineage/columns/${i}`, message: `${column} is not a dictionary column (table.column)` });
    }
  }
  for (const source of ['postgres', 'databricks'] as const) {
    const sql = def.queries[source];
    if (!sql) continue;
    const unknown = namedParameters(sql).filter((p) => !KNOWN_PARAMS.has(p));
    if (unknown.length > 0) problems.push({ pointer: `body/queries/${source}`, message: `unknown parameters: ${unknown.map((p) => `:${p}`).join(', ')}` });
  }
  if (def.queries.databricks) {
    const verdict = checkSql(def.queries.databricks, policy);
    if (!verdict.ok) problems.push({ pointer: 'body/queries/databricks', message: `${verdict.code}: ${verdict.detail}` });
  }
  const refused = def.queries.postgres ? postgresMetricSqlProblem(def.queries.postgres) : null;
  if (refused) problems.push({ pointer: 'body/queries/postgres', message: `not allowed: ${refused}` });
  else if (def.queries.postgres) {
    const { text, values } = compileNamedForPostgres(def.queries.postgres, { start: new Date(0), end: new Date() }, () => 'timestamptz');
    try {
      await postgres.batch([{ text: `SET LOCAL ROLE ${POSTGRES_METRIC_ROLE}` }, { text: `EXPLAIN ${text}`, params: values }], { readOnly: true });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      problems.push({ pointer: 'body/queries/postgres', message: `does not plan: ${message.slice(0, 300)}` });
    }
  }
  return problems;
}
