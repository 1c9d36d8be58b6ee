import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import type { WidgetData } from '../../worker/metrics/tile-data.ts';
import { authHeaders, deniedClaimsMetric, expectProblem, json } from './helpers.ts';

// What the database, the lakehouse or the environment say about a failure is for the log; a client
// gets the closed code and a sentence written for people.

const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

type Api = ReturnType<typeof createApi>;

async function send(api: Api, path: string, role: 'admin' | 'editor', init: { method?: string; body?: unknown } = {}, bindings: object = env) {
  const headers: Record<string, string> = { ...(await authHeaders(role)) };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const request = new Request(new URL(path, 'http://cc.test'), {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const ctx = createExecutionContext();
  const res = await api.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A window no other test asks about, so the answer comes from the source, not a cache. */
function freshWindow() {
  const end = new Date(Date.now() - Math.floor(Math.random() * 1e5) * 60_000);
  return { start: new Date(end.getTime() - 7 * 86_400_000).toISOString(), end: end.toISOString() };
}

describe('internal text never reaches a client', () => {
  it('a metric whose Postgres query fails at run time: the 500 and the tile say the sentence, not the database', async () => {
    const name = uid('fails_at_run_time');
    // It plans (so the catalog accepts it) and fails only when it runs: division by zero.
    const query = 'SELECT COUNT(*) / (COUNT(*) - COUNT(*)) AS value FROM claims WHERE opened_at >= :start AND opened_at < :end';
    const api = createApi({ routingText: `${routingYaml.trimEnd()}\n  ${name}: { source: postgres, cache_seconds: 60 }\n` });
    await json(await send(api, '/v1/metrics', 'admin', { method: 'POST', body: deniedClaimsMetric(name, { postgres: query }) }), 201);
    const widget = await json<{ id: string }>(
      await send(api, '/v1/widgets', 'editor', { method: 'POST', body: { title: 'Fails', metric: name, visualization: 'table', time_window: freshWindow() } }),
      201,
    );
    try {
      const problem = await expectProblem(await send(api, `/v1/widgets/${widget.id}/data`, 'editor', { method: 'POST' }), 500, 'internal_error');
      expect(problem.detail).not.toMatch(/division|zero|postgres/i);

      const state = await json<{ tiles: Array<{ widget: { id: string }; problem: string | null }> }>(await send(api, '/v1/dashboard/state', 'editor'));
      const tile = state.tiles.find((t) => t.widget.id === widget.id);
      expect(tile?.problem).toBe(problem.detail);
    } finally {
      await send(api, `/v1/widgets/${widget.id}`, 'editor', { method: 'DELETE' });
      await send(api, `/v1/metrics/${name}`, 'admin', { method: 'DELETE' });
    }
  });

  it("a degraded lakehouse tile gives a fixed reason, not the connection's error", async () => {
    const api = createApi();
    const widget = await json<{ id: string }>(
      await send(api, '/v1/widgets', 'editor', { method: 'POST', body: { title: 'Claims', metric: 'claim_volume', visualization: 'table', time_window: freshWindow() } }),
      201,
    );
    try {
      const data = await json<WidgetData>(await send(api, `/v1/widgets/${widget.id}/data`, 'editor', { method: 'POST' }, { ...env, DATABRICKS_HOST: 'http://127.0.0.1:9' }));
      expect(data.live_data_unavailable).toBe(true);
      expect(data.reason).toBe('Databricks is unavailable; try again shortly.');
    } finally {
      await send(api, `/v1/widgets/${widget.id}`, 'editor', { method: 'DELETE' });
    }
  });

  it('an invalid environment is config_invalid without naming the settings', async () => {
    const res = await createApi().request('/v1/metrics', {}, { ...env, DATABASE_URL: 'not a url', SESSION_TTL_SECONDS: 'soon' });
    const problem = await expectProblem(res, 500, 'config_invalid');
    expect(problem.detail).not.toMatch(/DATABASE_URL|SESSION_TTL_SECONDS|url/i);
  });
});
