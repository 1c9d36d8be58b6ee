import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { PING_FRAME } from '../../durable-objects/protocol.ts';

/**
 * One thread of the scale bench's viewers: it opens its share of the sockets and behaves as the
 * protocol asks (acks at most once per `ack_ms` from hello, pings every `heartbeat_ms`), and
 * records when each event first reached each socket. The main thread asks for those times and
 * compares them with when it started the POST (both clocks are `timeOrigin + now`).
 */

export type ClientCommand =
  | { cmd: 'connect'; id: number; url: string; headers: Record<string, string>; count: number; parallel: number }
  | { cmd: 'wait'; id: number; eventIds: string[]; timeoutMs: number }
  | { cmd: 'collect'; id: number }
  | { cmd: 'close'; id: number };

export interface CollectReply {
  /** event_id → receipt times (ms, timeOrigin-based), one per socket that received it. */
  receipts: Record<string, number[]>;
  duplicates: number;
  outOfOrder: number;
  closed: number;
  /** Close code → how many sockets closed with it. */
  closeCodes: Record<string, number>;
  open: number;
}

interface Client {
  ws: WebSocket;
  lastSeq: number;
  ackedSent: number;
  ackMs: number;
  lastAckAt: number;
  seen: Set<string>;
  /** Counted in `open` (connected and not yet closed). */
  counted: boolean;
}

const now = () => performance.timeOrigin + performance.now();

if (parentPort && workerData?.scaleClients) {
  const port = parentPort;
  const clients: Client[] = [];
  let receipts = new Map<string, number[]>();
  let duplicates = 0;
  let outOfOrder = 0;
  let closed = 0;
  // Kept as a count, not recomputed by a scan: every received message wakes the waiters, and a
  // scan of every socket per message is quadratic in the viewers a thread holds.
  let open = 0;
  const closeCodes: Record<string, number> = {};
  let waiters: Array<() => void> = [];

  const onMessage = (c: Client, raw: Buffer) => {
    const at = now();
    const frame = JSON.parse(raw.toString()) as { type: string; seq: number; ack_ms?: number; messages?: Array<{ type: string; seq: number; data?: { event_id?: string } }>; data?: { event_id?: string } };
    if (frame.type === 'hello') {
      c.lastSeq = frame.seq;
      c.ackedSent = frame.seq;
      c.ackMs = frame.ack_ms ?? 2_000;
      return;
    }
    if (frame.type === 'pong' || frame.type === 'error') return;
    const messages = frame.type === 'batch' ? (frame.messages ?? []) : [frame];
    for (const m of messages) {
      if (m.seq <= c.lastSeq) {
        duplicates++;
        continue;
      }
      if (m.seq !== c.lastSeq + 1) outOfOrder++;
      c.lastSeq = m.seq;
      const id = m.data?.event_id;
      if (m.type === 'event' && id && !c.seen.has(id)) {
        c.seen.add(id);
        let list = receipts.get(id);
        if (!list) receipts.set(id, (list = []));
        list.push(at);
      }
    }
    if (waiters.length > 0) for (const w of waiters.splice(0)) w();
  };

  // Acks as the protocol asks: the last applied seq, at most once per ack_ms, only when it moved.
  const acker = setInterval(() => {
    const t = Date.now();
    for (const c of clients) {
      if (c.ws.readyState !== WebSocket.OPEN || c.lastSeq <= c.ackedSent || t - c.lastAckAt < c.ackMs) continue;
      c.ws.send(`{"type":"ack","seq":${c.lastSeq}}`);
      c.ackedSent = c.lastSeq;
      c.lastAckAt = t;
    }
  }, 250);
  const pinger = setInterval(() => {
    for (const c of clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(PING_FRAME);
  }, 30_000);

  const connect = async (url: string, headers: Record<string, string>, count: number, parallel: number): Promise<{ connected: number; failed: number }> => {
    let started = 0;
    let connected = 0;
    let failed = 0;
    const opener = async () => {
      while (started < count) {
        started++;
        const c: Client = { ws: new WebSocket(url, { headers, perMessageDeflate: false }), lastSeq: -1, ackedSent: 0, ackMs: 2_000, lastAckAt: 0, seen: new Set(), counted: false };
        c.ws.on('message', (raw) => onMessage(c, raw as Buffer));
        c.ws.on('close', (code) => {
          if (c.counted) {
            c.counted = false;
            open--;
          }
          closed++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        });
        const ok = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 30_000);
          c.ws.once('message', () => {
            clearTimeout(timer);
            resolve(true);
          });
          c.ws.once('error', () => {
            clearTimeout(timer);
            resolve(false);
          });
        });
        if (ok) {
          clients.push(c);
          connected++;
          if (c.ws.readyState === WebSocket.OPEN) {
            c.counted = true;
            open++;
          }
        } else {
          failed++;
          c.ws.terminate();
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, opener));
    return { connected, failed };
  };

  const missing = (ids: string[]) => {
    let n = 0;
    for (const id of ids) n += Math.max(0, open - (receipts.get(id)?.length ?? 0));
    return n;
  };

  port.on('message', async (command: ClientCommand) => {
    if (command.cmd === 'connect') {
      port.postMessage({ id: command.id, ...(await connect(command.url, command.headers, command.count, command.parallel)) });
    } else if (command.cmd === 'wait') {
      const deadline = Date.now() + command.timeoutMs;
      while (missing(command.eventIds) > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now())));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      port.postMessage({ id: command.id, missing: missing(command.eventIds) });
    } else if (command.cmd === 'collect') {
      const reply: CollectReply = {
        receipts: Object.fromEntries(receipts),
        duplicates,
        outOfOrder,
        closed,
        closeCodes: { ...closeCodes },
        open,
      };
      receipts = new Map();
      duplicates = 0;
      outOfOrder = 0;
      for (const c of clients) c.seen.clear();
      port.postMessage({ id: command.id, ...reply });
    } else if (command.cmd === 'close') {
      clearInterval(acker);
      clearInterval(pinger);
      for (const c of clients) c.ws.close(1000);
      await new Promise((r) => setTimeout(r, 500));
      for (const c of clients) c.ws.terminate();
      port.postMessage({ id: command.id });
    }
  });
  waiters = [];
}
