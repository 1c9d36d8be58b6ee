import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { authHeaders, call, expectProblem, json } from './helpers.ts';

let n = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${++n}`;
const dashboard = () => `ev${Date.now().toString(36)}${++n}`;

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
  data: { claim_id: claimId, customer_id: 'C00001', product: 'Mobile Protect', claim_type: 'damage', region: 'EMEA', claim_cost: 240.5, cost_avoided: 120 },
});

async function listen(board: string) {
  const res = await exports.default.fetch(
    new Request(`http://cc.test/v1/dashboard/stream?dashboard=${board}`, { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
  );
  const ws = res.webSocket!;
  ws.accept();
  const messages: Array<{ type: string; seq: number; data?: Record<string, unknown> }> = [];
  ws.addEventListener('message', (e) => messages.push(JSON.parse(String(e.data))));
  return {
    messages,
    async until(pred: () => boolean, ms = 3_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

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

  it('applies a batch all or nothing', async () => {
    const board = dashboard();
    const good = claimFiled();
    const bad = { event_id: uid('evt'), type: 'claim.status_changed', occurred_at: new Date().toISOString(), data: { claim_id: 'NO-SUCH-CLAIM', status: 'approved' } };
    await expectProblem(await ingest({ events: [good, bad] }, board), 422, 'validation_failed');
    // The good event was rolled back with the bad one, so it applies cleanly now.
    const again = await json<{ results: Array<{ status: string }> }>(await ingest({ events: [good] }, board));
    expect(again.results[0]?.status).toBe('applied');
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

  it('answers 503 with nothing published when Postgres is down', async () => {
    const board = dashboard();
    const api = createApi();
    const res = await api.request(
      `/v1/events?dashboard=${board}`,
      { method: 'POST', headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' }, body: JSON.stringify(claimFiled()) },
      { ...env, NEON_WS_PROXY: '127.0.0.1:9/v2' },
    );
    await expectProblem(res, 503, 'postgres_unavailable');
    expect((await env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(board)).stats()).lastSeq).toBe(0);
  });
});
