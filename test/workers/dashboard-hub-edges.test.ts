import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import { edgeFor } from '../../durable-objects/dashboards.ts';
import { HUB_CREDENTIAL_HEADER } from '../../worker/auth/socket-access.ts';
import type { SocketCredential } from '../../worker/auth/socket-access.ts';
import { viewerSocketCredential } from './helpers.ts';

interface Msg {
  type: string;
  seq: number;
  [k: string]: unknown;
}

let counter = 0;
const uniqueDashboard = () => `e${Date.now().toString(36)}-${++counter}`;
const hub = (dashboard: string) => env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));
const edge = (dashboard: string, k: number) => edgeFor(env.DASHBOARD_HUB_EDGE, dashboard, k);

/** What one client sees, with `batch` frames unpacked. */
class Inbox {
  readonly messages: Msg[] = [];
  closed: number | null = null;
  private waiters: Array<() => void> = [];
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (e) => {
      const frame = JSON.parse(String(e.data)) as Msg;
      this.messages.push(...(frame.type === 'batch' ? (frame.messages as Msg[]) : [frame]));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.addEventListener('close', (e) => {
      this.closed = e.code;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** Published messages' seqs, in arrival order. */
  get seqs(): number[] {
    return this.messages.filter((m) => m.type !== 'hello' && m.type !== 'pong' && m.type !== 'snapshot').map((m) => m.seq);
  }
  async until(ok: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.messages.map((m) => [m.type, m.seq]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /** Waits until the client has applied `seq`. */
  reach(seq: number): Promise<void> {
    return this.until(() => this.messages.some((m) => m.seq >= seq && m.type !== 'hello' && m.type !== 'pong'), `seq ${seq}`);
  }
}

let viewer: SocketCredential;
beforeAll(async () => {
  viewer = await viewerSocketCredential();
});

/** Joins through the root, which places the socket on an edge as the stream route does. */
async function connect(dashboard: string, since?: number): Promise<Inbox> {
  const res = await hub(dashboard).fetch(`http://hub/${since === undefined ? '' : `?since=${since}`}`, {
    headers: { upgrade: 'websocket', [HUB_CREDENTIAL_HEADER]: JSON.stringify(viewer) },
  });
  expect(res.status).toBe(101);
  res.webSocket!.accept();
  const inbox = new Inbox(res.webSocket!);
  await inbox.until(() => inbox.messages.length > 0, 'hello');
  return inbox;
}

const perEdge = (dashboard: string, socketsPerEdge: number) =>
  runInDurableObject(hub(dashboard), (root: DashboardHub) => void (root.tuning.socketsPerEdge = socketsPerEdge));

/** Consecutive from first to last, each once. */
const consecutive = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

describe('hub edges', () => {
  it('places sockets on the least loaded edge and opens one more edge per socketsPerEdge sockets', async () => {
    const name = uniqueDashboard();
    await perEdge(name, 2);
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await connect(name));
    const counts = await Promise.all([0, 1, 2, 3].map(async (k) => (await edge(name, k).stats()).connections));
    expect(counts).toEqual([2, 2, 1, 0]);
    const stats = await hub(name).stats();
    expect(stats.connections).toBe(5);
    expect(stats.edges.map((e) => e.index).sort()).toEqual([0, 1, 2]);
    // The root itself holds no socket.
    expect(await runInDurableObject(hub(name), (_: DashboardHub, state) => state.getWebSockets().length)).toBe(0);
    for (const c of clients) c.ws.close(1000);
  });

  it('gives every socket on every edge the same messages in seq order, also under concurrent publishes', async () => {
    const name = uniqueDashboard();
    await perEdge(name, 2);
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(name)));
    expect((await hub(name).stats()).edges).toHaveLength(3);
    const singles = Array.from({ length: 30 }, (_, i) => hub(name).publish({ type: 'event', data: { i } }));
    const batches = Array.from({ length: 5 }, (_, b) => hub(name).publishBatch(Array.from({ length: 4 }, (_, i) => ({ type: 'event' as const, data: { b, i } }))));
    const answers = await Promise.all([...singles, ...batches]);
    expect(answers.every((a) => a.ok)).toBe(true);
    for (const c of clients) await c.reach(50);
    for (const c of clients) expect(c.seqs).toEqual(consecutive(1, 50));
  });

  it('resumes through an edge from the edge’s copy of the log: a reconnect storm costs the root one log read per edge', async () => {
    const name = uniqueDashboard();
    await perEdge(name, 10);
    for (let i = 0; i < 20; i++) await hub(name).publish({ type: 'event', data: { i } });
    const before = (await hub(name).stats()).replays;
    // 20 clients coming back at once, each from where it stood; they land on two edges.
    const back = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(name, i)));
    for (const [i, c] of back.entries()) {
      await c.reach(20);
      expect(c.messages[0]).toMatchObject({ type: 'hello', seq: 20 });
      expect(c.seqs).toEqual(consecutive(i + 1, 20));
    }
    const after = await hub(name).stats();
    expect(after.edges).toHaveLength(2);
    expect(after.replays.logLoads - before.logLoads).toBeLessThanOrEqual(2);
    expect(after.replays.single - before.single).toBe(0);
    // A resume over an open socket is answered by its edge too.
    back[0]!.ws.send(JSON.stringify({ type: 'resume', since: 17 }));
    await back[0]!.until(() => back[0]!.seqs.length === 20 + 3, 'the replay');
    expect(back[0]!.seqs.slice(-3)).toEqual([18, 19, 20]);
    expect((await hub(name).stats()).replays).toEqual(after.replays);
  });

  it('keeps seq order when an edge is evicted from memory with its sockets hibernating', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    for (let i = 0; i < 3; i++) await hub(name).publish({ type: 'event', data: { i } });
    await a.reach(3);
    await evictDurableObject(edge(name, 0));
    for (let i = 3; i < 6; i++) await hub(name).publish({ type: 'event', data: { i } });
    await a.reach(6);
    expect(a.seqs).toEqual(consecutive(1, 6));
    // The woken edge still answers a resume, from the root's log.
    a.ws.send(JSON.stringify({ type: 'resume', since: 4 }));
    await a.until(() => a.seqs.length === 8, 'the replay');
    expect(a.seqs.slice(-2)).toEqual([5, 6]);
  });

