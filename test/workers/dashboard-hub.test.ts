import { env, exports } from 'cloudflare:workers';
import { evictDurableObject, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_LOG_LIMIT } from '../../durable-objects/dashboard-hub.ts';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import type { DashboardHubEdge } from '../../durable-objects/dashboard-hub-edge.ts';
import { edgeFor } from '../../durable-objects/dashboards.ts';
import {
  CLIENT_MESSAGE_BURST,
  CLOSE_CODES,
  HEARTBEAT_SWEEP_MS,
  MAX_BATCH_MESSAGES,
  MAX_PUBLISH_BYTES,
  PING_FRAME,
  RESUME_BUDGET,
} from '../../durable-objects/protocol.ts';
import { HUB_CREDENTIAL_HEADER } from '../../worker/auth/socket-access.ts';
import type { SocketCredential } from '../../worker/auth/socket-access.ts';
import { authHeaders, expectProblem, viewerSocketCredential } from './helpers.ts';

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

const hub = (dashboard: string) => env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));
/** Edge k of the dashboard's hub: where its sockets are held. */
const edge = (dashboard: string, k = 0) => edgeFor(env.DASHBOARD_HUB_EDGE, dashboard, k);
/** Enough sockets on one hub that publishes arriving during a fan-out share frames. */
const MANY_SOCKETS = 32;

/**
 * The local viewer's credential, as the stream route hands it to the hub. Hubs are joined
 * directly here, each test on its own hub: the route admits only configured dashboards, and is
 * tested for that on its own.
 */
let viewer: SocketCredential;
beforeAll(async () => {
  viewer = await viewerSocketCredential();
});

async function open(dashboard: string, since?: number, credential: Partial<SocketCredential> = {}): Promise<WebSocket> {
  const q = since === undefined ? '' : `?since=${since}`;
  const res = await hub(dashboard).fetch(`http://hub/${q}`, {
    headers: { upgrade: 'websocket', [HUB_CREDENTIAL_HEADER]: JSON.stringify({ ...viewer, ...credential }) },
  });
  expect(res.status).toBe(101);
  return res.webSocket!;
}

async function connect(dashboard: string, since?: number, credential: Partial<SocketCredential> = {}): Promise<Inbox> {
  const ws = await open(dashboard, since, credential);
  ws.accept();
  return new Inbox(ws);
}

/** A socket whose client side is never accepted, so nothing ever reads what the hub sends. */
const connectNeverReading = (dashboard: string) => open(dashboard);

/** Round-trips through the hub (a ping only the hub answers): everything it sent before is in. */
async function roundTrip(inbox: Inbox): Promise<void> {
  const before = inbox.messages.length;
  inbox.ws.send('{ "type": "ping" }');
  await inbox.waitFor(before + 1);
}

/** Shortens the hub's thresholds for one test; production never changes them. */
const tune = (dashboard: string, tuning: Partial<DashboardHubEdge['tuning']>) =>
  runInDurableObject(edge(dashboard), (instance: DashboardHubEdge) => void Object.assign(instance.tuning, tuning));

