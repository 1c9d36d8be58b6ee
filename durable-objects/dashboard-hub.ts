import { DurableObject } from 'cloudflare:workers';
import {
  ACK_INTERVAL_MS,
  CLIENT_MESSAGE_BURST,
  CLIENT_MESSAGES_PER_SECOND,
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
  RESUME_BUDGET,
  RETAINED_TYPES,
  RESUME_WINDOW_MS,
  SLOW_CLIENT_LAG_MS,
} from './protocol.ts';
import type { HubMessage, PublishInput } from './protocol.ts';
import { HUB_CREDENTIAL_HEADER, endedCredentials, parseSocketCredential } from '../worker/auth/socket-access.ts';
import type { SocketCredential } from '../worker/auth/socket-access.ts';
import { loadConfig } from '../worker/config/env.ts';
import type { Bindings } from '../worker/config/env.ts';
import { rootLogger } from '../worker/lib/log.ts';
import { createServices } from '../worker/services/index.ts';

const log = rootLogger.child({ component: 'dashboard-hub' });

/** How many messages the hub keeps for reconnecting clients. */
export const REPLAY_LOG_LIMIT = 1_000;
/**
 * How long a publish key is remembered. Well past the outbox's claim expiry (30 s), after which a
 * publisher that died mid-publish is retried by another.
 */
export const PUBLISH_KEY_RETENTION_MS = 60 * 60_000;
export const MAX_PUBLISH_KEY_LENGTH = 200;

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
  /** Who opened the socket and with what; checked on every sweep, and the socket's end of life. */
  credential: SocketCredential;
}

/** A token bucket: `tokens` as of `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
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
  /** Replays sent and not yet acknowledged: they count toward the backlog like live sends. */
  replays: Array<{ upTo: number; bytes: number }>;
  /** The highest seq a replay sent this socket (replays may run ahead of the last fan-out). */
  replayedUpTo: number;
  resumes: Bucket;
  messages: Bucket;
}

type DropReason = 'slowConsumer' | 'heartbeatTimeout' | 'sendFailed' | 'rateLimited' | 'credentialExpired' | 'accessEnded';

export interface HubStats {
  connections: number;
  lastSeq: number;
  oldestSeq: number | null;
  /** Sockets closed since the object last woke, by reason. */
  dropped: Record<DropReason, number>;
}

/** Which sockets `endAccess` closes: one user's, or those opened under one session. */
export type AccessEnd = { userId: string } | { sessionId: string };

/** RPC results carry refusals as values: a thrown error would cross the RPC boundary twice. */
export type PublishRefusal =
  | { ok: false; reason: 'invalid_message'; issues: string[] }
  | { ok: false; reason: 'too_large'; issues: string[] };

export type PublishResult = { ok: true; seq: number; delivered: number } | PublishRefusal;

