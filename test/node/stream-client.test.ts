import { describe, expect, it } from 'vitest';
import { createStream } from '../../site/src/lib/stream.ts';

/** A socket and clock the test drives by hand. */
function fake() {
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
  });
  const run = (ms: number) => {
    const due = timers.filter((t) => t.ms === ms);
    for (const t of due) timers.splice(timers.indexOf(t), 1), t.fn();
  };
  return { stream, sockets, timers, run };
}

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
});