/** Waits (bounded) until the dashboard's first edge has been handed everything up to `seq`. */
async function reached(dashboard: string, seq: number): Promise<void> {
  const deadline = Date.now() + 3_000;
  while ((await edge(dashboard).stats()).seq < seq) {
    if (Date.now() > deadline) throw new Error(`the edge did not reach seq ${seq}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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

  it('refuses a dashboard that is not configured with 404, without creating its hub', async () => {
    const name = uniqueDashboard();
    const res = await exports.default.fetch(
      new Request(`http://cc.test/v1/dashboard/stream?dashboard=${name}`, { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
    );
    await expectProblem(res, 404, 'not_found');
    const id = env.DASHBOARD_HUB.idFromName(name);
    expect((await listDurableObjectIds(env.DASHBOARD_HUB)).some((known) => known.equals(id))).toBe(false);
  });

  it('joins a configured dashboard through the route', async () => {
    const res = await exports.default.fetch(
      new Request('http://cc.test/v1/dashboard/stream?dashboard=default', { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } }),
    );
    expect(res.status).toBe(101);
    res.webSocket!.accept();
    res.webSocket!.close(1000);
  });

  it('is joined only with a credential from the route', async () => {
    const res = await hub(uniqueDashboard()).fetch('http://hub/', { headers: { upgrade: 'websocket' } });
    expect(res.status).toBe(400);
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

describe('DashboardHub kpi_update coalescing', () => {
  const coalesce = (dashboard: string, ms: number) => runInDurableObject(hub(dashboard), (root: DashboardHub) => void (root.tuning.kpiCoalesceMs = ms));

  it('holds KPI updates back until the next event, which takes them along in one frame', async () => {
    const name = uniqueDashboard();
    await coalesce(name, 60_000);
    const a = await connect(name);
    await a.waitFor(1);
    await hub(name).publish({ type: 'event', data: { n: 1 } });
    await a.waitFor(2);
    await hub(name).publishBatch([
      { type: 'kpi_update', data: { n: 2 } },
      { type: 'kpi_update', data: { n: 3 } },
    ]);
    await hub(name).publish({ type: 'kpi_update', data: { n: 4 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(a.messages).toHaveLength(2);
    await hub(name).publish({ type: 'event', data: { n: 5 } });
    await a.waitFor(6);
    expect(a.frames).toHaveLength(3);
    expect(a.messages.slice(1).map((m) => [m.type, m.seq])).toEqual([
      ['event', 1],
      ['kpi_update', 2],
      ['kpi_update', 3],
      ['kpi_update', 4],
      ['event', 5],
    ]);
  });

  it('sends held KPI updates when the window runs out, and at once with a window of 0', async () => {
    const name = uniqueDashboard();
    await coalesce(name, 200);
    const a = await connect(name);
    await a.waitFor(1);
    const t0 = Date.now();
    await hub(name).publish({ type: 'kpi_update', data: { n: 1 } });
    await a.waitFor(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await coalesce(name, 0);
    await hub(name).publish({ type: 'kpi_update', data: { n: 2 } });
    expect((await a.waitFor(3, 150))[2]).toMatchObject({ type: 'kpi_update', seq: 2 });
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
    expect(result).toEqual({ ok: true, firstSeq: 2, seq: 4, delivered: 1, seqs: [2, 3, 4], duplicates: 0 });
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

  it('stores and sends a keyed message once: a repeated key answers the seq it got the first time', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    await a.waitFor(1);
    const first = await hub(name).publishBatch([{ type: 'event', data: { n: 1 } }, { type: 'event', data: { n: 2 } }], { keys: ['k1', 'k2'] });
    expect(first).toMatchObject({ ok: true, seqs: [1, 2], duplicates: 0 });
    // A retry holding one old key and one new: only the new one is stored and sent.
    const retry = await hub(name).publishBatch([{ type: 'event', data: { n: 2 } }, { type: 'event', data: { n: 3 } }], { keys: ['k2', 'k3'] });
    expect(retry).toMatchObject({ ok: true, seqs: [2, 3], duplicates: 1, delivered: 1 });
    const again = await hub(name).publishBatch([{ type: 'event', data: { n: 1 } }], { keys: ['k1'] });
    expect(again).toMatchObject({ ok: true, seqs: [1], duplicates: 1, delivered: 0 });
    await a.waitFor(4);
    expect(a.messages.slice(1).map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3]);
    expect(await hub(name).stats()).toMatchObject({ lastSeq: 3 });
    expect(await hub(name).publishBatch([{ type: 'event', data: {} }], { keys: [''] })).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(await hub(name).publishBatch([{ type: 'event', data: {} }], { keys: ['a', 'b'] })).toMatchObject({ ok: false, reason: 'invalid_message' });
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

  it(`merges publishes that queue up behind a fan-out once a hub has ${MANY_SOCKETS} sockets`, async () => {
    const name = uniqueDashboard();
    const inboxes = await Promise.all(Array.from({ length: MANY_SOCKETS }, () => connect(name)));
    await Promise.all(inboxes.map((i) => i.waitFor(1)));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => hub(name).publish({ type: 'event', data: { i } })));
    expect(results.map((r) => r.ok && r.seq).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.every((r) => r.ok && r.delivered === MANY_SOCKETS)).toBe(true);
    for (const inbox of inboxes) expect(seqs((await inbox.waitFor(7)).slice(1))).toEqual([1, 2, 3, 4, 5, 6]);
    // Every socket got the same frames; whether several publishes shared one depends on timing.
    expect(new Set(inboxes.map((i) => JSON.stringify(i.frames.slice(1).map((f) => f.seq)))).size).toBe(1);
    // A late joiner starts after everything stored, with nothing left in flight to duplicate.
    const late = await connect(name);
    await late.waitFor(1);
    await roundTrip(late);
    expect(late.messages.map((m) => m.type)).toEqual(['hello', 'pong']);
    expect(late.messages[0]).toMatchObject({ seq: 6 });
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
    resume(99);
    const got = (await c.waitFor(1 + 2 + 2 + 4 + 1 + 1)).slice(1);
    expect(got.map((m) => (m.type === 'snapshot' ? `snapshot:${m.reason}` : m.seq))).toEqual([4, 5, 4, 5, 2, 3, 4, 5, 5, 'snapshot:ahead']);
    c.ws.send(JSON.stringify({ type: 'resume', since: -1 }));
    expect((await c.waitFor(12))[11]).toMatchObject({ type: 'error', code: 'bad_message' });
    expect(c.closed).toBeNull();
  });
});

describe('DashboardHub abuse limits', () => {
  it(`closes a socket that asks for more than ${RESUME_BUDGET} replays in a minute`, async () => {
    const name = uniqueDashboard();
    for (let i = 0; i < 5; i++) await hub(name).publish({ type: 'event', data: { i } });
    const c = await connect(name);
    await c.waitFor(1);
    for (let i = 0; i <= RESUME_BUDGET; i++) c.ws.send(JSON.stringify({ type: 'resume', since: 0 }));
    expect(await c.waitClosed()).toBe(CLOSE_CODES.rateLimited);
    // Each allowed resume was answered in full before the one over budget closed the socket.
    expect(c.messages.filter((m) => m.type === 'event')).toHaveLength(5 * RESUME_BUDGET);
    expect((await hub(name).stats()).dropped.rateLimited).toBe(1);
  });

  it('counts a connect with ?since= against the same resume budget', async () => {
    const name = uniqueDashboard();
    await hub(name).publish({ type: 'event', data: {} });
    const c = await connect(name, 0);
    for (let i = 0; i < RESUME_BUDGET; i++) c.ws.send(JSON.stringify({ type: 'resume', since: 0 }));
    expect(await c.waitClosed()).toBe(CLOSE_CODES.rateLimited);
  });

  it(`closes a socket that sends more than ${CLIENT_MESSAGE_BURST} frames at once`, async () => {
    const name = uniqueDashboard();
    const c = await connect(name);
    const calm = await connect(name);
    await Promise.all([c.waitFor(1), calm.waitFor(1)]);
    for (let i = 0; i < CLIENT_MESSAGE_BURST * 2; i++) c.ws.send('{ "type": "ping" }');
    expect(await c.waitClosed()).toBe(CLOSE_CODES.rateLimited);
    await roundTrip(calm);
    expect(calm.closed).toBeNull();
  });

  it('counts replayed bytes toward the backlog until they are acknowledged', async () => {
    const name = uniqueDashboard();
    const blob = 'x'.repeat(50_000);
    for (let i = 0; i < 3; i++) await hub(name).publish({ type: 'event', data: { i, blob } });
    const c = await connect(name);
    await c.waitFor(1);
    await tune(name, { maxUnackedBytes: 200_000 });
    // 150 kB replayed and not acknowledged: a second replay of it would not fit.
    c.ws.send(JSON.stringify({ type: 'resume', since: 0 }));
    await c.waitFor(4);
    c.ws.send(JSON.stringify({ type: 'resume', since: 0 }));
    expect((await c.waitFor(5))[4]).toMatchObject({ type: 'snapshot', reason: 'gap_too_large', seq: 3 });
    // Acknowledged, the replay no longer counts.
    await c.ack();
    c.ws.send(JSON.stringify({ type: 'resume', since: 0 }));
    expect(seqs((await c.waitFor(9)).slice(6, 9))).toEqual([1, 2, 3]);
    // Unacknowledged replay plus live sends over the limit: a slow consumer, closed by the sweep.
    await hub(name).publish({ type: 'event', data: { blob } });
    await hub(name).publish({ type: 'event', data: { blob } });
    // Fan-out follows the publish's answer: the sweep runs once both reached the edge.
    await reached(name, 5);
    await runDurableObjectAlarm(edge(name));
    expect(await c.waitClosed()).toBe(CLOSE_CODES.slowConsumer);
  });

  it('ignores an ack above what the socket was sent, so a socket that does not keep up is still dropped', async () => {
    const name = uniqueDashboard();
    const c = await connect(name);
    await c.waitFor(1);
    await tune(name, { maxUnackedBytes: 200_000 });
    const blob = 'x'.repeat(50_000);
    for (let i = 0; i < 5; i++) await hub(name).publish({ type: 'event', data: { i, blob } });
    await c.waitFor(6);
    c.ws.send('{"type":"ack","seq":1000000000000}');
    c.ws.send(JSON.stringify({ type: 'ack', seq: 1e12 }));
    await roundTrip(c);
    await runDurableObjectAlarm(edge(name));
    expect(await c.waitClosed()).toBe(CLOSE_CODES.slowConsumer);
  });
});

describe('DashboardHub and the credentials behind its sockets', () => {
  it('closes the sockets of one session, or of one user, when told access ended', async () => {
    const name = uniqueDashboard();
    const session = crypto.randomUUID();
    const a = await connect(name, undefined, { credentialId: session });
    const b = await connect(name, undefined, { credentialId: crypto.randomUUID() });
    await Promise.all([a.waitFor(1), b.waitFor(1)]);
    expect(await hub(name).endAccess({ sessionId: session })).toBe(1);
    expect(await a.waitClosed()).toBe(CLOSE_CODES.accessEnded);
    expect(b.closed).toBeNull();
    expect(await hub(name).endAccess({ userId: viewer.userId })).toBe(1);
    expect(await b.waitClosed()).toBe(CLOSE_CODES.accessEnded);
  });

  it('sets its alarm for the earliest credential expiry, and closes a socket whose credential expired', async () => {
    const name = uniqueDashboard();
    const soon = Math.floor(Date.now() / 1000) + 10;
    const expiring = await connect(name, undefined, { credentialId: 'expiring', expiresAt: soon });
    const other = await connect(name);
    await Promise.all([expiring.waitFor(1), other.waitFor(1)]);
    const alarm = await runInDurableObject(edge(name), (_: DashboardHubEdge, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(soon * 1000);
    expect(alarm!).toBeLessThan(Date.now() + HEARTBEAT_SWEEP_MS);
    // Its expiry passes (moved into the past rather than waited for).
    await runInDurableObject(edge(name), (_: DashboardHubEdge, state) => {
      for (const ws of state.getWebSockets('session:expiring')) {
        const attachment = ws.deserializeAttachment() as { credential: SocketCredential };
        ws.serializeAttachment({ ...attachment, credential: { ...attachment.credential, expiresAt: Math.floor(Date.now() / 1000) - 1 } });
      }
    });
    expect(await runDurableObjectAlarm(edge(name))).toBe(true);
    expect(await expiring.waitClosed()).toBe(CLOSE_CODES.credentialExpired);
    expect(other.closed).toBeNull();
    expect((await hub(name).stats()).dropped.credentialExpired).toBe(1);
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
    expect(await runDurableObjectAlarm(edge(name))).toBe(true);
    expect((await hub(name).stats()).dropped).toMatchObject({ slowConsumer: 1, heartbeatTimeout: 0, sendFailed: 0 });
    expect(await hub(name).publish({ type: 'event', data: { after: true } })).toMatchObject({ ok: true, delivered: 1 });
    expect((await a.waitFor(22)).at(-1)).toMatchObject({ data: { after: true } });
    expect(a.closed).toBeNull();
    // Closing, not yet gone: later sweeps and sends leave it alone rather than count it again.
    await runDurableObjectAlarm(edge(name));
    expect((await hub(name).stats()).dropped).toMatchObject({ slowConsumer: 1, heartbeatTimeout: 0, sendFailed: 0 });
    stuck.accept();
  });

  it('drops a socket whose oldest unacknowledged message is too old', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    const lagging = await connect(name);
    await Promise.all([a.waitFor(1), lagging.waitFor(1)]);
    await hub(name).publish({ type: 'event', data: {} });
    await Promise.all([a.waitFor(2), lagging.waitFor(2)]);
    await a.ack();
    // Any unacknowledged message is now too old: no waiting for a real lag to build up.
    await tune(name, { slowClientLagMs: -1 });
    await runDurableObjectAlarm(edge(name));
    expect(await lagging.waitClosed()).toBe(CLOSE_CODES.slowConsumer);
    expect(a.closed).toBeNull();
    expect((await hub(name).stats()).dropped.slowConsumer).toBe(1);
  });

  it('closes sockets that stopped pinging when the sweep alarm runs, and keeps sweeping', async () => {
    const name = uniqueDashboard();
    const alive = await connect(name);
    const dead = await connect(name, undefined, { credentialId: 'dead' });
    await Promise.all([alive.waitFor(1), dead.waitFor(1)]);
    // The dead socket was last heard from long ago: its connection time moves back, no waiting.
    await runInDurableObject(edge(name), (_: DashboardHubEdge, state) => {
      for (const ws of state.getWebSockets('session:dead')) {
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as object), connectedAt: new Date(0).toISOString() });
      }
    });
    // The canonical ping is answered by the runtime without waking the hub; the hub still sees it.
    alive.ws.send(PING_FRAME);
    expect((await alive.waitFor(2))[1]).toEqual({ type: 'pong' });
    await tune(name, { heartbeatTimeoutMs: 60_000 });
    expect(await runDurableObjectAlarm(edge(name))).toBe(true);
    expect(await dead.waitClosed()).toBe(CLOSE_CODES.heartbeatTimeout);
    expect(alive.closed).toBeNull();
    expect((await hub(name).stats()).dropped.heartbeatTimeout).toBe(1);
    // Sockets remain, so the sweep has re-armed itself.
    expect(await runInDurableObject(edge(name), (_: DashboardHubEdge, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
