import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import { authHeaders, call, deniedClaimsMetric, expectProblem, json } from './helpers.ts';

// One metric the deployed routing does not know must never take the other routes down.
const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

const definition = (name: string) =>
  deniedClaimsMetric(name, { postgres: "SELECT COUNT(*) AS value FROM claims WHERE status = 'denied' AND opened_at >= :start AND opened_at < :end" });

/** The worker as it would be after a deploy that staged a route for `name`. */
const staged = (name: string) => createApi({ routingText: `${routingYaml.trimEnd()}\n  ${name}: { source: postgres, cache_seconds: 60 }\n` });

async function send(api: ReturnType<typeof createApi> | null, path: string, role: 'admin' | 'editor' | 'viewer', init: { method?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { ...(await authHeaders(role)) };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const request = { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) };
  if (!api) return call(path, request);
  return api.fetch(new Request(new URL(path, 'http://cc.test'), request), env, createExecutionContext());
}

describe('one metric without a route', () => {
  it('is refused at create with what to add to the routing file, and nothing is stored', async () => {
    const name = uid('unrouted');
    const problem = await expectProblem(await send(null, '/v1/metrics', 'admin', { method: 'POST', body: definition(name) }), 422, 'validation_failed');
    const routing = problem.errors?.find((e) => e.pointer === 'config/metric_routing.yaml');
    expect(routing?.message).toContain(`${name}: { source: postgres }`);
    await expectProblem(await send(null, `/v1/metrics/${name}`, 'viewer'), 404, 'not_found');
  });

  it('is refused at a patch that drops its routed source query, and the stored definition stays', async () => {
    const name = uid('staged');
    const api = staged(name);
    await json(await send(api, '/v1/metrics', 'admin', { method: 'POST', body: definition(name) }), 201);
    try {
      const patch = { queries: { databricks: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end" } };
      const problem = await expectProblem(await send(api, `/v1/metrics/${name}`, 'admin', { method: 'PATCH', body: patch }), 422, 'validation_failed');
      expect(problem.errors?.map((e) => e.message).join(' ')).toMatch(/routed to postgres but has no postgres query/);
      const kept = await json<{ version: number; queries: { postgres?: string } }>(await send(api, `/v1/metrics/${name}`, 'viewer'));
      expect(kept.version).toBe(1);
      expect(kept.queries.postgres).toBe(definition(name).queries.postgres);
    } finally {
      await send(api, `/v1/metrics/${name}`, 'admin', { method: 'DELETE' });
    }
  });

  it('fails only its own tiles, named, when the catalog has it and the routing does not', async () => {
    const name = uid('orphan');
    const api = staged(name);
    await json(await send(api, '/v1/metrics', 'admin', { method: 'POST', body: definition(name) }), 201);
    const orphan = await json<{ id: string }>(
      await send(api, '/v1/widgets', 'editor', { method: 'POST', body: { title: 'Orphan', metric: name, visualization: 'kpi', time_window: { preset: '24h' } } }),
      201,
    );
    const healthy = await json<{ id: string }>(
      await send(null, '/v1/widgets', 'editor', { method: 'POST', body: { title: 'Open alerts', metric: 'open_alerts', visualization: 'kpi', time_window: { preset: '24h' } } }),
      201,
    );
    try {
      // The deployed worker (no route for the new metric): everything else answers.
      const tile = await expectProblem(await send(null, `/v1/widgets/${orphan.id}/data`, 'editor', { method: 'POST' }), 503, 'routing_invalid');
      expect(tile.detail).toContain(name);
      await json(await send(null, `/v1/widgets/${healthy.id}/data`, 'editor', { method: 'POST' }));
      const state = await json<{ tiles: Array<{ widget: { id: string }; problem: string | null; data: unknown }> }>(await send(null, '/v1/dashboard/state', 'editor'));
      expect(state.tiles.find((t) => t.widget.id === orphan.id)?.problem).toContain(name);
      expect(state.tiles.find((t) => t.widget.id === healthy.id)?.data).not.toBeNull();
      // Producers' events are still taken (and the alert they open is closed again).
      const alertId = uid('alert');
      const at = new Date().toISOString();
      const events = [
        { event_id: uid('evt'), type: 'alert.opened', occurred_at: at, data: { alert_id: alertId, severity: 'info', title: 'Routing isolation check' } },
        { event_id: uid('evt'), type: 'alert.resolved', occurred_at: at, data: { alert_id: alertId } },
      ];
      const ingest = await json<{ results: Array<{ status: string }> }>(await send(null, '/v1/events', 'editor', { method: 'POST', body: { events } }));
      expect(ingest.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    } finally {
      await send(null, `/v1/widgets/${orphan.id}`, 'editor', { method: 'DELETE' });
      await send(null, `/v1/widgets/${healthy.id}`, 'editor', { method: 'DELETE' });
      await send(api, `/v1/metrics/${name}`, 'admin', { method: 'DELETE' });
    }
  });
});
