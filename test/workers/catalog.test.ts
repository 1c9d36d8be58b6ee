import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { postgresMetricSqlProblem } from '../../worker/metrics/catalog/postgres-sql.ts';
import { invalidateCatalog } from '../../worker/metrics/catalog/snapshot.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { POSTGRES_METRIC_ROLE, POSTGRES_METRIC_TABLES } from '../../worker/sqlgen/allowlist.ts';
import { authHeaders, call, deniedClaimsMetric, expectProblem, json } from './helpers.ts';

const post = async (path: string, body: unknown, method = 'POST', api?: ReturnType<typeof createApi>) => {
  const init = { method, headers: { ...(await authHeaders('admin')), 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return api ? api.fetch(new Request(new URL(path, 'http://cc.test'), init), env, createExecutionContext()) : call(path, init);
};

/** A metric is added once the deployed routing names it: the worker as built with its route staged. */
const stagedFor = (name: string) => createApi({ routingText: `${routingYaml.trimEnd()}\n  ${name}: { source: postgres }\n` });

const definition = (name: string) => deniedClaimsMetric(name);

describe('catalog API', () => {
  it('gets one metric and 404s an unknown one', async () => {
    const m = await json<{ name: string; version: number }>(await call('/v1/metrics/claim_volume', { headers: await authHeaders('viewer') }));
    expect(m).toMatchObject({ name: 'claim_volume', version: 1 });
    await expectProblem(await call('/v1/metrics/no_such_metric', { headers: await authHeaders('viewer') }), 404, 'not_found');
    await expectProblem(await call('/v1/metrics/Bad-Name', { headers: await authHeaders('viewer') }), 422, 'validation_failed');
  });

  it('creates, changes with history, and retires a metric', async () => {
    const name = `denied_claims_${Date.now().toString(36)}`;
    const api = stagedFor(name);
    const created = await json<{ version: number }>(await post('/v1/metrics', definition(name), 'POST', api), 201);
    expect(created.version).toBe(1);
    await expectProblem(await post('/v1/metrics', definition(name), 'POST', api), 409, 'conflict');

    const changed = await json<{ version: number; display_name: string }>(
      await post(`/v1/metrics/${name}`, { display_name: 'Denied claims (window)' }, 'PATCH', api),
    );
    expect(changed).toMatchObject({ version: 2, display_name: 'Denied claims (window)' });
    const history = await json<{ versions: Array<{ version: number; definition: { display_name: string } }> }>(
      await call(`/v1/metrics/${name}/history`, { headers: await authHeaders('viewer') }),
    );
    expect(history.versions.map((v) => [v.version, v.definition.display_name])).toEqual([
      [2, 'Denied claims (window)'],
      [1, 'Denied claims'],
    ]);

    const retired = await json<{ retired_at: string | null }>(await call(`/v1/metrics/${name}`, { method: 'DELETE', headers: await authHeaders('admin') }));
    expect(retired.retired_at).toBeTruthy();
    const list = await json<{ metrics: Array<{ name: string }> }>(await call('/v1/metrics', { headers: await authHeaders('viewer') }));
    expect(list.metrics.map((m) => m.name)).not.toContain(name);
    await expectProblem(await post(`/v1/metrics/${name}`, { owner: 'x' }, 'PATCH', api), 409, 'conflict');
  });

  it('refuses definitions that cannot run, naming each problem', async () => {
    const bad = {
      ...definition(`broken_${Date.now().toString(36)}`),
      lineage: { tables: ['claims', 'payroll'], columns: ['claims.nope'] },
      queries: {
        postgres: 'SELECT COUNT(*) AS value FROM no_such_table',
        databricks: 'DROP TABLE workspace.support_l3.claims',
      },
    };
    const problem = await expectProblem(await post('/v1/metrics', bad), 422, 'validation_failed');
    const pointers = problem.errors?.map((e) => e.pointer) ?? [];
    expect(pointers).toEqual(
      expect.arrayContaining(['body/lineage/tables/1', 'body/lineage/columns/0', 'body/queries/databricks', 'body/queries/postgres']),
    );
    expect(problem.errors?.find((e) => e.pointer === 'body/queries/databricks')?.message).toMatch(/^not_select/);
  });

  it('refuses unknown fields, wrong types and a metric without queries', async () => {
    await expectProblem(await post('/v1/metrics', { ...definition('x_metric'), sql: 'SELECT 1' }), 422, 'validation_failed');
    await expectProblem(await post('/v1/metrics', { ...definition('x_metric'), unit: 'parsecs' }), 422, 'validation_failed');
    await expectProblem(await post('/v1/metrics', { ...definition('x_metric'), queries: {} }), 422, 'validation_failed');
  });
});

/** The app database directly, as a migration or an operator would reach it. */
async function withDatabase<T>(work: (db: ReturnType<typeof createPostgres>) => Promise<T>): Promise<T> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

describe('Postgres metric queries', () => {
  it.each([
    ['SELECT length(password_hash) AS value FROM users', 'table users'],
    ['SELECT COUNT(*) AS value FROM claims WHERE pg_sleep(5) IS NOT NULL', 'function pg_sleep'],
    ["SELECT COUNT(*) AS value FROM claims WHERE set_config('statement_timeout', '0', false) IS NOT NULL", 'function set_config'],
    ['SELECT COUNT(*) AS value FROM claims WHERE pg_advisory_lock(7413002) IS NOT NULL', 'function pg_advisory_lock'],
    ['SELECT COUNT(*) AS value FROM claims WHERE pg_terminate_backend(1)', 'function pg_terminate_backend'],
  ])('refuses %s at write time, naming %s', async (postgres, named) => {
    const name = `guarded_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
    const res = await post('/v1/metrics', { ...definition(name), queries: { postgres } }, 'POST', stagedFor(name));
    const problem = await expectProblem(res, 422, 'validation_failed');
    const message = problem.errors?.find((e) => e.pointer === 'body/queries/postgres')?.message ?? '';
    expect(message).toContain(named);
    await expectProblem(await call(`/v1/metrics/${name}`, { headers: await authHeaders('viewer') }), 404, 'not_found');
  });

  it('accepts every Postgres query the catalog holds after the migrations', async () => {
    const { metrics } = await json<{ metrics: Array<{ name: string; queries: { postgres?: string } }> }>(
      await call('/v1/metrics', { headers: await authHeaders('viewer') }),
    );
    const postgres = metrics.filter((m) => m.queries.postgres);
    expect(postgres.map((m) => m.name)).toContain('cost_avoided_mtd');
    for (const m of postgres) expect(postgresMetricSqlProblem(m.queries.postgres!), m.name).toBeNull();
  });

  it('runs as a role that can read only the operational tables', async () => {
    const grants = await withDatabase((db) =>
      db.query<{ table_name: string }>(
        `SELECT DISTINCT table_name FROM information_schema.role_table_grants WHERE grantee = $1 ORDER BY table_name`,
        [POSTGRES_METRIC_ROLE],
      ),
    );
    expect(grants.map((g) => g.table_name)).toEqual([...POSTGRES_METRIC_TABLES].sort());

    // A definition stored before the write-time check (or slipped past it) still cannot read users.
    const name = `legacy_${Date.now().toString(36)}`;
    const api = stagedFor(name);
    await json(await post('/v1/metrics', definition(name), 'POST', api), 201);
    await withDatabase((db) => db.query(`UPDATE metrics SET queries = jsonb_build_object('postgres', 'SELECT COUNT(*) AS value FROM users') WHERE name = $1`, [name]));
    invalidateCatalog();
    const editor = { ...(await authHeaders('editor')), 'content-type': 'application/json' };
    const send = (path: string, init: RequestInit) => api.fetch(new Request(new URL(path, 'http://cc.test'), init), env, createExecutionContext());
    const widget = await json<{ id: string }>(
      await send('/v1/widgets', { method: 'POST', headers: editor, body: JSON.stringify({ title: 'Legacy', metric: name, visualization: 'kpi', time_window: { preset: '24h' } }) }),
      201,
    );
    try {
      const res = await send(`/v1/widgets/${widget.id}/data`, { method: 'POST', headers: editor });
      const text = await res.text();
      expect(res.status, text).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(text).not.toMatch(/"rows"/);
    } finally {
      await send(`/v1/widgets/${widget.id}`, { method: 'DELETE', headers: editor });
      await post(`/v1/metrics/${name}`, undefined, 'DELETE', api);
    }
  });
});
