import { describe, expect, it } from 'vitest';
import { createStore } from '../../site/src/lib/store.ts';
import { createStream } from '../../site/src/lib/stream.ts';

/** A socket and clock the test drives by hand. */
function fake(random = () => 1) {
  const sockets: Array<{ url: string; sent: string[]; readyState: number; onopen: any; onmessage: any; onclose: any; send: (s: string) => void; close: () => void }> = [];
  const timers: Array<{ fn: () => void; ms: number; id: number }> = [];
  let id = 0;
  const stream = createStream({
    url: (since) => `ws://x/v1/dashboard/stream${since === null ? '' : `?since=${since}`}`,
    socket: (url) => {
      const s = { url, sent: [] as string[], readyState: 1, onopen: null as any, onmessage: null as any, onclose: null as any, send: (m: string) => s.sent.push(m), close: () => s.onclose?.() };
      sockets.push(s);
      return s as never;
    },
    setTimeout: (fn, ms) => (timers.push({ fn, ms, id: ++id }), id),
    clearTimeout: (t) => {
      const i = timers.findIndex((x) => x.id === t);
      if (i >= 0) timers.splice(i, 1);
    },
    random,
  });
  const run = (ms: number) => {
    const due = timers.filter((t) => t.ms === ms);
    for (const t of due) timers.splice(timers.indexOf(t), 1), t.fn();
  };
  return { stream, sockets, timers, run };
}

const frame = (seq: number, type = 'event', data: Record<string, unknown> = {}) => JSON.stringify({ type, seq, ts, data });
const sent = (socket: { sent: string[] }) => socket.sent.map((m) => JSON.parse(m) as { type: string });
const ts = '2026-01-01T00:00:00Z';

