import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { HealthSchema } from '../../worker/routes/health.ts';
import { control, expectProblem } from './helpers.ts';

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
  it('health names each failure instead of failing itself', async () => {
    const res = await withDeadDependencies()('/health');
    expect(res.status).toBe(200);
    const body = HealthSchema.parse(await res.json());
    expect(body.status).toBe('down');
    expect(body.dependencies.postgres.status).toBe('down');
    expect(body.dependencies.redis.status).toBe('down');
    expect(body.dependencies.databricks.status).toBe('down');
    expect(body.dependencies.postgres.detail).toBeTruthy();
  });

  it('health tells a slow lakehouse from a dead one', async () => {
    await control('/databricks/faults', { latencyMs: 1_500 });
    try {
      const started = Date.now();
      const res = await createApi().request('/health', {}, { ...env, HEALTH_TIMEOUT_MS: '300' });
      expect(Date.now() - started).toBeLessThan(1_200);
      const body = HealthSchema.parse(await res.json());
      expect(body.dependencies.databricks).toMatchObject({ status: 'slow', detail: 'no answer within 300 ms' });
      expect(body.dependencies.postgres.status).toBe('ok');
      expect(body.status).toBe('degraded');
    } finally {
      await control('/databricks/clear');
    }
  });

  it('readyz is 503 postgres_unavailable', async () => {
    await expectProblem(await withDeadDependencies()('/readyz'), 503, 'postgres_unavailable');
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
    const res = await api.request('/health', {}, {
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
