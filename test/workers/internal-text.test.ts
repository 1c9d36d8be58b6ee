import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import type { WidgetData } from '../../worker/metrics/tile-data.ts';
import { expectProblem, json } from './helpers.ts';
import { FAILS_WHEN_RUN, freshWindow, send, withPostgresMetric } from './staged-metric.ts';

// What the database, the lakehouse or the environment say about a failure is for the log; a client
// gets the closed code and a sentence written for people.

describe('internal text never reaches a client', () => {
  it('a metric whose Postgres query fails at run time: the 500 and the tile say the sentence, not the database', async () => {
    await withPostgresMetric(FAILS_WHEN_RUN, '', async ({ api, widget }) => {
      const id = await widget('table');
      const problem = await expectProblem(await send(api, `/v1/widgets/${id}/data`, 'editor', { method: 'POST' }), 500, 'internal_error');
      expect(problem.detail).not.toMatch(/division|zero|postgres/i);

      const state = await json<{ tiles: Array<{ widget: { id: string }; problem: string | null }> }>(await send(api, '/v1/dashboard/state', 'editor'));
      expect(state.tiles.find((t) => t.widget.id === id)?.problem).toBe(problem.detail);
    });
  });

  it("a degraded lakehouse tile gives a fixed reason, not the connection's error", async () => {
    const api = createApi();
    const body = { title: 'Claims', metric: 'claim_volume', visualization: 'table', time_window: freshWindow() };
    const { id } = await json<{ id: string }>(await send(api, '/v1/widgets', 'editor', { method: 'POST', body }), 201);
    try {
      const data = await json<WidgetData>(await send(api, `/v1/widgets/${id}/data`, 'editor', { method: 'POST' }, { ...env, DATABRICKS_HOST: 'http://127.0.0.1:9' }));
      expect(data.live_data_unavailable).toBe(true);
      expect(data.reason).toBe('Databricks is unavailable; try again shortly.');
    } finally {
      await send(api, `/v1/widgets/${id}`, 'editor', { method: 'DELETE' });
    }
  });

  it("readyz says Postgres cannot be reached, not the driver's error", async () => {
    const res = await createApi().request('/readyz', {}, { ...env, NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql' });
    expect((await expectProblem(res, 503, 'postgres_unavailable')).detail).toBe('Not ready: Postgres cannot be reached.');
  });

  it('an invalid environment is config_invalid without naming the settings', async () => {
    const res = await createApi().request('/v1/metrics', {}, { ...env, DATABASE_URL: 'not a url', SESSION_TTL_SECONDS: 'soon' });
    const problem = await expectProblem(res, 500, 'config_invalid');
    expect(problem.detail).not.toMatch(/DATABASE_URL|SESSION_TTL_SECONDS|url/i);
  });
});
