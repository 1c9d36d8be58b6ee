import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
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
