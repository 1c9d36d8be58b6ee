import { describe, expect, it } from 'vitest';
import { BUNDLED_ROUTING_YAML } from '../../worker/config/bundled.ts';
import { agentRoutes } from '../../worker/routes/agents.ts';
import { analyticsRoutes } from '../../worker/routes/analytics.ts';
import { callRoutes } from '../../worker/routes/calls.ts';
import { filterOptionRoutes } from '../../worker/routes/filters.ts';
import { call, expectProblem, json, localIdentities, routeTestApp } from './helpers.ts';
import { freshWindow, query, viewerFetch, viewerGet } from './analytics-helpers.ts';
import type { CallsPage, Meta } from './analytics-helpers.ts';

interface Entry {
  key: string;
  name: string;
  team: string | null;
  contacts: number;
  eligible: boolean;
  measures: Record<string, { value: number | null; rank: number | null; percentile: number | null; badge: string | null }>;
}
interface Board { data: Entry[] | null; meta: Meta & { min_contacts: number; group: string } }

describe('GET /v1/agents', () => {
  it('ranks eligible agents by each measure’s direction, with badges, and leaves low-volume agents unranked', async () => {
    const w = freshWindow(14);
    // A minimum that about a third of the agents miss.
    const volumes = (await viewerGet<Board>(`/v1/agents?${query({ ...w, min_contacts: 1 })}`)).data!.map((e) => e.contacts).sort((a, b) => a - b);
    const min = volumes[Math.floor(volumes.length / 3)]! + 1;
    const board = await viewerGet<Board>(`/v1/agents?${query({ ...w, min_contacts: min, sort: '-csat_avg' })}`);
    const entries = board.data!;
    expect(board.meta).toMatchObject({ min_contacts: min, group: 'agent', window: w });
    const eligible = entries.filter((e) => e.eligible);
    const ineligible = entries.filter((e) => !e.eligible);
    expect(eligible.length).toBeGreaterThan(4);
    expect(ineligible.length).toBeGreaterThan(0);
    for (const e of ineligible) {
      expect(e.contacts).toBeLessThan(min);
      expect(e.measures.csat_avg!.rank).toBeNull();
      expect(e.measures.csat_avg!.badge).toBeNull();
    }
    // Sorted by CSAT, eligible first: ranks follow, ties share a rank.
    expect(entries.slice(0, eligible.length).every((e) => e.eligible)).toBe(true);
    const ranks = eligible.map((e) => e.measures.csat_avg!.rank!);
    expect(ranks[0]).toBe(1);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    const best = eligible[0]!;
    expect(best.measures.csat_avg!.badge).toBe('top_10_percent');
    expect(eligible.at(-1)!.measures.csat_avg!.badge).toBe('bottom_quartile');
    // Handle time is better lower: its rank 1 holds the smallest value.
    const fastest = eligible.find((e) => e.measures.avg_handle_time!.rank === 1)!;
    expect(Math.min(...eligible.map((e) => e.measures.avg_handle_time!.value!))).toBe(fastest.measures.avg_handle_time!.value);
    expect(entries.every((e) => typeof e.name === 'string' && e.name !== e.key)).toBe(true);
    // Every contact is someone's: the board adds up to the list's total.
    const total = (await viewerGet<CallsPage>(`/v1/calls?${query({ ...w, 'page[size]': 1 })}`)).meta.total;
    expect(entries.reduce((n, e) => n + e.contacts, 0)).toBe(total);
  });

  it('ranks teams under the same filters and sorts by name', async () => {
    const board = await viewerGet<Board>(`/v1/agents?${query({ ...freshWindow(30), group: 'team', channel: 'call', sort: 'name' })}`);
    expect(board.data!.map((e) => e.key)).toEqual(['claims', 'connectivity', 'devices', 'escalations']);
    expect(board.meta.filters).toEqual({ channel: 'call' });
    expect(board.data!.every((e) => e.eligible && e.measures.first_contact_resolution!.rank !== null)).toBe(true);
  });

  it('refuses bad parameters', async () => {
    await expectProblem(await viewerFetch('/v1/agents?min_contacts=0'), 422, 'validation_failed');
    await expectProblem(await viewerFetch('/v1/agents?group=region'), 422, 'validation_failed');
    await expectProblem(await viewerFetch('/v1/agents?sort=-nps'), 422, 'validation_failed');
  });
});

