import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem } from './helpers.ts';
import { HealthSchema } from '../../worker/routes/health.ts';
import { ListMetricsResponseSchema } from '../../worker/routes/metrics.ts';
import { getApi } from '../../worker/api.ts';

describe('health and readiness', () => {
  it('reports every dependency with its mode and status to a signed-in caller', async () => {
    const res = await call('/health', { headers: await authHeaders('viewer') });
    expect(res.status).toBe(200);
    const body = HealthSchema.parse(await res.json());
    expect(body.status).toBe('ok');
    expect(body.dependencies.postgres).toMatchObject({ mode: expect.stringMatching(/^(local|embedded)$/), status: 'ok' });
    expect(body.dependencies.redis).toMatchObject({ mode: expect.stringMatching(/^(local|embedded)$/), status: 'ok' });
    expect(body.dependencies.databricks).toMatchObject({ mode: 'local', status: 'ok' });
    expect(body.dependencies.bedrock).toMatchObject({ mode: 'local', status: 'ok' });
    expect(body.dependencies.redis.provider).toMatch(/Upstash REST stand-in/);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is ready when Postgres answers', async () => {
    const res = await call('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, postgres: { status: 'ok' } });
  });

  it('echoes a caller-supplied request id', async () => {
    const res = await call('/health', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
  });
});

describe('catalog', () => {
  it('lists the thirteen seeded metrics', async () => {
    const res = await call('/v1/metrics', { headers: await authHeaders('viewer') });
    expect(res.status).toBe(200);
    const { metrics } = ListMetricsResponseSchema.parse(await res.json());
    expect(metrics.map((m) => m.name).sort()).toEqual(
      [
        'agent_utilization',
        'avg_handle_time',
        'claim_status_mix',
        'claim_volume',
        'claims_by_product',
        'cost_avoided_mtd',
        'csat_avg',
        'first_contact_resolution',
        'issue_sessions_active',
        'nps_impact',
        'open_alerts',
        'repeat_contact_rate',
        'sla_breach_rate',
      ].sort(),
    );
    const cost = metrics.find((m) => m.name === 'cost_avoided_mtd');
    expect(cost?.queries.postgres).toBeTruthy();
    expect(cost?.queries.databricks).toMatch(/workspace\.support_l3\.claims/);
    for (const name of ['claim_volume', 'claims_by_product', 'claim_status_mix']) {
      expect(metrics.find((m) => m.name === name)?.queries.databricks).toBeTruthy();
    }
  });
});

describe('OpenAPI', () => {
  it('is OpenAPI 3.1 and documents every registered route', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(spec.openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(spec.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const registered = getApi()
      .routes.filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`);
    expect(registered.length).toBeGreaterThan(0);
    const missing = registered.filter((r) => !documented.has(r));
    expect(missing, 'every /v1 route must be declared with createRoute so it appears in the spec').toEqual([]);
    expect(documented.has('GET /health')).toBe(true);
  });

  it('renders human docs without scripts', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('/v1/metrics');
    expect(html).not.toContain('<script');
  });
});

describe('routing between API and site', () => {
  it('sends non-API paths to the site', async () => {
    const res = await call('/');
    expect(res.headers.get('x-served-by')).toBe('site');
  });

  it('answers unknown API paths with problem+json 404', async () => {
    await expectProblem(await call('/v1/nope'), 404, 'not_found');
  });

  it('sets security headers on API answers', async () => {
    const res = await call('/health');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const res = await call('/v1/metrics', { method: 'DELETE', headers: await authHeaders('admin') });
    const problem = await expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toContain('GET');
    expect(problem.request_id).toBe(res.headers.get('x-request-id'));
  });
});
