import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem, json, newWidget } from './helpers.ts';

describe('widgets', () => {
  it('are created for catalog metrics with the metric block embedded, and listed per user', async () => {
    const w = await json<{ id: string; metric: { name: string; version: number; unit: string } }>(
      await newWidget('editor', { title: 'Claims', metric: 'claim_volume', visualization: 'kpi', time_window: { preset: '7d' } }),
      201,
    );
    expect(w.metric).toMatchObject({ name: 'claim_volume', version: 1, unit: 'count' });
    const mine = await json<{ widgets: Array<{ id: string }> }>(await call('/v1/widgets', { headers: await authHeaders('editor') }));
    expect(mine.widgets.map((x) => x.id)).toContain(w.id);
    const theirs = await json<{ widgets: Array<{ id: string }> }>(await call('/v1/widgets', { headers: await authHeaders('admin') }));
    expect(theirs.widgets.map((x) => x.id)).not.toContain(w.id);
  });

  it('answer 404, not 403, for another user’s widget', async () => {
    const w = await json<{ id: string }>(await newWidget('editor', { title: 'Mine', metric: 'claim_volume', visualization: 'bar' }), 201);
    await expectProblem(await call(`/v1/widgets/${w.id}`, { headers: await authHeaders('admin') }), 404, 'not_found');
    await expectProblem(await call(`/v1/widgets/${w.id}/data`, { method: 'POST', headers: await authHeaders('viewer') }), 404, 'not_found');
    const del = await call(`/v1/widgets/${w.id}`, { method: 'DELETE', headers: await authHeaders('admin') });
    await expectProblem(del, 404, 'not_found');
  });

  it('refuse filters outside the dictionary, wrong types, unknown values and huge windows', async () => {
    const base = { title: 'x', metric: 'claim_volume', visualization: 'kpi' };
    const cases = [
      { filters: [{ column: 'password', op: 'eq', value: 'x' }] },
      { filters: [{ column: 'region', op: 'eq', value: 42 }] },
      { filters: [{ column: 'region', op: 'eq', value: 'Atlantis' }] },
      { filters: [{ column: 'region', op: 'eq', value: "EMEA' OR 1=1 --" }] },
      { time_window: { start: '2020-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' } },
      { time_window: { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' } },
      { metric: 'no_such_metric' },
      { sql: 'SELECT 1' },
    ];
    for (const extra of cases) {
      const res = await newWidget('editor', { ...base, ...extra });
      expect([404, 422], JSON.stringify(extra)).toContain(res.status);
      await res.text();
    }
  });

  it('are changed and deleted by their owner', async () => {
    const w = await json<{ id: string }>(await newWidget('editor', { title: 'Before', metric: 'csat_avg', visualization: 'line' }), 201);
    const changed = await json<{ title: string; visualization: string }>(
      await call(`/v1/widgets/${w.id}`, {
        method: 'PATCH',
        headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'After', visualization: 'kpi' }),
      }),
    );
    expect(changed).toMatchObject({ title: 'After', visualization: 'kpi' });
    expect((await call(`/v1/widgets/${w.id}`, { method: 'DELETE', headers: await authHeaders('editor') })).status).toBe(200);
    await expectProblem(await call(`/v1/widgets/${w.id}`, { headers: await authHeaders('editor') }), 404, 'not_found');
  });
});
