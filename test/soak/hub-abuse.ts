import { createRequire } from 'node:module';
import type WebSocket from 'ws';
import { CLOSE_CODES } from '../../durable-objects/protocol.ts';

const { WebSocket: WS } = createRequire(import.meta.url)('ws') as typeof import('ws');

/**
 * Abusive sockets beside a well-behaved one on the same hub: one floods `resume` from seq 0, one
 * acks far beyond what it was sent, one never reads. Events are posted one at a time while they
 * misbehave; the well-behaved viewer must still receive every event, in order, within a second of
 * the POST starting, and the abusers must be dropped by the hub, not left to grow it.
 */
export interface HubAbuseReport {
  events: number;
  received: number;
  lost: number;
  outOfOrder: number;
  /** POST start → receipt at the well-behaved viewer. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  withinOneSecond: number;
  /** POST /v1/events answers that failed or took over 5 s while the abusers were at it. */
  ingestFailures: string[];
  ingestP95Ms: number;
  abusers: Array<{ name: string; closedWith: number | null; reason: string }>;
}

interface Frame {
  type: string;
  seq: number;
  data?: { event_id?: string };
  messages?: Frame[];
  ack_ms?: number;
}

function open(url: string, token: string): Promise<WebSocket> {
  const ws: WebSocket = new WS(url, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

/**
 * The hub's close frame, once read. `ws` emits 'close' only when the TCP connection ends too, which
 * the runtime may leave to the client's 30 s close timeout; the frame itself is the hub's verdict.
 */
function closeFrame(ws: WebSocket): { code: number; reason: string } | null {
  const internals = ws as unknown as { _closeFrameReceived: boolean; _closeCode: number; _closeMessage: Buffer };
  return internals._closeFrameReceived ? { code: internals._closeCode, reason: String(internals._closeMessage) } : null;
}

export async function hubAbuse(
  url: string,
  token: string,
  options: { events: number; spacingMs: number; dashboard?: string },
): Promise<HubAbuseReport> {
  const dashboard = options.dashboard ?? 'default';
  const streamUrl = `${url.replace('http', 'ws')}/v1/dashboard/stream?dashboard=${dashboard}`;

  // The well-behaved viewer: applies frames in seq order and acks at the interval hello asks for.
  const good = await open(streamUrl, token);
  const arrivals = new Map<string, number>();
  const seqs: number[] = [];
  let lastSeq = 0;
  let ackMs = 2_000;
  const ackTimer = setInterval(() => good.readyState === good.OPEN && good.send(JSON.stringify({ type: 'ack', seq: lastSeq })), ackMs);
  good.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as Frame;
    if (frame.type === 'hello') ackMs = frame.ack_ms ?? ackMs;
    for (const m of frame.type === 'batch' ? (frame.messages ?? []) : [frame]) {
      if (m.type !== 'event') continue;
      seqs.push(m.seq);
      lastSeq = Math.max(lastSeq, m.seq);
      if (m.data?.event_id) arrivals.set(m.data.event_id, performance.now());
    }
  });

  // The abusers.
  const flooder = await open(streamUrl, token);
  const flooderClosed = closed(flooder);
  const flood = setInterval(() => {
    for (let i = 0; i < 20 && flooder.readyState === flooder.OPEN; i++) flooder.send('{"type":"resume","since":0}');
  }, 10);
  const liar = await open(streamUrl, token);
  const liarClosed = closed(liar);
  liar.send(JSON.stringify({ type: 'ack', seq: 1e12 }));
  const deaf = await open(streamUrl, token);
  const deafClosed = closed(deaf);
  // Stop reading: the kernel buffers fill and the hub's frames for this socket pile up unread.
  (deaf as unknown as { _socket: { pause(): void } })._socket.pause();

  const runId = Date.now().toString(36);
  const starts = new Map<string, number>();
  const ingestFailures: string[] = [];
  const ingestMs: number[] = [];
  for (let i = 0; i < options.events; i++) {
    const eventId = `soak-${runId}-${i}`;
    starts.set(eventId, performance.now());
    // Bounded: an ingest that waits on a hub busy with abusers is itself a finding, not a hang.
    const res = await fetch(`${url}/v1/events?dashboard=${dashboard}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event_id: eventId,
        type: 'alert.opened',
        occurred_at: new Date().toISOString(),
        data: { alert_id: eventId, severity: 'info', title: 'soak alert' },
      }),
      signal: AbortSignal.timeout(5_000),
    }).catch((err: unknown) => err as Error);
    if (res instanceof Error || !res.ok) ingestFailures.push(res instanceof Error ? res.message : `HTTP ${res.status}`);
    else ingestMs.push(performance.now() - starts.get(eventId)!);
    await new Promise((r) => setTimeout(r, options.spacingMs));
  }
  // Give the last event its second to arrive, then stop.
  const deadline = Date.now() + 1_500;
  while (arrivals.size < options.events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  clearInterval(flood);
  clearInterval(ackTimer);

  // The deaf socket can only learn it was closed by reading again: what the hub sent, then its close.
  (deaf as unknown as { _socket: { resume(): void } })._socket.resume();
  const settle = <T>(p: Promise<T>) => Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
  const abusers = [];
  for (const [name, ws, done] of [
    ['resume flood', flooder, flooderClosed],
    ['ack beyond what was sent', liar, liarClosed],
    ['never reads', deaf, deafClosed],
  ] as const) {
    const result = ws.readyState === ws.CLOSED ? await done : ((await settle(done)) ?? closeFrame(ws));
    abusers.push({ name, closedWith: result?.code ?? null, reason: result?.reason ?? 'still open' });
    ws.terminate();
  }
  good.close();

  const delays = [...starts].flatMap(([id, start]) => (arrivals.has(id) ? [arrivals.get(id)! - start] : [])).sort((a, b) => a - b);
  const pct = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN;
  let outOfOrder = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! <= seqs[i - 1]!) outOfOrder++;
  return {
    events: options.events,
    received: arrivals.size,
    lost: options.events - arrivals.size,
    outOfOrder,
    p50Ms: pct(0.5),
    p95Ms: pct(0.95),
    maxMs: delays.at(-1) ?? NaN,
    withinOneSecond: delays.filter((d) => d <= 1_000).length,
    ingestFailures,
    ingestP95Ms: ingestMs.sort((a, b) => a - b)[Math.floor(0.95 * (ingestMs.length - 1))] ?? NaN,
    abusers,
  };
}

/** Close codes a client should see for each kind of abuse, by name, for the report. */
export function closeName(code: number | null): string {
  if (code === null) return 'not closed';
  const known = Object.entries(CLOSE_CODES).find(([, c]) => c === code);
  return known ? `${code} ${known[0]}` : String(code);
}
