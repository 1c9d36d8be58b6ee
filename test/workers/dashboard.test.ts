import { describe, expect, it } from 'vitest';
import { authHeaders, call, expectProblem, json, newWidget } from './helpers.ts';

const put = async (body: unknown, role: 'editor' | 'viewer' | 'admin' = 'editor') =>
  call('/v1/dashboard/layout', { method: 'PUT', headers: { ...(await authHeaders(role)), 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('dashboard layout and state', () => {
  it('stores a layout with versions, refuses a stale write and foreign widgets', async () => {
    const a = await json<{ id: string }>(await newWidget('editor', { title: 'A', metric: 'claim_volume', visualization: 'kpi' }), 201);
    const b = await json<{ id: string }>(await newWidget('editor', { title: 'B', metric: 'csat_avg', visualization: 'line' }), 201);
    const current = await json<{ version: number }>(await call('/v1/dashboard/layout', { headers: await authHeaders('editor') }));
    const saved = await json<{ version: number; tiles: Array<{ widget_id: string }> }>(
      await put({ version: current.version, tiles: [{ widget_id: b.id, w: 6, h: 2 }, { widget_id: a.id, w: 3, h: 1 }] }),
    );
    expect(saved.version).toBe(current.version + 1);
    expect(saved.tiles.map((t) => t.widget_id)).toEqual([b.id, a.id]);
    // A second tab still holding the old version loses the race, visibly.
    await expectProblem(await put({ version: current.version, tiles: [{ widget_id: a.id, w: 3, h: 1 }] }), 409, 'conflict');
    const foreign = await json<{ id: string }>(await newWidget('admin', { title: 'X', metric: 'claim_volume', visualization: 'kpi' }), 201);
    await expectProblem(await put({ version: saved.version, tiles: [{ widget_id: foreign.id, w: 3, h: 1 }] }), 422, 'validation_failed');
    await expectProblem(await put({ version: saved.version, tiles: [{ widget_id: a.id, w: 99, h: 1 }] }), 422, 'validation_failed');
  });

  it('answers the KPI strip and the tiles in layout order in one call', async () => {
    // Place two tiles first, so the order check below has something to compare.
    const first = await json<{ id: string }>(await newWidget('editor', { title: 'S1', metric: 'claim_volume', visualization: 'kpi' }), 201);
    const second = await json<{ id: string }>(await newWidget('editor', { title: 'S2', metric: 'csat_avg', visualization: 'line' }), 201);
    const current = await json<{ version: number }>(await call('/v1/dashboard/layout', { headers: await authHeaders('editor') }));
    await json(await put({ version: current.version, tiles: [{ widget_id: second.id, w: 6, h: 2 }, { widget_id: first.id, w: 3, h: 1 }] }));
    const state = await json<{
      kpis: Array<{ metric: string; data: { source: string; as_of: string; delta?: unknown } }>;
      tiles: Array<{ widget: { id: string }; data: { source: string } | null }>;
      layout: { tiles: Array<{ widget_id: string }> };
    }>(await call('/v1/dashboard/state', { headers: await authHeaders('editor') }));
    expect(state.kpis.map((k) => k.metric)).toEqual(
      expect.arrayContaining(['nps_impact', 'claim_volume', 'cost_avoided_mtd', 'open_alerts']),
    );
    for (const k of state.kpis) {
      expect(['postgres', 'databricks']).toContain(k.data.source);
      expect(k.data.delta).toBeDefined();
    }
    const placed = state.layout.tiles.map((t) => t.widget_id);
    expect(placed).toEqual([second.id, first.id]);
    expect(state.tiles.slice(0, placed.length).map((t) => t.widget.id)).toEqual(placed);
  });
});
