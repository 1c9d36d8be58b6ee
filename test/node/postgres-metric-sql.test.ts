import { describe, expect, it } from 'vitest';
import { postgresMetricSqlProblem } from '../../worker/metrics/catalog/postgres-sql.ts';
import { checkSql, policyFromTables } from '../../worker/sqlgen/safety.ts';
import { seededMetrics } from './catalog-fixture.ts';

// What the seed's cost_avoided_mtd query reads as after migration 0013 (the grammar cannot read
// `date_trunc(...) AT TIME ZONE 'UTC'`; the three-argument date_trunc says the same).
const COST_AVOIDED_MTD =
  "SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM claims WHERE opened_at >= date_trunc('month', now(), 'UTC') AND opened_at < now()";

describe('Postgres metric queries', () => {
  it('admit the seeded catalog and ordinary analytical SQL', () => {
    const seeded = seededMetrics()
      .filter((m) => m.queries.postgres && m.name !== 'cost_avoided_mtd')
      .map((m) => m.queries.postgres!);
    expect(seeded.length).toBeGreaterThan(5);
    for (const sql of [
      ...seeded,
      COST_AVOIDED_MTD,
      'WITH recent AS (SELECT * FROM claims WHERE opened_at >= :start) SELECT region AS label, COUNT(*) AS value FROM recent GROUP BY region',
      "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY claim_cost) AS value FROM public.claims WHERE status = 'it''s'",
      "SELECT COUNT(*) AS value FROM events WHERE payload->>'region' = 'EMEA' AND occurred_at >= :start AND occurred_at < :end",
      'SELECT AVG(EXTRACT(epoch FROM resolved_at - started_at)) AS value FROM issue_sessions s JOIN devices d ON d.device_id = s.device_id',
      'SELECT COUNT(*) AS value FROM alerts WHERE resolved_at IS NULL AND opened_at > now() - INTERVAL \'1 day\'',
    ]) {
      expect(postgresMetricSqlProblem(sql), sql).toBeNull();
    }
  });

  it.each([
    ['SELECT length(password_hash) AS value FROM users', 'table users'],
    ['SELECT COUNT(*) AS value FROM api_tokens', 'table api_tokens'],
    ['SELECT COUNT(*) AS value FROM claims WHERE customer_id IN (SELECT email FROM users)', 'table users'],
    ['SELECT COUNT(*) AS value FROM pg_catalog.pg_user', 'table pg_catalog.pg_user'],
    ['SELECT COUNT(*) AS value FROM information_schema.tables', 'information_schema.tables'],
    ['SELECT COUNT(*) AS value FROM metrics', 'table metrics'],
    ['SELECT COUNT(*) AS value FROM other_db.public.claims', 'claims'],
    ['SELECT pg_sleep(10) AS value', 'pg_sleep'],
    ['SELECT COUNT(*) AS value FROM claims WHERE pg_sleep(1) IS NOT NULL', 'pg_sleep'],
    ["SELECT set_config('role', 'postgres', false) AS value", 'set_config'],
    ['SELECT pg_advisory_lock(42) AS value', 'pg_advisory_lock'],
    ['SELECT pg_terminate_backend(1) AS value', 'pg_terminate_backend'],
    ['SELECT "pg_sleep"(1) AS value', 'pg_sleep'],
    ['SELECT pg_catalog.now() AS value', 'pg_catalog.now'],
    ['SELECT lo_import(1) AS value', 'lo_import'],
    ['SELECT x AS value FROM generate_series(1, 10) x', 'generate_series'],
    ['SELECT user AS value', 'user'],
    ['SELECT $1 AS value', '$'],
    ['SELECT $$x$$ AS value FROM claims', '$'],
    ["SELECT '\\' , pg_sleep(1), '\\' AS value FROM claims", 'backslash'],
    ['SELECT 1 AS value FROM claims; SELECT 1', 'one statement'],
    ['SELECT 1 AS value /* /* */ , pg_sleep(1) */ FROM claims', 'comments'],
    ['DELETE FROM claims', 'only select'],
    ['SELECT 1 AS value FROM claims FOR UPDATE', 'could not be read'],
  ])('refuse %s, naming %s', (sql, named) => {
    const problem = postgresMetricSqlProblem(sql);
    expect(problem).not.toBeNull();
    expect(problem!.toLowerCase()).toContain(named.toLowerCase());
  });

  it('leave the lakehouse layer as it was', () => {
    const policy = policyFromTables(['claims']);
    expect(checkSql('SELECT COUNT(*) FROM users', policy)).toMatchObject({ ok: false, code: 'table_not_allowed', detail: 'table users is not in workspace.support_l3\'s allowlist' });
    expect(checkSql('SELECT COUNT(*) FROM claims', policy)).toMatchObject({ ok: true });
  });
});