describe('GET /v1/filters/options', () => {
  it('offers the values in the data with their volumes, the agents, ranges and date bounds, from the cache the second time', async () => {
    const first = await viewerGet<{
      data: { regions: Array<{ value: string; contacts: number }>; channels: Array<{ value: string }>; issue_types: unknown[]; teams: unknown[]; agents: Array<{ agent_id: string; name: string }>; ranges: { csat: { min: number; max: number }; handle_seconds: { min: number; max: number } }; date_bounds: { first_contact: string; last_contact: string } };
      meta: { cache: string; source: string; live_data_unavailable: boolean };
    }>('/v1/filters/options');
    expect(first.meta).toMatchObject({ source: 'databricks', live_data_unavailable: false });
    expect(new Set(first.data.regions.map((r) => r.value))).toEqual(new Set(['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM']));
    expect(first.data.channels.map((c) => c.value).sort()).toEqual(['app', 'call', 'chat', 'email']);
    expect(first.data.issue_types).toHaveLength(8);
    expect(first.data.teams).toHaveLength(4);
    expect(first.data.agents.length).toBeGreaterThan(10);
    expect(first.data.ranges.csat).toEqual({ min: 1, max: 5 });
    expect(first.data.ranges.handle_seconds.max).toBeGreaterThan(first.data.ranges.handle_seconds.min);
    expect(Date.parse(first.data.date_bounds.last_contact)).toBeGreaterThan(Date.parse(first.data.date_bounds.first_contact));
    const second = await viewerGet<{ meta: { cache: string } }>('/v1/filters/options');
    expect(second.meta.cache).toBe('hit');
    await expectProblem(await viewerFetch('/v1/filters/options?region=EMEA'), 422, 'validation_failed');
    await expectProblem(await call('/v1/filters/options'), 401, 'unauthenticated');
  });
});

describe('with the lakehouse unreachable', () => {
  // A warehouse address nobody listens on: this app's statements fail, nobody else's.
  const down = { DATABRICKS_HOST: 'http://127.0.0.1:9' };
  const mount = async () => {
    const viewer = (await localIdentities()).get('viewer')!;
    return routeTestApp((app) => app.use('*', (c, next) => (c.set('routingText', BUNDLED_ROUTING_YAML), next())).route('/', callRoutes).route('/', agentRoutes).route('/', analyticsRoutes).route('/', filterOptionRoutes), viewer, down);
  };

  it('aggregates answer 200 with the amber state and the reason; lists answer 503 databricks_unavailable', async () => {
    const request = await mount();
    // A window no answer was cached for.
    const w = freshWindow(9);
    for (const path of [`/v1/analytics/summary?${query(w)}`, `/v1/analytics/breakdowns?${query({ ...w, by: 'team' })}`, `/v1/analytics/trends?${query(w)}`, `/v1/agents?${query(w)}`]) {
      const body = await json<{ data: unknown; meta: Meta }>(await request(path));
      expect(body.data, path).toBeNull();
      expect(body.meta, path).toMatchObject({ live_data_unavailable: true, cache: 'bypass' });
      expect(body.meta.reason, path).toMatch(/Databricks/);
    }
    await expectProblem(await request(`/v1/calls?${query(w)}`), 503, 'databricks_unavailable');
    await expectProblem(await request(`/v1/calls/export?${query(w)}`), 503, 'databricks_unavailable');
    await expectProblem(await request('/v1/calls/INT-0000042'), 503, 'databricks_unavailable');
  });

  it('filter options fall back to the dictionary’s values, labelled', async () => {
    const request = await mount();
    const body = await json<{ data: { regions: Array<{ value: string; contacts: null }> }; meta: { source: string; live_data_unavailable: boolean } }>(await request('/v1/filters/options'));
    // The isolate may hold a live answer from another test; either way it says which it is.
    if (body.meta.source === 'dictionary') {
      expect(body.meta.live_data_unavailable).toBe(true);
      expect(body.data.regions.map((r) => r.value)).toEqual(['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM']);
    } else expect(body.meta.live_data_unavailable).toBe(false);
  });
});
