import { DurableObject } from 'cloudflare:workers';
import {
  ACK_INTERVAL_MS,
  ClientMessageSchema,
  CLOSE_CODES,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_SWEEP_MS,
  HEARTBEAT_TIMEOUT_MS,
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  MAX_BUFFERED_BYTES,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_PUBLISH_BYTES,
  MAX_UNACKED_BYTES,
  PING_FRAME,
  PONG_FRAME,
  PublishSchema,
  SLOW_CLIENT_LAG_MS,
} from './protocol.ts';
import type { HubMessage, PublishInput } from './protocol.ts';
import type { Bindings } from '../worker/config/env.ts';
import { rootLogger } from '../worker/lib/log.ts';

const log = rootLogger.child({ component: 'dashboard-hub' });

/** How many messages the hub keeps for reconnecting clients. */
export const REPLAY_LOG_LIMIT = 1_000;

/**
 * From this many sockets on, a fan-out costs enough (each frame is a separate write in the
 * runtime) that publishes arriving while one is under way are worth merging into `batch` frames.
 * Smaller hubs send every message the moment it is stored.
 */
export const COALESCE_MIN_SOCKETS = 32;

/**
 * Once a flush has carried more than one message, publishes are arriving faster than fan-outs
 * finish, and the next flush waits this long to gather the publishers' next calls too. A lone
 * publish after a quiet spell goes out on the next turn.
 */
export const BURST_FLUSH_DELAY_MS = 5;

interface SocketAttachment {
  subject: string;
  connectedAt: string;
}

/** What the awake hub tracks per socket; lost on hibernation and rebuilt leniently on next sight. */
interface SocketState {
  /** The last seq the client acknowledged (or was caught up to when tracking began). */
  ackedSeq: number;
  /** When ackedSeq last moved, in ms. */
  ackedAt: number;
  /** The hub's seq when the socket joined or resumed: only live sends after it count as backlog bytes. */
  liveFrom: number;
  /** When the hub last received any frame from the client, in ms (0: not since waking). */
  lastHeardAt: number;
}

export interface HubStats {
  connections: number;
  lastSeq: number;
  oldestSeq: number | null;
  /** Sockets closed since the object last woke, by reason. */
  dropped: { slowConsumer: number; heartbeatTimeout: number; sendFailed: number };
}

/** RPC results carry refusals as values: a thrown error would cross the RPC boundary twice. */
export type PublishRefusal =
  | { ok: false; reason: 'invalid_message'; issues: string[] }
  | { ok: false; reason: 'too_large'; issues: string[] };

export type PublishResult = { ok: true; seq: number; delivered: number } | PublishRefusal;

/** `seq` is the batch's last seq, so callers that only read `seq` treat both results alike. */
export type PublishBatchResult = { ok: true; firstSeq: number; seq: number; delivered: number } | PublishRefusal;

type Prepared = { ok: true; type: string; data: string } | PublishRefusal;

/**
 * One hub per dashboard: accepts sockets with the Hibernation API (so idle dashboards cost
 * nothing), assigns `seq`, keeps a bounded replay log in SQLite and fans messages out. Every
 * message is serialised once and sent to each socket without waiting on any of them; sockets that
 * fall behind or stop answering are closed (protocol.ts) rather than buffered without bound.
 *
 * Sharding, when one dashboard outgrows one object: fan-out runs on the object's single thread,
 * so sockets × frames per second is capped by the runtime's cost per frame (`npm run bench`
 * measures it), and the runtime caps how many sockets one object may accept. Split the hub in two
 * tiers without changing publishers or clients. The hub named after the dashboard stays the only
 * writer: it assigns seq, keeps the replay log, answers `resume`, and holds no sockets. Edge hubs
 * named `<dashboard>#<k>` hold the sockets; the stream route picks k from a hash of the connection,
 * and raises the number of edges as sockets grow (a few thousand per edge). On each flush the root
 * hands the same serialised frame to every edge with one RPC call each, started together and in
 * seq order per edge, so each edge's sockets see the root's order; an edge replays by asking the
 * root. The root's cost per message becomes one call per edge instead of one frame per socket.
 */
