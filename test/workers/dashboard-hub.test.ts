import { env, exports } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { COALESCE_MIN_SOCKETS, REPLAY_LOG_LIMIT } from '../../durable-objects/dashboard-hub.ts';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import { CLOSE_CODES, MAX_BATCH_MESSAGES, MAX_PUBLISH_BYTES, PING_FRAME } from '../../durable-objects/protocol.ts';
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

/** What a client sees: raw frames, and messages with `batch` frames unpacked as clients must. */
class Inbox {
  readonly frames: Msg[] = [];
  readonly messages: Msg[] = [];
  readonly ws: WebSocket;
  closed: number | null = null;
  private waiters: Array<() => void> = [];
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (e) => {
      const frame = JSON.parse(String(e.data)) as Msg;
      this.frames.push(frame);
      this.messages.push(...(frame.type === 'batch' ? (frame.messages as Msg[]) : [frame]));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.addEventListener('close', (e) => {
      this.closed = e.code;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** Acknowledges the last seq received, then round-trips through the hub so the ack has landed. */
  async ack(): Promise<void> {
    const seq = Math.max(...this.messages.map((m) => m.seq ?? 0));
    this.ws.send(JSON.stringify({ type: 'ack', seq }));
    const before = this.messages.length;
    // Not the canonical spelling, so the hub itself answers (after the ack) instead of the runtime.
    this.ws.send('{ "type": "ping" }');
    await this.waitFor(before + 1);
  }
  /** Waits (bounded) until the socket closes; returns the close code. */
  async waitClosed(timeoutMs = 3_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('socket did not close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
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

/** A socket whose client side is never accepted, so nothing ever reads what the hub sends. */
async function connectNeverReading(dashboard: string): Promise<WebSocket> {
  const res = await exports.default.fetch(
    new Request(`http://cc.test/v1/dashboard/stream?dashboard=${dashboard}`, { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
  );
  expect(res.status).toBe(101);
  return res.webSocket!;
}

/** Shortens the hub's thresholds for one test; production never changes them. */
const tune = (dashboard: string, tuning: Partial<DashboardHub['tuning']>) =>
  runInDurableObject(hub(dashboard), (instance: DashboardHub) => void Object.assign(instance.tuning, tuning));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqs = (msgs: Msg[]) => msgs.map((m) => m.seq);

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

describe('DashboardHub batches', () => {
  it('gives a batch consecutive seqs, sends it as one frame and replays from inside it', async () => {
    const name = uniqueDashboard();
    await hub(name).publish({ type: 'event', data: { before: true } });
    const a = await connect(name);
    await a.waitFor(1);
    const result = await hub(name).publishBatch([
      { type: 'event', data: { n: 1 } },
      { type: 'kpi_update', data: { n: 2 } },
      { type: 'event', data: { n: 3 } },
    ]);
    expect(result).toEqual({ ok: true, firstSeq: 2, seq: 4, delivered: 1 });
    await a.waitFor(4);
    expect(a.frames).toHaveLength(2);
    expect(a.frames[1]).toMatchObject({ type: 'batch', seq: 4 });
    expect(a.messages.slice(1).map((m) => [m.type, m.seq, (m.data as { n: number }).n])).toEqual([
      ['event', 2, 1],
      ['kpi_update', 3, 2],
      ['event', 4, 3],
    ]);

    // A client that applied seq 2 (the first of the batch) gets the rest one frame per message.
    const b = await connect(name, 2);
    expect(seqs((await b.waitFor(3)).slice(1))).toEqual([3, 4]);
    expect(b.frames.map((f) => f.type)).toEqual(['hello', 'kpi_update', 'event']);
    b.ws.send(JSON.stringify({ type: 'resume', since: 3 }));
    expect((await b.waitFor(4))[3]).toMatchObject({ seq: 4, data: { n: 3 } });
    expect(await hub(name).stats()).toMatchObject({ lastSeq: 4, oldestSeq: 1 });
  });

  it('refuses a whole batch when one message is bad, and empty or overlong batches', async () => {
    const name = uniqueDashboard();
    const bad = await hub(name).publishBatch([
      { type: 'event', data: {} },
      { type: 'nope', data: {} } as never,
    ]);
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(bad.ok === false && bad.issues[0]).toMatch(/^1\.type/);
    expect(await hub(name).publishBatch([])).toMatchObject({ ok: false, reason: 'invalid_message' });
    const many = Array.from({ length: MAX_BATCH_MESSAGES + 1 }, () => ({ type: 'event' as const, data: {} }));
    expect(await hub(name).publishBatch(many)).toMatchObject({ ok: false, reason: 'invalid_message' });
    const big = await hub(name).publishBatch([
      { type: 'event', data: {} },
      { type: 'event', data: { blob: 'x'.repeat(MAX_PUBLISH_BYTES) } },
    ]);
    expect(big).toMatchObject({ ok: false, reason: 'too_large' });
    expect(await hub(name).stats()).toMatchObject({ lastSeq: 0, oldestSeq: null });
  });

  it(`merges publishes that queue up behind a fan-out once a hub has ${COALESCE_MIN_SOCKETS} sockets`, async () => {
    const name = uniqueDashboard();
    const inboxes = await Promise.all(Array.from({ length: COALESCE_MIN_SOCKETS }, () => connect(name)));
    await Promise.all(inboxes.map((i) => i.waitFor(1)));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => hub(name).publish({ type: 'event', data: { i } })));
    expect(results.map((r) => r.ok && r.seq).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.every((r) => r.ok && r.delivered === COALESCE_MIN_SOCKETS)).toBe(true);
    for (const inbox of inboxes) expect(seqs((await inbox.waitFor(7)).slice(1))).toEqual([1, 2, 3, 4, 5, 6]);
    // Every socket got the same frames; whether several publishes shared one depends on timing.
    expect(new Set(inboxes.map((i) => JSON.stringify(i.frames.slice(1).map((f) => f.seq)))).size).toBe(1);
    // A late joiner starts after everything stored, with nothing left in flight to duplicate.
    const late = await connect(name);
    await sleep(50);
    expect(late.messages).toEqual([expect.objectContaining({ type: 'hello', seq: 6 })]);
  });
});

describe('DashboardHub refusals and resumes', () => {
  it('refuses oversized and unserialisable publishes without storing them', async () => {
    const name = uniqueDashboard();
    const ascii = await hub(name).publish({ type: 'event', data: { blob: 'x'.repeat(MAX_PUBLISH_BYTES) } });
    expect(ascii).toMatchObject({ ok: false, reason: 'too_large' });
    // Under the limit in UTF-16 code units, over it in UTF-8 bytes.
    const wide = await hub(name).publish({ type: 'event', data: { blob: 'é'.repeat(MAX_PUBLISH_BYTES / 2) } });
    expect(wide).toMatchObject({ ok: false, reason: 'too_large' });
    const bigint = await hub(name).publish({ type: 'event', data: { n: 1n } });
    expect(bigint).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(await hub(name).stats()).toMatchObject({ lastSeq: 0, oldestSeq: null });
    expect(await hub(name).publish({ type: 'event', data: { blob: 'x'.repeat(MAX_PUBLISH_BYTES - 20) } })).toMatchObject({ ok: true, seq: 1 });
  });

  it('answers duplicate and out-of-order resume requests each in full, in seq order', async () => {
    const name = uniqueDashboard();
    for (let i = 0; i < 5; i++) await hub(name).publish({ type: 'event', data: { i } });
    const c = await connect(name);
    await c.waitFor(1);
    const resume = (since: number) => c.ws.send(JSON.stringify({ type: 'resume', since }));
    resume(3);
    resume(3);
    resume(1);
    resume(4);
    resume(5);
    resume(99);
    const got = (await c.waitFor(1 + 2 + 2 + 4 + 1 + 1)).slice(1);
    expect(got.map((m) => (m.type === 'snapshot' ? `snapshot:${m.reason}` : m.seq))).toEqual([4, 5, 4, 5, 2, 3, 4, 5, 5, 'snapshot:ahead']);
    c.ws.send(JSON.stringify({ type: 'resume', since: -1 }));
    expect((await c.waitFor(12))[11]).toMatchObject({ type: 'error', code: 'bad_message' });
    expect(c.closed).toBeNull();
  });
});

describe('DashboardHub slow and dead sockets', () => {
  it('drops a socket that never reads, by backlog size, while the others keep up', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    await a.waitFor(1);
    const stuck = await connectNeverReading(name);
    await tune(name, { maxUnackedBytes: 200_000 });
    const blob = 'x'.repeat(50_000);
    for (let i = 0; i < 10; i++) {
      expect(await hub(name).publish({ type: 'event', data: { i, blob } })).toMatchObject({ ok: true, delivered: 2 });
      await a.waitFor(2 + i);
      await a.ack();
    }
    // The sweep also checks backlogs, so the drop does not wait for the next publish.
    expect(await runDurableObjectAlarm(hub(name))).toBe(true);
    expect((await hub(name).stats()).dropped).toEqual({ slowConsumer: 1, heartbeatTimeout: 0, sendFailed: 0 });
    expect(await hub(name).publish({ type: 'event', data: { after: true } })).toMatchObject({ ok: true, delivered: 1 });
    expect((await a.waitFor(22)).at(-1)).toMatchObject({ data: { after: true } });
    expect(a.closed).toBeNull();
    // Closing, not yet gone: later sweeps and sends leave it alone rather than count it again.
    await runDurableObjectAlarm(hub(name));
    expect((await hub(name).stats()).dropped).toEqual({ slowConsumer: 1, heartbeatTimeout: 0, sendFailed: 0 });
    stuck.accept();
  });

  it('drops a socket whose oldest unacknowledged message is too old', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    const lagging = await connect(name);
    await Promise.all([a.waitFor(1), lagging.waitFor(1)]);
    await tune(name, { slowClientLagMs: 200 });
    await hub(name).publish({ type: 'event', data: {} });
    await Promise.all([a.waitFor(2), lagging.waitFor(2)]);
    await sleep(300);
    await a.ack();
    await runDurableObjectAlarm(hub(name));
    expect(await lagging.waitClosed()).toBe(CLOSE_CODES.slowConsumer);
    expect(a.closed).toBeNull();
    expect((await hub(name).stats()).dropped.slowConsumer).toBe(1);
  });

  it('closes sockets that stopped pinging when the sweep alarm runs, and keeps sweeping', async () => {
    const name = uniqueDashboard();
    const alive = await connect(name);
    const dead = await connect(name);
    await Promise.all([alive.waitFor(1), dead.waitFor(1)]);
    await sleep(300);
    // The canonical ping is answered by the runtime without waking the hub; the hub still sees it.
    alive.ws.send(PING_FRAME);
    expect((await alive.waitFor(2))[1]).toEqual({ type: 'pong' });
    await tune(name, { heartbeatTimeoutMs: 200 });
    expect(await runDurableObjectAlarm(hub(name))).toBe(true);
    expect(await dead.waitClosed()).toBe(CLOSE_CODES.heartbeatTimeout);
    expect(alive.closed).toBeNull();
    expect((await hub(name).stats()).dropped.heartbeatTimeout).toBe(1);
    // Sockets remain, so the sweep has re-armed itself.
    expect(await runInDurableObject(hub(name), (_: DashboardHub, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
