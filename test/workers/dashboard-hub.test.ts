import { env, exports } from 'cloudflare:workers';
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { REPLAY_LOG_LIMIT } from '../../durable-objects/dashboard-hub.ts';
import { authHeaders, expectProblem } from './helpers.ts';

interface Msg {
  type: string;
  seq: number;
  ts: string;
  [k: string]: unknown;
}

let counter = 0;
/** A unique dashboard per test so hubs never share state. */
const uniqueDashboard = () => `t${Date.now().toString(36)}-${++counter}`;

class Inbox {
  readonly messages: Msg[] = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (e) => {
      this.messages.push(JSON.parse(String(e.data)) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** Waits (bounded) until n messages arrived. */
  async waitFor(n: number, timeoutMs = 3_000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} messages, got ${this.messages.length}: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages;
  }
}

async function connect(dashboard: string, since?: number): Promise<Inbox> {
  const q = new URLSearchParams({ dashboard, ...(since === undefined ? {} : { since: String(since) }) });
  const res = await exports.default.fetch(
    new Request(`http://cc.test/v1/dashboard/stream?${q}`, { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no socket');
  ws.accept();
  return new Inbox(ws);
}

const hub = (dashboard: string) => env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));

describe('DashboardHub', () => {
  it('refuses a plain GET with 426', async () => {
    const res = await exports.default.fetch(new Request('http://cc.test/v1/dashboard/stream', { headers: await authHeaders('viewer') }));
    await expectProblem(res, 426, 'upgrade_required');
  });

  it('rejects a bad dashboard name', async () => {
    const res = await exports.default.fetch(
      new Request('http://cc.test/v1/dashboard/stream?dashboard=../x', { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
    );
    await expectProblem(res, 422, 'validation_failed');
  });

  it('greets, then fans a published message out to every socket with increasing seq', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    const b = await connect(name);
    expect((await a.waitFor(1))[0]).toMatchObject({ type: 'hello', seq: 0 });
    await b.waitFor(1);
    const r1 = await hub(name).publish({ type: 'kpi_update', data: { metric: 'claim_volume', value: 1 } });
    const r2 = await hub(name).publish({ type: 'event', data: { id: 'e1' } });
    expect(r1).toEqual({ ok: true, seq: 1, delivered: 2 });
    expect(r2).toMatchObject({ ok: true, seq: 2 });
    const got = (await a.waitFor(3)).slice(1);
    expect(got.map((m) => [m.type, m.seq])).toEqual([
      ['kpi_update', 1],
      ['event', 2],
    ]);
    expect((await b.waitFor(3))[2]).toMatchObject({ type: 'event', seq: 2, data: { id: 'e1' } });
    expect(await hub(name).stats()).toMatchObject({ connections: 2, lastSeq: 2, oldestSeq: 1 });
  });

  it('replays exactly what a reconnecting client missed, in order, also after eviction', async () => {
    const name = uniqueDashboard();
    for (let i = 0; i < 5; i++) await hub(name).publish({ type: 'event', data: { i } });
    await evictDurableObject(hub(name));
    const c = await connect(name, 2);
    const msgs = await c.waitFor(4);
    expect(msgs[0]).toMatchObject({ type: 'hello', seq: 5 });
    expect(msgs.slice(1).map((m) => m.seq)).toEqual([3, 4, 5]);
    // Resume over an open socket as well.
    c.ws.send(JSON.stringify({ type: 'resume', since: 4 }));
    expect((await c.waitFor(5))[4]).toMatchObject({ seq: 5 });
  });

  it('sends a snapshot for a future seq or a gap older than the log', async () => {
    const name = uniqueDashboard();
    await hub(name).publish({ type: 'event', data: {} });
    const ahead = await connect(name, 99);
    expect((await ahead.waitFor(2))[1]).toMatchObject({ type: 'snapshot', seq: 1, reason: 'ahead' });

    const big = uniqueDashboard();
    for (let i = 0; i < REPLAY_LOG_LIMIT + 5; i++) await hub(big).publish({ type: 'event', data: { i } });
    const old = await connect(big, 1);
    expect((await old.waitFor(2))[1]).toMatchObject({ type: 'snapshot', reason: 'gap_too_old' });
    expect((await hub(big).stats()).oldestSeq).toBe(6);
  });

  it('refuses malformed publishes without storing them', async () => {
    const name = uniqueDashboard();
    for (const bad of [{ type: 'nope', data: {} }, { type: 'snapshot', data: {} }, { type: 'event', data: {}, extra: 1 }]) {
      expect(await hub(name).publish(bad as never)).toMatchObject({ ok: false, reason: 'invalid_message' });
    }
    expect((await hub(name).stats()).lastSeq).toBe(0);
  });

  it('answers malformed and oversized client messages without dropping healthy sockets', async () => {
    const name = uniqueDashboard();
    const c = await connect(name);
    await c.waitFor(1);
    c.ws.send('not json');
    expect((await c.waitFor(2))[1]).toMatchObject({ type: 'error', code: 'bad_message' });
    c.ws.send(JSON.stringify({ type: 'ping' }));
    expect((await c.waitFor(3))[2]).toMatchObject({ type: 'pong' });
    const closed = new Promise<number>((resolve) => c.ws.addEventListener('close', (e) => resolve(e.code)));
    c.ws.send('x'.repeat(10_000));
    expect(await closed).toBe(1009);
  });
});