export class DashboardHub extends DurableObject<Bindings> {
  private lastSeq = 0;
  /** Stored but not yet sent: waiting for the coalescing turn. */
  private pending: Array<{ seq: number; body: string }> = [];
  private flushScheduled = false;
  private lastFlushSize = 0;
  private readonly sockets = new WeakMap<WebSocket, SocketState>();
  private readonly recent = new SendLog(4_096);
  private lastLagCheck = 0;
  private sweepArmed = false;
  private reportsBufferedAmount: boolean | undefined;
  private readonly dropped = { slowConsumer: 0, heartbeatTimeout: 0, sendFailed: 0 };

  /** Thresholds per instance so tests can shorten them through runInDurableObject. */
  readonly tuning = {
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    slowClientLagMs: SLOW_CLIENT_LAG_MS,
    maxUnackedBytes: MAX_UNACKED_BYTES,
  };

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    // Schema and the sequence counter are ready before the first request or socket event.
    void ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS replay_log (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        body TEXT NOT NULL
      )`);
      const row = sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM replay_log').one();
      this.lastSeq = row.seq ?? 0;
    });
  }

  /** WebSocket upgrade, forwarded by the worker after it has authenticated the caller. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const url = new URL(request.url);
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;
    const subject = request.headers.get('x-hub-subject') ?? 'anonymous';

    await this.armSweep();
    // A new socket starts from the hub's latest seq, so nothing stored may still be on its way.
    this.flush();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [subject]);
    server.serializeAttachment({ subject, connectedAt: new Date().toISOString() } satisfies SocketAttachment);
    this.send(server, { type: 'hello', seq: this.lastSeq, ts: new Date().toISOString(), heartbeat_ms: HEARTBEAT_INTERVAL_MS, ack_ms: ACK_INTERVAL_MS });
    this.track(server, this.catchUp(server, since));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Typed RPC: persist, assign the next seq, fan out. Invalid input is refused, never stored.
   * `delivered` is the number of sockets the message goes to.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    const prepared = prepare(input);
    if (!prepared.ok) return prepared;
    const result = this.commit([prepared]);
    return { ok: true, seq: result.seq, delivered: result.delivered };
  }

  /**
   * A burst in one call: consecutive seqs, one SQLite transaction, and one `batch` frame per
   * socket instead of one frame per message. All or nothing: one bad message refuses the batch.
   */
  async publishBatch(messages: readonly PublishInput[]): Promise<PublishBatchResult> {
    if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH_MESSAGES) {
      return { ok: false, reason: 'invalid_message', issues: [`messages: expected 1 to ${MAX_BATCH_MESSAGES} messages`] };
    }
    const prepared: Array<{ type: string; data: string }> = [];
    const invalid: string[] = [];
    const tooLarge: string[] = [];
    let bytes = 0;
    messages.forEach((input, i) => {
      const p = prepare(input);
      if (p.ok) {
        prepared.push(p);
        bytes += p.data.length;
      } else {
        (p.reason === 'too_large' ? tooLarge : invalid).push(...p.issues.map((issue) => `${i}.${issue}`));
      }
    });
    if (invalid.length > 0) return { ok: false, reason: 'invalid_message', issues: invalid };
    if (tooLarge.length > 0) return { ok: false, reason: 'too_large', issues: tooLarge };
    if (bytes > MAX_BATCH_BYTES) {
      return { ok: false, reason: 'too_large', issues: [`messages: ${bytes} bytes of data; the limit per batch is ${MAX_BATCH_BYTES}`] };
    }
    return { ok: true, ...this.commit(prepared) };
  }

  async stats(): Promise<HubStats> {
    const row = this.ctx.storage.sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one();
    return { connections: this.ctx.getWebSockets().length, lastSeq: this.lastSeq, oldestSeq: row.oldest, dropped: { ...this.dropped } };
  }

  /** The liveness sweep: runs every HEARTBEAT_SWEEP_MS while any socket is connected. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      if (now - this.lastHeard(ws) > this.tuning.heartbeatTimeoutMs) {
        this.drop(ws, 'heartbeatTimeout', 'no ping within the heartbeat timeout');
      }
    }
    this.checkLag(now);
    this.sweepArmed = false;
    if (this.ctx.getWebSockets().length > 0) await this.armSweep();
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const size = typeof raw === 'string' ? raw.length : raw.byteLength;
      if (size > MAX_CLIENT_MESSAGE_BYTES) {
        ws.close(CLOSE_CODES.tooLarge, 'message too large');
        return;
      }
      const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
      const state = this.track(ws, this.lastSeq);
      state.lastHeardAt = Date.now();
      // Acks are most of what clients send; the canonical spelling skips JSON and schema parsing.
      const ack = /^\{"type":"ack","seq":(\d{1,15})\}$/.exec(text);
      if (ack) {
        this.acknowledge(state, Number(ack[1]));
        return;
      }
      const parsed = ClientMessageSchema.safeParse(safeJson(text));
      if (!parsed.success) {
        this.send(ws, { type: 'error', seq: this.lastSeq, ts: new Date().toISOString(), code: 'bad_message' });
        return;
      }
      const message = parsed.data;
      if (message.type === 'ping') {
        this.send(ws, { type: 'pong', seq: this.lastSeq, ts: new Date().toISOString() });
      } else if (message.type === 'ack') {
        this.acknowledge(state, message.seq);
      } else {
        // The client says where it stands: lag is measured from here, whatever it acked before.
        state.ackedSeq = this.catchUp(ws, message.since);
        state.ackedAt = Date.now();
        state.liveFrom = this.lastSeq;
      }
    } catch (err) {
      log.error('hub message handler failed', { error: err });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Answer the close frame so the client's close handshake completes.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    log.warn('hub socket error', { error });
    try {
      ws.close(1011, 'socket error');
    } catch {
      // Already closed.
    }
  }

  /**
   * Assigns consecutive seqs and stores them in one transaction, then fans them out. A small hub
   * sends at once. A large one sends on a later turn of the event loop, so publishes that queued
   * up behind a fan-out leave together as one `batch` frame: the busier the hub, the fewer frames
   * per message, and a lone publish waits only one turn.
   */
  private commit(messages: ReadonlyArray<{ type: string; data: string }>): { firstSeq: number; seq: number; delivered: number } {
    const firstSeq = this.lastSeq + 1;
    const ts = new Date().toISOString();
    const bodies = messages.map((m, i) => `{"type":"${m.type}","seq":${firstSeq + i},"ts":"${ts}","data":${m.data}}`);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      bodies.forEach((body, i) => sql.exec('INSERT INTO replay_log (seq, type, ts, body) VALUES (?, ?, ?, ?)', firstSeq + i, messages[i]!.type, ts, body));
      sql.exec('DELETE FROM replay_log WHERE seq <= ?', firstSeq + bodies.length - 1 - REPLAY_LOG_LIMIT);
    });
    // Only a committed message takes its seq, so a failed write never leaves a hole or a reuse.
    this.lastSeq = firstSeq + bodies.length - 1;
    const now = Date.now();
    bodies.forEach((body, i) => {
      this.recent.record(firstSeq + i, now, body.length);
      this.pending.push({ seq: firstSeq + i, body });
    });
    const sockets = this.ctx.getWebSockets().length;
    if (this.flushScheduled) return { firstSeq, seq: this.lastSeq, delivered: sockets };
    if (sockets < COALESCE_MIN_SOCKETS) return { firstSeq, seq: this.lastSeq, delivered: this.flush() };
    this.flushScheduled = true;
    setTimeout(() => {
      try {
        this.flush();
      } catch (err) {
        log.error('hub fan-out failed', { error: err });
      }
    }, this.lastFlushSize > 1 ? BURST_FLUSH_DELAY_MS : 0);
    return { firstSeq, seq: this.lastSeq, delivered: sockets };
  }

  /** Sends everything pending, in seq order, in as few frames as the batch limits allow. */
  private flush(): number {
    this.flushScheduled = false;
    if (this.pending.length === 0) return 0;
    const pending = this.pending;
    this.pending = [];
    this.lastFlushSize = pending.length;
    const now = Date.now();
    const ts = new Date(now).toISOString();
    let delivered = 0;
    for (let from = 0; from < pending.length; ) {
      let to = from + 1;
      let bytes = pending[from]!.body.length;
      while (to < pending.length && to - from < MAX_BATCH_MESSAGES && bytes + pending[to]!.body.length <= MAX_BATCH_BYTES) {
        bytes += pending[to]!.body.length;
        to++;
      }
      const chunk = pending.slice(from, to);
      const frame =
        chunk.length === 1 ? chunk[0]!.body : `{"type":"batch","seq":${chunk.at(-1)!.seq},"ts":"${ts}","messages":[${chunk.map((m) => m.body).join(',')}]}`;
      delivered = this.broadcast(frame, now);
      from = to;
    }
    return delivered;
  }

  private broadcast(frame: string, now: number): number {
    if (now - this.lastLagCheck >= ACK_INTERVAL_MS) this.checkLag(now);
    const sockets = this.ctx.getWebSockets();
    this.reportsBufferedAmount ??= sockets.length > 0 ? typeof sockets[0]!.bufferedAmount === 'number' : undefined;
    let delivered = 0;
    for (const ws of sockets) {
      try {
        ws.send(frame);
        delivered++;
      } catch {
        // A socket that cannot take a message is gone; drop it rather than stall the rest.
        this.drop(ws, 'sendFailed', 'send failed');
        continue;
      }
      if (this.reportsBufferedAmount && ws.bufferedAmount > MAX_BUFFERED_BYTES) this.drop(ws, 'slowConsumer', 'slow consumer');
    }
    return delivered;
  }

  /** Closes sockets whose acknowledgements lag too far behind what was sent (protocol.ts). */
  private checkLag(now: number): void {
    this.lastLagCheck = now;
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.track(ws, this.lastSeq);
      if (state.ackedSeq >= this.lastSeq) continue;
      // Measured from the later of the first unacked send and the last ack, so a client is never
      // blamed for time it had nothing to acknowledge, nor for sends from before the hub woke.
      const since = Math.max(state.ackedAt, this.recent.sentAtOrBefore(state.ackedSeq + 1) ?? state.ackedAt);
      const unackedBytes = this.recent.bytesAfter(Math.max(state.ackedSeq, state.liveFrom));
      if (now - since > this.tuning.slowClientLagMs || unackedBytes > this.tuning.maxUnackedBytes) {
        this.drop(ws, 'slowConsumer', `slow consumer: reconnect with ?since=${state.ackedSeq}`);
      }
    }
  }

  private acknowledge(state: SocketState, seq: number): void {
    const acked = Math.min(seq, this.lastSeq);
    if (acked > state.ackedSeq) {
      state.ackedSeq = acked;
      state.ackedAt = Date.now();
    }
  }

  /** The socket's state, created on first sight with the client treated as caught up to `seq`. */
  private track(ws: WebSocket, seq: number): SocketState {
    let state = this.sockets.get(ws);
    if (!state) {
      state = { ackedSeq: seq, ackedAt: Date.now(), liveFrom: this.lastSeq, lastHeardAt: 0 };
      this.sockets.set(ws, state);
    }
    return state;
  }

  /** Latest sign of life: a runtime-answered ping, any other frame, or the connection itself. */
  private lastHeard(ws: WebSocket): number {
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    const heard = this.sockets.get(ws)?.lastHeardAt ?? 0;
    const attachment = ws.deserializeAttachment() as SocketAttachment | null;
    const connected = attachment ? Date.parse(attachment.connectedAt) || 0 : 0;
    return Math.max(pinged, heard, connected);
  }

  private drop(ws: WebSocket, why: keyof typeof CLOSE_CODES & keyof HubStats['dropped'], reason: string): void {
    // A socket already closing stays listed until its peer answers; it is dropped only once.
    if (ws.readyState !== WebSocket.OPEN) return;
    try {
      ws.close(CLOSE_CODES[why], reason);
      this.dropped[why]++;
    } catch {
      // Already closing.
    }
  }

  /** The sweep alarm exists whenever sockets may be connected; it re-arms itself while they are. */
  private async armSweep(): Promise<void> {
    if (this.sweepArmed) return;
    this.sweepArmed = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_SWEEP_MS);
  }

  /**
   * Sends what a client missed after `since`, or a snapshot marker when the log no longer covers
   * it. Returns the seq the client stands at once it has applied what was sent before the replay.
   */
  private catchUp(ws: WebSocket, since: number | null): number {
    if (since === null) return this.lastSeq;
    const sql = this.ctx.storage.sql;
    const oldest = sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one().oldest;
    const coverable = since >= this.lastSeq || (oldest !== null && since >= oldest - 1);
    if (since > this.lastSeq || !coverable) {
      // A future seq (hub storage was reset) or a gap older than the log: start over from a snapshot.
      this.send(ws, { type: 'snapshot', seq: this.lastSeq, ts: new Date().toISOString(), reason: since > this.lastSeq ? 'ahead' : 'gap_too_old' });
      return this.lastSeq;
    }
    for (const row of sql.exec<{ body: string }>('SELECT body FROM replay_log WHERE seq > ? ORDER BY seq', since)) {
      ws.send(row.body);
    }
    return since;
  }

  private send(ws: WebSocket, message: HubMessage): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed between accept and send; its close handler cleans up.
    }
  }
}

/** Validates one publish and serialises its data once; the frame is assembled around it. */
function prepare(input: PublishInput): Prepared {
  const result = PublishSchema.safeParse(input);
  if (!result.success) {
    return { ok: false, reason: 'invalid_message', issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  }
  let data: string;
  try {
    data = JSON.stringify(result.data.data);
  } catch (err) {
    return { ok: false, reason: 'invalid_message', issues: [`data: not serialisable as JSON (${String(err)})`] };
  }
  // UTF-16 length is a lower bound on UTF-8 bytes, so only long strings pay for encoding.
  const bytes = data.length * 3 <= MAX_PUBLISH_BYTES ? data.length : new TextEncoder().encode(data).byteLength;
  if (bytes > MAX_PUBLISH_BYTES) {
    return { ok: false, reason: 'too_large', issues: [`data: ${bytes} bytes; the limit is ${MAX_PUBLISH_BYTES}`] };
  }
  return { ok: true, type: result.data.type, data };
}

/**
 * When each recent seq went out and how many bytes had gone out up to it: enough to tell how
 * old and how large a socket's unacknowledged backlog is. A ring, so its memory is fixed. Seqs
 * arrive consecutively; the ring starts empty whenever the object wakes.
 */
class SendLog {
  private readonly size: number;
  private readonly sentAt: Float64Array;
  private readonly cumulative: Float64Array;
  private total = 0;
  private first = 0;
  private newest = 0;

  constructor(size: number) {
    this.size = size;
    this.sentAt = new Float64Array(size);
    this.cumulative = new Float64Array(size);
  }

  record(seq: number, at: number, bytes: number): void {
    if (this.first === 0) this.first = seq;
    this.total += bytes;
    this.sentAt[seq % this.size] = at;
    this.cumulative[seq % this.size] = this.total;
    this.newest = seq;
  }

  private get oldest(): number {
    return Math.max(this.first, this.newest - this.size + 1);
  }

  /** When `seq` went out, or an upper bound if the ring has moved past it; undefined if unknown. */
  sentAtOrBefore(seq: number): number | undefined {
    if (this.first === 0 || seq > this.newest || seq < this.first) return undefined;
    return this.sentAt[Math.max(seq, this.oldest) % this.size];
  }

  /** Bytes sent after `seq` (a lower bound when the ring has moved past it). */
  bytesAfter(seq: number): number {
    if (this.first === 0 || seq >= this.newest) return 0;
    if (seq < this.first) return this.total;
    return this.total - this.cumulative[Math.max(seq, this.oldest) % this.size]!;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