  it('catches up without a gap when an edge is reset and its clients reconnect with ?since=', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    await hub(name).publish({ type: 'event', data: { n: 1 } });
    await a.reach(1);
    await evictDurableObject(edge(name, 0), { webSockets: 'close' });
    await a.until(() => a.closed !== null, 'the close');
    // Published while the client was away.
    for (let n = 2; n <= 4; n++) await hub(name).publish({ type: 'event', data: { n } });
    const again = await connect(name, 1);
    await hub(name).publish({ type: 'event', data: { n: 5 } });
    await again.reach(5);
    expect(again.seqs).toEqual([2, 3, 4, 5]);
  });

  it('delivers to its edges after the root restarts, and an edge fills what it missed from the log', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    await hub(name).publish({ type: 'event', data: {} });
    await a.reach(1);
    await evictDurableObject(hub(name));
    await hub(name).publish({ type: 'event', data: {} });
    await a.reach(2);
    // The root forgets an edge (it could not reach it); the edge's next sweep attaches it again
    // and it fills the gap before anything newer.
    // Same epoch as the edge's own: the root forgets it as if its deliveries had kept failing.
    const epoch = await runInDurableObject(edge(name, 0), (x) => (x as unknown as { epoch: number }).epoch);
    await hub(name).detachEdge(`${name}#0`, epoch);
    expect((await hub(name).stats()).edges).toHaveLength(0);
    await hub(name).publish({ type: 'event', data: {} });
    await hub(name).publish({ type: 'event', data: {} });
    expect(a.seqs).toEqual([1, 2]);
    expect(await runDurableObjectAlarm(edge(name, 0))).toBe(true);
    await hub(name).publish({ type: 'event', data: {} });
    await a.reach(5);
    expect(a.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('an edge whose last socket left detaches on its sweep, and the root stops calling it', async () => {
    const name = uniqueDashboard();
    const a = await connect(name);
    a.ws.close(1000);
    await a.until(() => a.closed !== null, 'the close');
    expect(await runDurableObjectAlarm(edge(name, 0))).toBe(true);
    expect((await hub(name).stats()).edges).toHaveLength(0);
    await hub(name).publish({ type: 'event', data: {} });
    expect((await edge(name, 0).stats()).seq).toBe(0);
    // A new socket attaches it again, starting from the root's latest.
    const b = await connect(name);
    expect(b.messages[0]).toMatchObject({ type: 'hello', seq: 1 });
    await hub(name).publish({ type: 'event', data: {} });
    await b.reach(2);
    expect(b.seqs).toEqual([2]);
  });
});
