import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { ACK_INTERVAL_MS, PING_FRAME, ackDelayMs } from '../../durable-objects/protocol.ts';

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
  | { cmd: 'drop'; id: number }
  | { cmd: 'rejoin'; id: number; url: string; headers: Record<string, string>; parallel: number; untilSeq: number; startedAt: number; timeoutMs: number }
  | { cmd: 'close'; id: number };

/** A reconnect storm, as one thread saw it: every dropped socket coming back with `?since=`. */
export interface RejoinReply {
  reconnected: number;
  failed: number;
  /** Sockets that applied every seq up to `untilSeq`, and when (ms after `startedAt`). */
  caughtUp: number;
  caughtUpMs: number[];
  /** Seqs that did not follow the one before (a gap), seqs seen twice, and snapshot markers (a gap the client must reload for). */
  gaps: number;
  duplicates: number;
  snapshots: number;
}

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
  /** This connection's place in the ack interval (protocol.ts `ackDelayMs`), drawn when it opens. */
  ackSpread: number;
  /** When the pending ack goes (null: nothing new to acknowledge). */
  ackDueAt: number | null;
  seen: Set<string>;
  /** Counted in `open` (connected and not yet closed). */
  counted: boolean;
  /** Reconnected with `?since=`: hello does not move `lastSeq`, the replay does. */
  resuming: boolean;
  /** During a storm: the seq to reach, and when it was reached. */
  target: number | null;
  caughtUpAt: number | null;
}

const now = () => performance.timeOrigin + performance.now();

if (parentPort && workerData?.scaleClients) {
  const port = parentPort;
  const clients: Client[] = [];
  let receipts = new Map<string, number[]>();
  let duplicates = 0;
  let outOfOrder = 0;
  let closed = 0;
  let snapshots = 0;
  // Kept as a count, not recomputed by a scan: every received message wakes the waiters, and a
  // scan of every socket per message is quadratic in the viewers a thread holds.
  let open = 0;
  const closeCodes: Record<string, number> = {};
  let waiters: Array<() => void> = [];

  const onMessage = (c: Client, raw: Buffer) => {
    const at = now();
    const frame = JSON.parse(raw.toString()) as { type: string; seq: number; ack_ms?: number; messages?: Array<{ type: string; seq: number; data?: { event_id?: string } }>; data?: { event_id?: string } };
    if (frame.type === 'hello') {
      if (!c.resuming) c.lastSeq = frame.seq;
      c.ackedSent = c.lastSeq;
      c.ackMs = frame.ack_ms ?? ACK_INTERVAL_MS;
      return;
    }
    if (frame.type === 'pong' || frame.type === 'error') return;
    if (frame.type === 'snapshot') {
      snapshots++;
      c.lastSeq = frame.seq;
      return;
    }
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
    if (c.lastSeq > c.ackedSent) c.ackDueAt ??= at + ackDelayMs(c.ackMs, c.ackSpread);
    if (c.target !== null && c.caughtUpAt === null && c.lastSeq >= c.target) c.caughtUpAt = at;
    if (waiters.length > 0) for (const w of waiters.splice(0)) w();
  };

  // Acks as the protocol asks: the last applied seq, each connection at its own place in the
  // interval after something new arrived.
  const acker = setInterval(() => {
    const t = now();
    for (const c of clients) {
      if (c.ackDueAt === null || c.ackDueAt > t) continue;
      c.ackDueAt = null;
      if (c.ws.readyState !== WebSocket.OPEN || c.lastSeq <= c.ackedSent) continue;
      c.ws.send(`{"type":"ack","seq":${c.lastSeq}}`);
      c.ackedSent = c.lastSeq;
    }
  }, 100);
  const pinger = setInterval(() => {
    for (const c of clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(PING_FRAME);
  }, 30_000);

  /** Opens the client's socket and waits for its first frame (hello); false if it never came. */
  const openSocket = async (c: Client, url: string, headers: Record<string, string>): Promise<boolean> => {
    c.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    c.ackSpread = Math.random();
    c.ackDueAt = null;
    const ws = c.ws;
    ws.on('message', (raw) => onMessage(c, raw as Buffer));
    ws.on('close', (code) => {
      if (c.counted && c.ws === ws) {
        c.counted = false;
        open--;
      }
      closed++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      ws.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      ws.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ok && ws.readyState === WebSocket.OPEN) {
      c.counted = true;
      open++;
    }
    if (!ok) ws.terminate();
    return ok;
  };

  /** Runs `work` over `items` with `parallel` in flight. */
  const pool = async <T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < items.length) await work(items[next++]!);
    }));
  };

  const connect = async (url: string, headers: Record<string, string>, count: number, parallel: number): Promise<{ connected: number; failed: number }> => {
    let connected = 0;
    let failed = 0;
    await pool(Array.from({ length: count }, (_, i) => i), parallel, async () => {
      const c: Client = { ws: undefined as unknown as WebSocket, lastSeq: -1, ackedSent: 0, ackMs: ACK_INTERVAL_MS, ackSpread: 1, ackDueAt: null, seen: new Set(), counted: false, resuming: false, target: null, caughtUpAt: null };
      if (await openSocket(c, url, headers)) {
        clients.push(c);
        connected++;
      } else {
        failed++;
      }
    });
    return { connected, failed };
  };

  /** A deploy, as clients see it: every socket dropped at once, without a close frame. */
  const drop = async (): Promise<number> => {
    const dropping = clients.filter((c) => c.ws.readyState === WebSocket.OPEN);
    for (const c of dropping) c.ws.terminate();
    const deadline = Date.now() + 10_000;
    while (open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return dropping.length;
  };

  /** Every client back with `?since=` its last applied seq, `parallel` at a time; waits until all reach `untilSeq`. */
  const rejoin = async (command: Extract<ClientCommand, { cmd: 'rejoin' }>): Promise<RejoinReply> => {
    const before = { gaps: outOfOrder, duplicates, snapshots };
    let reconnected = 0;
    let failed = 0;
    for (const c of clients) {
      c.resuming = true;
      c.target = command.untilSeq;
      c.caughtUpAt = c.lastSeq >= command.untilSeq ? command.startedAt : null;
    }
    await pool(clients, command.parallel, async (c) => {
      if (await openSocket(c, `${command.url}&since=${c.lastSeq}`, command.headers)) reconnected++;
      else failed++;
    });
    const deadline = Date.now() + command.timeoutMs;
    const behind = () => clients.some((c) => c.caughtUpAt === null && c.ws.readyState === WebSocket.OPEN);
    while (behind() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const times = clients.flatMap((c) => (c.caughtUpAt === null ? [] : [c.caughtUpAt - command.startedAt]));
    for (const c of clients) {
      c.resuming = false;
      c.target = null;
    }
    return {
      reconnected,
      failed,
      caughtUp: times.length,
      caughtUpMs: times,
      gaps: outOfOrder - before.gaps,
      duplicates: duplicates - before.duplicates,
      snapshots: snapshots - before.snapshots,
    };
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
    } else if (command.cmd === 'drop') {
      port.postMessage({ id: command.id, dropped: await drop() });
    } else if (command.cmd === 'rejoin') {
      port.postMessage({ id: command.id, ...(await rejoin(command)) });
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