/** `seq` is the batch's last seq, so callers that only read `seq` treat both results alike. */
/** `seqs[i]` is message i's seq: its own, or, for a key published before, the seq it got then. */
export type PublishBatchResult = { ok: true; firstSeq: number; seq: number; delivered: number; seqs: number[]; duplicates: number } | PublishRefusal;

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
  /** The last seq fanned out to every socket (lastSeq, less what waits for the coalescing turn). */
  private sentSeq = 0;
  /** Stored but not yet sent: waiting for the coalescing turn. */
  private pending: Array<{ seq: number; body: string }> = [];
  private flushScheduled = false;
  private lastFlushSize = 0;
  private readonly sockets = new WeakMap<WebSocket, SocketState>();
  private readonly recent = new SendLog(4_096);
  private lastLagCheck = 0;
  /** When the alarm is set for (null: none); undefined until read after waking. */
  private alarmAt: number | null | undefined;
  private reportsBufferedAmount: boolean | undefined;
  private readonly dropped: Record<DropReason, number> = {
    slowConsumer: 0,
    heartbeatTimeout: 0,
    sendFailed: 0,
    rateLimited: 0,
    credentialExpired: 0,
    accessEnded: 0,
  };

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
      // Publishers' idempotency keys (an event's event_id): a publisher that retries after a crash
      // between our answer and its own bookkeeping gets the first seq back instead of a second copy.
      sql.exec(`CREATE TABLE IF NOT EXISTS published_keys (
        key TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL
      )`);
      sql.exec('CREATE INDEX IF NOT EXISTS published_keys_at ON published_keys (at)');
      // The last message of each retained type, for the hello of every new socket.
      sql.exec('CREATE TABLE IF NOT EXISTS retained (type TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL)');
      const row = sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM replay_log').one();
      this.lastSeq = row.seq ?? 0;
      this.sentSeq = this.lastSeq;
    });
  }

  /** WebSocket upgrade, forwarded by the worker after it has authenticated the caller. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    // Only the stream route reaches the hub, and it always says who the socket is for.
    const credential = parseSocketCredential(request.headers.get(HUB_CREDENTIAL_HEADER));
    if (!credential) return new Response('the hub is joined through /v1/dashboard/stream', { status: 400 });
    const url = new URL(request.url);
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;

    const now = Date.now();
    await this.armAlarm(Math.min(now + HEARTBEAT_SWEEP_MS, expiryMs(credential) ?? Number.POSITIVE_INFINITY));
    // A new socket starts from the hub's latest seq, so nothing stored may still be on its way.
    this.flush();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [credential.userId, `session:${credential.credentialId}`]);
    server.serializeAttachment({ subject: credential.userId, connectedAt: new Date(now).toISOString(), credential } satisfies SocketAttachment);
    const retained = this.ctx.storage.sql.exec<{ body: string }>('SELECT body FROM retained ORDER BY seq').toArray().map((r) => safeJson(r.body));
    this.send(server, {
      type: 'hello',
      seq: this.lastSeq,
      ts: new Date().toISOString(),
      heartbeat_ms: HEARTBEAT_INTERVAL_MS,
      ack_ms: ACK_INTERVAL_MS,
      ...(retained.length > 0 ? { retained } : {}),
    });
    const state = this.track(server, this.lastSeq);
    // Connecting with ?since= is a resume too, and draws on the same budget.
    if (since !== null) take(state.resumes, now, RESUME_BUDGET / RESUME_WINDOW_MS, RESUME_BUDGET);
    this.resume(server, state, since);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Closes the sockets of a user whose access ended (sign-out everywhere, disabling, a role
   * change) or of one signed-out session, at once; the sweep would find them within
   * HEARTBEAT_SWEEP_MS anyway. Answers how many were closed.
   */
  async endAccess(which: AccessEnd): Promise<number> {
    const tag = 'userId' in which ? which.userId : `session:${which.sessionId}`;
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tag)) {
      if (this.drop(ws, 'accessEnded', 'access ended: sign in again')) closed++;
    }
    return closed;
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
  async publishBatch(messages: readonly PublishInput[], options: { keys?: readonly string[] } = {}): Promise<PublishBatchResult> {
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
    const keys = options.keys;
    if (keys !== undefined && (!Array.isArray(keys) || keys.length !== messages.length || keys.some((k) => typeof k !== 'string' || k.length === 0 || k.length > MAX_PUBLISH_KEY_LENGTH))) {
      invalid.push(`keys: expected one key of 1 to ${MAX_PUBLISH_KEY_LENGTH} characters per message`);
    }
    if (invalid.length > 0) return { ok: false, reason: 'invalid_message', issues: invalid };
    if (tooLarge.length > 0) return { ok: false, reason: 'too_large', issues: tooLarge };
    if (bytes > MAX_BATCH_BYTES) {
      return { ok: false, reason: 'too_large', issues: [`messages: ${bytes} bytes of data; the limit per batch is ${MAX_BATCH_BYTES}`] };
    }
    if (!keys) {
      const committed = this.commit(prepared);
      return { ok: true, ...committed, seqs: prepared.map((_, i) => committed.firstSeq + i), duplicates: 0 };
    }
    // Keys seen before keep their seq; only the rest are stored and sent (a key twice in one batch
    // is sent once).
    const known = new Map(
      this.ctx.storage.sql
        .exec<{ key: string; seq: number }>('SELECT key, seq FROM published_keys WHERE key IN (SELECT value FROM json_each(?))', JSON.stringify(keys))
        .toArray()
        .map((r) => [r.key, r.seq]),
    );
    const fresh: number[] = [];
    const firstIndex = new Map<string, number>();
    keys.forEach((key, i) => {
      if (known.has(key) || firstIndex.has(key)) return;
      firstIndex.set(key, i);
      fresh.push(i);
    });
    const committed = fresh.length > 0 ? this.commit(fresh.map((i) => prepared[i]!), fresh.map((i) => keys[i]!)) : null;
    fresh.forEach((i, n) => known.set(keys[i]!, committed!.firstSeq + n));
    const seqs = keys.map((key) => known.get(key)!);
    return {
      ok: true,
      firstSeq: Math.min(...seqs),
      seq: Math.max(...seqs),
      delivered: committed?.delivered ?? 0,
      seqs,
      duplicates: keys.length - fresh.length,
    };
  }

  async stats(): Promise<HubStats> {
    const row = this.ctx.storage.sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one();
    return { connections: this.ctx.getWebSockets().length, lastSeq: this.lastSeq, oldestSeq: row.oldest, dropped: { ...this.dropped } };
  }

  /**
   * The sweep: runs every HEARTBEAT_SWEEP_MS while any socket is connected, and when a socket's
   * credential expires. Closes dead, lagging and expired sockets, then those whose access ended.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      // A socket from before sockets carried their credential gets a fresh one by reconnecting.
      const credential = attachmentOf(ws)?.credential;
      const expires = credential ? expiryMs(credential) : 0;
      if (expires !== null && expires <= now) {
        this.drop(ws, 'credentialExpired', 'credential expired: reconnect');
      } else if (now - this.lastHeard(ws) > this.tuning.heartbeatTimeoutMs) {
        this.drop(ws, 'heartbeatTimeout', 'no ping within the heartbeat timeout');
      }
    }
    this.checkLag(now);
    await this.checkAccess();
    const open = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
    if (open.length === 0) return;
    const nextExpiry = Math.min(...open.map((ws) => expiryMs(attachmentOf(ws)?.credential) ?? Number.POSITIVE_INFINITY));
    await this.armAlarm(Math.min(Date.now() + HEARTBEAT_SWEEP_MS, nextExpiry));
  }

  /**
   * Asks Postgres and Redis whether each open socket's credential still grants access, so a
   * sign-out, a disabled account or a changed role reaches sockets even when made outside the
   * worker. A failed check leaves the sockets open (each is still closed at its expiry) rather
   * than drop every client while a dependency blinks.
   */
  private async checkAccess(): Promise<void> {
    const open = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
    if (open.length === 0) return;
    const loaded = loadConfig(this.env);
    if (!loaded.ok || !loaded.config.DATABASE_URL) return;
    const services = createServices(loaded.config, undefined, log);
    try {
      const credentials = open.map((ws) => attachmentOf(ws)?.credential ?? null);
      const known = credentials.flatMap((c, i) => (c ? [{ c, ws: open[i]! }] : []));
      const ended = await endedCredentials(services, known.map((k) => k.c));
      known.forEach((k, i) => {
        if (ended[i]) this.drop(k.ws, 'accessEnded', 'access ended: sign in again');
      });
    } catch (err) {
      log.warn('hub access check failed; sockets stay open until their credentials expire', { error: err });
    } finally {
      await services.close().catch(() => undefined);
    }
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
      const now = Date.now();
      state.lastHeardAt = now;
      if (!take(state.messages, now, CLIENT_MESSAGES_PER_SECOND / 1_000, CLIENT_MESSAGE_BURST)) {
        this.drop(ws, 'rateLimited', 'too many messages');
        return;
      }
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
      } else if (!take(state.resumes, now, RESUME_BUDGET / RESUME_WINDOW_MS, RESUME_BUDGET)) {
        this.drop(ws, 'rateLimited', 'too many resumes');
      } else {
        this.resume(ws, state, message.since);
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
  private commit(messages: ReadonlyArray<{ type: string; data: string }>, keys?: readonly string[]): { firstSeq: number; seq: number; delivered: number } {
    const firstSeq = this.lastSeq + 1;
    const ts = new Date().toISOString();
    const bodies = messages.map((m, i) => `{"type":"${m.type}","seq":${firstSeq + i},"ts":"${ts}","data":${m.data}}`);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      bodies.forEach((body, i) => {
        sql.exec('INSERT INTO replay_log (seq, type, ts, body) VALUES (?, ?, ?, ?)', firstSeq + i, messages[i]!.type, ts, body);
        if ((RETAINED_TYPES as readonly string[]).includes(messages[i]!.type)) {
          sql.exec('INSERT INTO retained (type, seq, body) VALUES (?, ?, ?) ON CONFLICT (type) DO UPDATE SET seq = excluded.seq, body = excluded.body', messages[i]!.type, firstSeq + i, body);
        }
      });
      sql.exec('DELETE FROM replay_log WHERE seq <= ?', firstSeq + bodies.length - 1 - REPLAY_LOG_LIMIT);
      if (keys) {
        const at = Date.now();
        keys.forEach((key, i) => sql.exec('INSERT INTO published_keys (key, seq, at) VALUES (?, ?, ?)', key, firstSeq + i, at));
        sql.exec('DELETE FROM published_keys WHERE at < ?', at - PUBLISH_KEY_RETENTION_MS);
      }
    });
    // Only a committed message takes its seq, so a failed write never leaves a hole or a reuse.
    this.lastSeq = firstSeq + bodies.length - 1;
    if (this.ctx.getWebSockets().length === 0) this.sentSeq = this.lastSeq;
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
    this.sentSeq = pending.at(-1)!.seq;
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
    for (const ws of this.ctx.getWebSockets()) this.checkSocketLag(ws, this.track(ws, this.lastSeq), now);
  }

  private checkSocketLag(ws: WebSocket, state: SocketState, now: number): void {
    if (state.ackedSeq >= Math.max(this.sentSeq, state.replayedUpTo)) return;
    // Measured from the later of the first unacked send and the last ack, so a client is never
    // blamed for time it had nothing to acknowledge, nor for sends from before the hub woke.
    const since = Math.max(state.ackedAt, this.recent.sentAtOrBefore(state.ackedSeq + 1) ?? state.ackedAt);
    if (now - since > this.tuning.slowClientLagMs || this.unackedBytes(state) > this.tuning.maxUnackedBytes) {
      this.drop(ws, 'slowConsumer', `slow consumer: reconnect with ?since=${state.ackedSeq}`);
    }
  }

  /** Live sends since the socket joined or resumed, plus replays it has not acknowledged. */
  private unackedBytes(state: SocketState): number {
    let bytes = this.recent.bytesAfter(Math.max(state.ackedSeq, state.liveFrom));
    for (const r of state.replays) bytes += r.bytes;
    return bytes;
  }

  /**
   * An ack above anything the socket was sent is ignored: it would make a socket that never reads
   * look caught up. The socket keeps its backlog and is closed by the slow-consumer rules if it
   * really is not reading.
   */
  private acknowledge(state: SocketState, seq: number): void {
    if (seq > Math.max(this.sentSeq, state.replayedUpTo)) return;
    if (seq > state.ackedSeq) {
      state.ackedSeq = seq;
      state.ackedAt = Date.now();
    }
    if (state.replays.length > 0) state.replays = state.replays.filter((r) => r.upTo > seq);
  }

  /** The socket's state, created on first sight with the client treated as caught up to `seq`. */
  private track(ws: WebSocket, seq: number): SocketState {
    let state = this.sockets.get(ws);
    if (!state) {
      const now = Date.now();
      state = {
        ackedSeq: seq,
        ackedAt: now,
        liveFrom: this.lastSeq,
        lastHeardAt: 0,
        replays: [],
        replayedUpTo: 0,
        resumes: { tokens: RESUME_BUDGET, at: now },
        messages: { tokens: CLIENT_MESSAGE_BURST, at: now },
      };
      this.sockets.set(ws, state);
    }
    return state;
  }

  /** Latest sign of life: a runtime-answered ping, any other frame, or the connection itself. */
  private lastHeard(ws: WebSocket): number {
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    const heard = this.sockets.get(ws)?.lastHeardAt ?? 0;
    const attachment = attachmentOf(ws);
    const connected = attachment ? Date.parse(attachment.connectedAt) || 0 : 0;
    return Math.max(pinged, heard, connected);
  }

  /** Closes a socket for `why`; false when it was already closing (it is dropped only once). */
  private drop(ws: WebSocket, why: DropReason, reason: string): boolean {
    // A socket already closing stays listed until its peer answers.
    if (ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.close(CLOSE_CODES[why], reason);
      this.dropped[why]++;
      return true;
    } catch {
      return false;
    }
  }

  /** Makes sure the alarm fires by `at`: the sweep exists whenever sockets may be connected. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /**
   * The client says where it stands: what it missed after `since` is replayed, and lag is
   * measured from there, whatever it acked before. The replay's bytes count toward its backlog
   * until acknowledged, so a socket that asks for replays without reading them is closed as a
   * slow consumer like one that does not read live messages.
   */
  private resume(ws: WebSocket, state: SocketState, since: number | null): void {
    if (since === null) return;
    const replay = this.catchUp(ws, since, this.tuning.maxUnackedBytes - this.unackedBytes(state));
    state.ackedSeq = replay.standsAt;
    state.ackedAt = Date.now();
    state.liveFrom = this.lastSeq;
    if (replay.bytes > 0) {
      state.replays.push({ upTo: replay.upTo, bytes: replay.bytes });
      state.replayedUpTo = Math.max(state.replayedUpTo, replay.upTo);
    }
    this.checkSocketLag(ws, state, Date.now());
  }

  /**
   * Sends what a client missed after `since`, or a snapshot marker when the log no longer covers
   * it or the replay would not fit in what the socket may still hold unacknowledged (`room`
   * bytes). Answers the seq the client stands at once it has applied what was sent before the
   * replay, and what the replay sent.
   */
  private catchUp(ws: WebSocket, since: number, room: number): { standsAt: number; upTo: number; bytes: number } {
    const sql = this.ctx.storage.sql;
    const oldest = sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one().oldest;
    const coverable = since >= this.lastSeq || (oldest !== null && since >= oldest - 1);
    const size = () => sql.exec<{ bytes: number }>('SELECT COALESCE(SUM(length(body)), 0) AS bytes FROM replay_log WHERE seq > ?', since).one().bytes;
    const reason = since > this.lastSeq ? 'ahead' : !coverable ? 'gap_too_old' : size() > room ? 'gap_too_large' : null;
    if (reason) {
      // A future seq (hub storage was reset), a gap older than the log, or more than the socket
      // may hold: start over from a snapshot (the client refetches state over HTTP).
      this.send(ws, { type: 'snapshot', seq: this.lastSeq, ts: new Date().toISOString(), reason });
      return { standsAt: this.lastSeq, upTo: this.lastSeq, bytes: 0 };
    }
    let bytes = 0;
    let upTo = since;
    for (const row of sql.exec<{ seq: number; body: string }>('SELECT seq, body FROM replay_log WHERE seq > ? ORDER BY seq', since)) {
      ws.send(row.body);
      bytes += row.body.length;
      upTo = row.seq;
    }
    return { standsAt: since, upTo, bytes };
  }

  private send(ws: WebSocket, message: HubMessage): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed between accept and send; its close handler cleans up.
    }
  }
}

function attachmentOf(ws: WebSocket): SocketAttachment | null {
  return ws.deserializeAttachment() as SocketAttachment | null;
}

function expiryMs(credential: SocketCredential | undefined): number | null {
  return credential?.expiresAt ? credential.expiresAt * 1000 : null;
}

/** Takes one token from `bucket`, refilled at `perMs` up to `max`; false when none is left. */
function take(bucket: Bucket, now: number, perMs: number, max: number): boolean {
  bucket.tokens = Math.min(max, bucket.tokens + (now - bucket.at) * perMs);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
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