describe('stream client', () => {
  it('drops invalid frames, applies batches in order, acks at the hello interval and resumes', () => {
    const { stream, sockets, run } = fake();
    const seen: number[] = [];
    stream.subscribe('event', (m) => seen.push(m.seq));
    stream.start();
    sockets[0]!.onopen();
    expect(stream.status.value).toBe('live');
    stream.receive(JSON.stringify({ type: 'hello', seq: 3, ts, ack_ms: 500, heartbeat_ms: 30_000 }));
    stream.receive('not json');
    stream.receive(JSON.stringify({ type: 'event', seq: 'x', ts }));
    expect(stream.invalid.value).toBe(2);
    stream.receive(JSON.stringify({ type: 'batch', seq: 5, ts, messages: [{ type: 'event', seq: 4, ts, data: {} }, { type: 'event', seq: 5, ts, data: {} }] }));
    stream.receive(JSON.stringify({ type: 'event', seq: 5, ts, data: {} }));
    expect(seen).toEqual([4, 5]);
    run(500);
    expect(sockets[0]!.sent).toContain('{"type":"ack","seq":5}');
    run(30_000);
    expect(sockets[0]!.sent).toContain('{"type":"ping"}');
    sockets[0]!.close();
    expect(stream.status.value).toBe('reconnecting');
    run(500);
    expect(sockets[1]!.url).toMatch(/\?since=5$/);
    stream.stop();
  });

  it('acks at its own place in the second half of the interval, drawn once per connection', () => {
    const draws = [0, 0.5];
    const { stream, sockets, timers, run } = fake(() => draws.shift() ?? 1);
    stream.start();
    sockets[0]!.onopen();
    stream.receive(JSON.stringify({ type: 'hello', seq: 1, ts, ack_ms: 1_000, heartbeat_ms: 30_000 }));
    stream.receive(frame(2));
    // Spread 0: half the interval.
    expect(timers.map((t) => t.ms)).toContain(500);
    run(500);
    expect(sockets[0]!.sent).toContain('{"type":"ack","seq":2}');
    stream.receive(frame(3));
    run(500);
    expect(sockets[0]!.sent).toContain('{"type":"ack","seq":3}');
    // A new connection draws again: spread 0.5 is three quarters of the interval.
    sockets[0]!.close();
    run(500);
    sockets[1]!.onopen();
    stream.receive(JSON.stringify({ type: 'hello', seq: 3, ts, ack_ms: 1_000, heartbeat_ms: 30_000 }));
    stream.receive(frame(4));
    expect(timers.map((t) => t.ms)).toContain(750);
    stream.stop();
  });

  it('asks once for what a gap skipped, and applies the replay in order', () => {
    const { stream, sockets } = fake();
    const seen: number[] = [];
    stream.subscribe('event', (m) => seen.push(m.seq));
    stream.start();
    sockets[0]!.onopen();
    stream.receive(JSON.stringify({ type: 'hello', seq: 10, ts }));
    stream.receive(frame(11));
    stream.receive(frame(13));
    stream.receive(frame(14));
    expect(seen).toEqual([11]);
    expect(sent(sockets[0]!).filter((m) => m.type === 'resume')).toEqual([{ type: 'resume', since: 11 }]);
    // The replay brings 12..14 one frame each; the live 14 it overlapped counts once.
    for (const seq of [12, 13, 14, 14]) stream.receive(frame(seq));
    expect(seen).toEqual([11, 12, 13, 14]);
    expect(stream.seq.value).toBe(14);
    stream.stop();
  });

  it('takes a snapshot as the new starting point', () => {
    const { stream, sockets } = fake();
    const snapshots: number[] = [];
    const seen: number[] = [];
    stream.subscribe('snapshot', (m) => snapshots.push(m.seq));
    stream.subscribe('event', (m) => seen.push(m.seq));
    stream.start();
    sockets[0]!.onopen();
    stream.receive(JSON.stringify({ type: 'hello', seq: 2, ts }));
    stream.receive(JSON.stringify({ type: 'snapshot', seq: 40, ts, reason: 'gap_too_old' }));
    stream.receive(frame(41));
    expect(snapshots).toEqual([40]);
    expect(seen).toEqual([41]);
    stream.stop();
  });

  it('reconnects after the socket drops, with growing waits, and resumes from the last applied seq each time', () => {
    const { stream, sockets, timers, run } = fake();
    stream.start();
    sockets[0]!.onopen();
    stream.receive(JSON.stringify({ type: 'hello', seq: 7, ts }));
    sockets[0]!.close();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const wait = timers.at(-1)!.ms;
      waits.push(wait);
      run(wait);
      expect(sockets[attempt]!.url).toMatch(/\?since=7$/);
      sockets[attempt]!.close();
    }
    expect(waits).toEqual([500, 1_000, 2_000]);
    run(timers.at(-1)!.ms);
    sockets[4]!.onopen();
    expect(stream.status.value).toBe('live');
    stream.stop();
  });
});

describe('page store', () => {
  it('shares the connection state, the latest seq and frames by type; the first subscriber opens the stream', () => {
    const { stream, sockets } = fake();
    let watched = 0;
    const store = createStore(stream, { watch: () => void watched++ });
    expect(sockets).toHaveLength(0);
    const kpis: unknown[] = [];
    const events: number[] = [];
    const off = store.subscribe('kpi_update', (m) => kpis.push(m.data));
    store.subscribe('event', (m) => events.push(m.seq));
    expect(sockets).toHaveLength(1);
    expect(watched).toBe(1);
    expect(store.connection.value).toBe('connecting');
    sockets[0]!.onopen();
    expect(store.connection.value).toBe('live');
    stream.receive(JSON.stringify({ type: 'hello', seq: 0, ts }));
    stream.receive(frame(1, 'kpi_update', { metric: 'claim_volume' }));
    stream.receive(frame(2));
    off();
    stream.receive(frame(3, 'kpi_update', { metric: 'nps_impact' }));
    expect(kpis).toEqual([{ metric: 'claim_volume' }]);
    expect(events).toEqual([2]);
    expect(store.latestSeq.value).toBe(3);
    stream.stop();
  });

  it('hands a tile added by one island to every island that reads the store', () => {
    const { stream } = fake();
    const store = createStore(stream);
    const widget = { id: 'w1', title: 'Claims', visualization: 'bar', metric: { name: 'claim_volume', unit: 'count' } };
    store.addTile(widget);
    expect(store.tilesAdded.value).toEqual([widget]);
  });
});
