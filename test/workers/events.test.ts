import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { authHeaders, expectProblem, json, listen as listenVia } from './helpers.ts';

const config = () => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
};

let n = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${++n}`;
// Dashboards of this file's own, configured for its app, so its hubs never share state.
const boards = Array.from({ length: 16 }, (_, i) => `ev${Date.now().toString(36)}-${i}`);
let nextBoard = 0;
const dashboard = () => boards[nextBoard++]!;
const api = createApi();
const bindings = { ...env, DASHBOARDS: ['default', ...boards].join(',') };
const call = (path: string, init?: RequestInit) => api.request(path, init, bindings);

async function ingest(body: unknown, board: string, role: 'editor' | 'viewer' = 'editor') {
  return call(`/v1/events?dashboard=${board}`, {
    method: 'POST',
    headers: { ...(await authHeaders(role)), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const claimFiled = (claimId = uid('K')) => ({
  event_id: uid('evt'),
  type: 'claim.filed',
  occurred_at: new Date().toISOString(),
  data: { claim_id: claimId, customer_id: 'C00001', product: 'Total Protection', claim_type: 'damage', region: 'EMEA', claim_cost: 240.5, cost_avoided: 120 },
});

const listen = (board: string) => listenVia(board, call);

describe('event ingest', () => {
  it('stores an event once, publishes it and the KPIs it moved to the hub', async () => {
    const board = dashboard();
    const socket = await listen(board);
    const event = claimFiled();
    const first = await json<{ results: Array<{ status: string; seq: number | null }> }>(await ingest(event, board));
    expect(first.results[0]).toMatchObject({ status: 'applied', seq: expect.any(Number) });
    await socket.until(() => socket.messages.some((m) => m.type === 'kpi_update' && m.data?.metric === 'cost_avoided_mtd'));
    const published = socket.messages.find((m) => m.type === 'event');
    expect(published?.data).toMatchObject({ event_id: event.event_id, event_type: 'claim.filed', claim_id: event.data.claim_id });

    const retry = await json<{ results: Array<{ status: string; seq: number | null }> }>(await ingest(event, board));
    expect(retry.results[0]).toEqual({ event_id: event.event_id, status: 'duplicate', seq: first.results[0]!.seq });
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.messages.filter((m) => m.type === 'event')).toHaveLength(1);
  });

  it('stores a batch of new events without opening a session, and opens one only for a batch holding a retry', async () => {
    const board = dashboard();
    const socket = await listen(board);
    const events = [claimFiled(), claimFiled()];
    const first = await ingest({ events }, board);
    const applied = await json<{ results: Array<{ status: string; seq: number | null }> }>(first.clone());
    expect(applied.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    // Insert, effects and outbox claim went as one HTTP transaction: no pooled connection.
    expect(first.headers.get('server-timing')).not.toMatch(/pg-connect/);

    const fresh = claimFiled();
    const mixed = await ingest({ events: [events[0], fresh] }, board);
    const answer = await json<{ results: Array<{ event_id: string; status: string; seq: number | null }> }>(mixed.clone());
    expect(answer.results).toEqual([
      { event_id: events[0]!.event_id, status: 'duplicate', seq: applied.results[0]!.seq },
      { event_id: fresh.event_id, status: 'applied', seq: expect.any(Number) },
    ]);
    // Telling a retry from a reused id reads the stored copy on a session.
    expect(mixed.headers.get('server-timing')).toMatch(/pg-connect/);
    await socket.until(() => socket.messages.filter((m) => m.type === 'event').length === 3);
    expect(socket.messages.filter((m) => m.type === 'event').map((m) => m.data?.event_id)).toEqual([events[0]!.event_id, events[1]!.event_id, fresh.event_id]);
  });

  it('shows an admin the hub as operators see it: sockets per edge, seqs and replays served', async () => {
    const board = dashboard();
    const socket = await listen(board);
    await json(await ingest(claimFiled(), board));
    await socket.until(() => socket.messages.some((m) => m.type === 'event'));
    const hubState = async () =>
      json<{ connections: number; last_seq: number; oldest_seq: number | null; edges: Array<{ index: number; sockets: number }>; replays: { log_loads: number; single: number } }>(
        await call(`/v1/dashboard/hub?dashboard=${board}`, { headers: await authHeaders('admin') }),
      );
    const state = await hubState();
    expect(state).toMatchObject({ connections: 1, last_seq: expect.any(Number), edges: [{ index: 0, sockets: 1 }], replays: { log_loads: 0, single: 0 } });
    expect(state.oldest_seq).toBeLessThanOrEqual(state.last_seq);
    await expectProblem(await call('/v1/dashboard/hub?dashboard=nowhere-at-all', { headers: await authHeaders('admin') }), 404, 'not_found');
  });

  it('recomputes each moved KPI of the strip over the strip’s own window', async () => {
    const board = dashboard();
    const socket = await listen(board);
    await ingest(claimFiled(), board);
    // claim.filed moves claim volume too, but that KPI is routed to the lakehouse.
    const moved = ['cost_avoided_mtd', 'sla_breach_rate'];
    const updates = () => socket.messages.filter((m) => m.type === 'kpi_update');
    await socket.until(() => moved.every((metric) => updates().some((m) => m.data?.metric === metric)));
    type Update = { metric: string; window: { start: string; end: string }; rows: Array<{ value: unknown }> };
    const byMetric = new Map(updates().map((m) => [(m.data as unknown as Update).metric, m.data as unknown as Update]));
    const days = (u: Update) => (Date.parse(u.window.end) - Date.parse(u.window.start)) / 86_400_000;
    expect(days(byMetric.get('sla_breach_rate')!)).toBe(7);
    const end = new Date(byMetric.get('cost_avoided_mtd')!.window.end);
    expect(byMetric.get('cost_avoided_mtd')!.window.start).toBe(new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1)).toISOString());
    // Over 24 hours no claim is old enough to have breached its SLA; over the strip's 7 days there are.
    expect(byMetric.get('sla_breach_rate')!.rows[0]?.value).toEqual(expect.any(Number));
    // Neither lakehouse KPIs nor tiles' metrics outside the strip are recomputed on every event.
    expect(byMetric.has('claim_volume')).toBe(false);
    expect(byMetric.has('claims_by_product')).toBe(false);
  });

  it('shares one recomputation of the strip among ingests that finish together, and recomputes after the last', async () => {
    const board = dashboard();
    const socket = await listen(board);
    const posts = 8;
    const answers = await Promise.all(Array.from({ length: posts }, () => ingest(claimFiled(), board)));
    expect(answers.map((r) => r.status)).toEqual(Array(posts).fill(200));
    const events = () => socket.messages.filter((m) => m.type === 'event');
    const rounds = () => socket.messages.filter((m) => m.type === 'kpi_update' && m.data?.metric === 'cost_avoided_mtd');
    await socket.until(() => events().length === posts && rounds().length > 0 && rounds().at(-1)!.seq > Math.max(...events().map((m) => m.seq)));
    await new Promise((r) => setTimeout(r, 300));
    // Each ingest alone would have been a round of its own.
    expect(rounds().length).toBeLessThan(posts);
    // The last round began after the last commit: its update follows every event in the hub's order.
    expect(rounds().at(-1)!.seq).toBeGreaterThan(Math.max(...events().map((m) => m.seq)));
  });

  it('applies a batch all or nothing', async () => {
    const board = dashboard();
    const good = claimFiled();
    const bad = { event_id: uid('evt'), type: 'claim.status_changed', occurred_at: new Date().toISOString(), data: { claim_id: 'NO-SUCH-CLAIM', status: 'approved' } };
    await expectProblem(await ingest({ events: [good, bad] }, board), 422, 'validation_failed');
    // The good event was rolled back with the bad one, so it applies cleanly now.
    const again = await json<{ results: Array<{ status: string }> }>(await ingest({ events: [good] }, board));
    expect(again.results[0]?.status).toBe('applied');
  });

  it('applies a mixed batch in order, a repeated claim after its own earlier events', async () => {
    const board = dashboard();
    const [k1, k2] = [claimFiled(), claimFiled()];
    const change = (claimId: string, status: string) => ({
      event_id: uid('evt'),
      type: 'claim.status_changed',
      occurred_at: new Date().toISOString(),
      data: { claim_id: claimId, status },
    });
    const batch = [k1, k2, change(k1.data.claim_id, 'approved'), change(k1.data.claim_id, 'fulfilled'), change(k2.data.claim_id, 'approved')];
    const applied = await json<{ results: Array<{ status: string; seq: number }> }>(await ingest({ events: batch }, board));
    expect(applied.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    const seqs = applied.results.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const db = createPostgres(config());
    try {
      const rows = await db.query<{ claim_id: string; status: string; closed: boolean }>(
        'SELECT claim_id, status, closed_at IS NOT NULL AS closed FROM claims WHERE claim_id = ANY($1::text[])',
        [[k1.data.claim_id, k2.data.claim_id]],
      );
      expect(Object.fromEntries(rows.map((r) => [r.claim_id, [r.status, r.closed]]))).toEqual({
        [k1.data.claim_id]: ['fulfilled', true],
        [k2.data.claim_id]: ['approved', false],
      });
    } finally {
      await db.close();
    }
    // A claim filed twice in one batch is a conflict naming the second event; nothing is kept.
    const twice = claimFiled();
    const again = { ...claimFiled(twice.data.claim_id) };
    const problem = await expectProblem(await ingest({ events: [twice, again] }, board), 409, 'conflict');
    expect(problem.detail).toContain(again.event_id);
    expect((await json<{ results: Array<{ status: string }> }>(await ingest(twice, board))).results[0]?.status).toBe('applied');
  });

  it('refuses malformed, oversized and duplicate-in-batch events, and viewers', async () => {
    const board = dashboard();
    await expectProblem(await ingest({ ...claimFiled(), type: 'claim.exploded' }, board), 422, 'validation_failed');
    await expectProblem(await ingest({ ...claimFiled(), data: { claim_id: 'x' } }, board), 422, 'validation_failed');
    const e = claimFiled();
    await expectProblem(await ingest({ events: [e, e] }, board), 422, 'validation_failed');
    await expectProblem(await ingest({ events: Array.from({ length: 501 }, () => claimFiled()) }, board), 422, 'validation_failed');
    await expectProblem(await ingest(claimFiled(), board, 'viewer'), 403, 'forbidden');
  });

  it('takes the data dictionary’s vocabulary and refuses names it does not list', async () => {
    const board = dashboard();
    const sessionId = uid('S');
    const started = {
      event_id: uid('evt'),
      type: 'session.started',
      occurred_at: new Date().toISOString(),
      data: { session_id: sessionId, customer_id: 'C00001', issue_type: 'lost_or_stolen', channel: 'web', region: 'LATAM' },
    };
    const applied = await json<{ results: Array<{ status: string }> }>(await ingest({ events: [started, claimFiled()] }, board));
    expect(applied.results.map((r) => r.status)).toEqual(['applied', 'applied']);

    // Names the demo data once used: valid-looking, but no filter or group could ever match them.
    // Each event differs from one just applied only in the named field.
    const refused: Array<[string, Record<string, unknown>]> = [
      ['product', { ...claimFiled(), data: { ...claimFiled().data, product: 'Mobile Protect' } }],
      ['channel', { ...started, event_id: uid('evt'), data: { ...started.data, session_id: uid('S'), channel: 'phone' } }],
      ['issue_type', { ...started, event_id: uid('evt'), data: { ...started.data, session_id: uid('S'), issue_type: 'lost_device' } }],
      ['region', { ...claimFiled(), data: { ...claimFiled().data, region: 'Mars' } }],
    ];
    for (const [field, event] of refused) {
      const res = await ingest(event, board);
      expect(res.status, field).toBe(422);
      const problem = await expectProblem(res, 422, 'validation_failed');
      // The field is named, not just "Invalid input" for the single-or-batch body.
      expect(problem.errors?.map((e) => e.pointer)).toEqual([`body/data/${field}`]);
    }
    const inBatch = await expectProblem(await ingest({ events: [claimFiled(), refused[0]![1]] }, board), 422, 'validation_failed');
    expect(inBatch.errors).toEqual([{ pointer: 'body/events/1/data/product', message: expect.stringContaining('Total Protection') }]);
  });

  it('refuses a dashboard that is not configured with 404, publishing nothing', async () => {
    await expectProblem(await ingest(claimFiled(), `unknown-${Date.now().toString(36)}`), 404, 'not_found');
  });

  it('answers 503 with nothing published when Postgres is down', async () => {
    const board = dashboard();
    const res = await createApi().request(
      `/v1/events?dashboard=${board}`,
      { method: 'POST', headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' }, body: JSON.stringify(claimFiled()) },
      { ...bindings, NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql' },
    );
    await expectProblem(res, 503, 'postgres_unavailable');
    expect((await env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(board)).stats()).lastSeq).toBe(0);
  });
});
