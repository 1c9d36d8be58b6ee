import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { HealthSchema } from '../../worker/routes/health.ts';
import { authHeaders, control, expectProblem } from './helpers.ts';

/** The same API with its dependencies pointed at ports where nothing listens. */
function withDeadDependencies() {
  const api = createApi();
  const bindings = {
    ...env,
    NEON_WS_PROXY: '127.0.0.1:9/v2',
    NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
    UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
    DATABRICKS_HOST: 'http://127.0.0.1:9',
    HEALTH_TIMEOUT_MS: '1500',
  };
  return (path: string) => api.request(path, {}, bindings);
}

describe('when dependencies are down', () => {
  it('health names each failure instead of failing itself, and keeps the reasons from anonymous callers', async () => {
    const res = await withDeadDependencies()('/health');
    expect(res.status).toBe(200);
    const body = HealthSchema.parse(await res.json());
    expect(body.status).toBe('down');
    expect(body.dependencies.postgres).toEqual({ status: 'down' });
    expect(body.dependencies.redis).toEqual({ status: 'down' });
    expect(body.dependencies.databricks).toEqual({ status: 'down' });
  });

  // Each test below has its own HEALTH_TIMEOUT_MS: one round of probes answers every call with the
  // same configuration for a few seconds.
  it('health tells a slow lakehouse from a dead one, with the reason for a signed-in caller', async () => {
    const headers = await authHeaders('viewer');
    await control('/databricks/faults', { responseDelayMs: 1_500 });
    try {
      const started = Date.now();
      const res = await createApi().request('/health', { headers }, { ...env, HEALTH_TIMEOUT_MS: '300' });
      expect(Date.now() - started).toBeLessThan(1_200);
      const body = HealthSchema.parse(await res.json());
      expect(body.dependencies.databricks).toMatchObject({ status: 'slow', detail: 'no answer within 300 ms' });
      expect(body.dependencies.postgres.status).toBe('ok');
      expect(body.status).toBe('degraded');
    } finally {
      await control('/databricks/clear');
    }
  });

  it('health reads the warehouse state instead of running a statement on it', async () => {
    // Statements now wait 1.5 s before they run: a probe that ran one would be slow.
    await control('/databricks/faults', { latencyMs: 1_500 });
    try {
      const res = await createApi().request('/health', { headers: await authHeaders('viewer') }, { ...env, HEALTH_TIMEOUT_MS: '400' });
      const body = HealthSchema.parse(await res.json());
      expect(body.dependencies.databricks).toMatchObject({ status: 'ok', detail: expect.stringContaining('RUNNING') });
    } finally {
      await control('/databricks/clear');
    }
  });

  it('readyz is 503 postgres_unavailable, without the error text for an anonymous caller', async () => {
    const problem = await expectProblem(await withDeadDependencies()('/readyz'), 503, 'postgres_unavailable');
    expect(problem.detail).toBe('Not ready: Postgres cannot be reached.');
  });

  it('routes that need Postgres answer 503 with a code', async () => {
    // An API token is looked up in Postgres, so even identifying the caller needs it.
    const res = await createApi().request(
      '/v1/metrics',
      { headers: { authorization: `Bearer cc_${'a'.repeat(43)}` } },
      { ...env, NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql' },
    );
    await expectProblem(res, 503, 'postgres_unavailable');
  });

  it('reports Redis and Databricks as disabled when not configured', async () => {
    const api = createApi();
    const res = await api.request('/health', { headers: await authHeaders('viewer') }, {
      ...env,
      UPSTASH_REDIS_REST_URL: '',
      DATABRICKS_HOST: '',
      AWS_ACCESS_KEY_ID: '',
    });
    const body = HealthSchema.parse(await res.json());
    expect(body.dependencies.redis).toMatchObject({ mode: 'disabled', status: 'disabled' });
    expect(body.dependencies.databricks).toMatchObject({ mode: 'disabled', status: 'disabled' });
    expect(body.dependencies.bedrock).toMatchObject({ mode: 'disabled', status: 'disabled' });
    expect(body.status).toBe('ok');
  });
});
