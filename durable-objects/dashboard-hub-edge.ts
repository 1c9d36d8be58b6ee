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
  MAX_UNACKED_BYTES,
  PING_FRAME,
  PONG_FRAME,
  RESUME_BUDGET,
  RESUME_WINDOW_MS,
  RETAINED_TYPES,
  SLOW_CLIENT_LAG_MS,
} from './protocol.ts';
import type { HubMessage } from './protocol.ts';
import { HUB_EDGE_HEADER, edgeName, hubFor, parseEdgeHeader } from './dashboards.ts';
import type { DashboardHub, LoggedMessage } from './dashboard-hub.ts';
import { REPLAY_LOG_LIMIT } from './dashboard-hub.ts';
import { HUB_CREDENTIAL_HEADER, endedCredentials, parseSocketCredential } from '../worker/auth/socket-access.ts';
import type { SocketCredential } from '../worker/auth/socket-access.ts';
import { loadConfig } from '../worker/config/env.ts';
import type { Bindings } from '../worker/config/env.ts';
import { rootLogger } from '../worker/lib/log.ts';
import { createServices } from '../worker/services/index.ts';

const log = rootLogger.child({ component: 'dashboard-hub-edge' });

/** The edge keeps the root's recent log in memory for replays, up to this many bytes. */
export const EDGE_LOG_MAX_BYTES = 8 * 1_048_576;
/** How soon after sockets come and go the edge tells the root its count (placement reads it). */
export const EDGE_REPORT_DELAY_MS = 250;
/** Sockets written per turn of the event loop during a fan-out. */
export const BROADCAST_SLICE = 200;

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

/** What the awake edge tracks per socket; lost on hibernation and rebuilt leniently on next sight. */
interface SocketState {
  /** The last seq the client acknowledged (or was caught up to when tracking began). */
  ackedSeq: number;
  /** When ackedSeq last moved, in ms. */
  ackedAt: number;
  /** The edge's seq when the socket joined or resumed: only live sends after it count as backlog bytes. */
  liveFrom: number;
  /** When the edge last received any frame from the client, in ms (0: not since waking). */
  lastHeardAt: number;
  /** Replays sent and not yet acknowledged: they count toward the backlog like live sends. */
  replays: Array<{ upTo: number; bytes: number }>;
  /** The highest seq a replay sent this socket (replays may run ahead of the last fan-out). */
  replayedUpTo: number;
  resumes: Bucket;
  messages: Bucket;
}

export type DropReason = 'slowConsumer' | 'heartbeatTimeout' | 'sendFailed' | 'rateLimited' | 'credentialExpired' | 'accessEnded';

export interface EdgeStats {
  connections: number;
  open: number;
  seq: number;
  dropped: Record<DropReason, number>;
}

/** Which sockets `endAccess` closes: one user's, or those opened under one session. */
export type AccessEnd = { userId: string } | { sessionId: string };

/**
 * An edge of a dashboard's hub (dashboard-hub.ts): holds a share of the dashboard's sockets with
 * the Hibernation API. The root hands it each flush as one `deliver` call, in seq order; the edge
 * turns it into frames and writes them to its sockets, and answers acks, pings, resumes and the
 * heartbeat sweep itself, so none of that reaches the root.
 *
 * `seq` is the last message every socket on this edge has been given; it only grows, and is
 * stored, so an edge that wakes from hibernation with its sockets still open continues where it
 * was. A delivery that starts past seq + 1 (the root restarted, or gave up on this edge for a
 * while) is preceded by the missing messages, fetched from the root, so no socket sees a gap.
 *
 * Replays come from the edge's copy of the root's log (`log`, covering every seq in
 * (logFloor, seq]): the first resume the edge cannot answer from it loads the root's whole log
 * once, so a reconnect storm costs the root one read per edge, not one per client.
 *
 * Everything that moves seq or writes replays runs one at a time (`serially`), so a socket's
 * frames leave in seq order whatever awaits the root in between.
 */
export class DashboardHubEdge extends DurableObject<Bindings> {
  private dashboard: string | undefined;
  private index = 0;
  private seq: number | undefined;
  private registered = false;
  /** Bumped on every attach, so the root can tell a stale detach from a current one. */
  private epoch = 0;
  private log: LoggedMessage[] = [];
  /** The latest message of each retained type (protocol.ts RETAINED_TYPES), for every hello. */
  private readonly retained = new Map<string, LoggedMessage>();
  private logBytes = 0;
  /** The log holds every message in (logFloor, seq]; null until the edge knows where it started. */
  private logFloor: number | null = null;
  /** True while the log mirrors the root's (loaded from it, trimmed the same way). */
  private logIsRoots = false;
  private chain: Promise<unknown> = Promise.resolve();
  private reportTimer: ReturnType<typeof setTimeout> | null = null;
  private rootStub: DurableObjectStub<DashboardHub> | undefined;
  private readonly sockets = new WeakMap<WebSocket, SocketState>();
  private readonly recent = new SendLog(4_096);
  private lastLagCheck = 0;
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
    void ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec('CREATE TABLE IF NOT EXISTS edge_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      for (const row of sql.exec<{ key: string; value: string }>('SELECT key, value FROM edge_state')) {
        if (row.key === 'dashboard') this.dashboard = row.value;
        if (row.key === 'index') this.index = Number(row.value);
        if (row.key === 'seq') this.seq = Number(row.value);
      }
    });
  }

  /** WebSocket upgrade, forwarded by the stream route (or the root) once the caller is authenticated. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const credential = parseSocketCredential(request.headers.get(HUB_CREDENTIAL_HEADER));
    const edge = parseEdgeHeader(request.headers.get(HUB_EDGE_HEADER));
    if (!credential || !edge) return new Response('the hub is joined through /v1/dashboard/stream', { status: 400 });
    this.remember(edge.dashboard, edge.index);
    const url = new URL(request.url);
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;

    const now = Date.now();
    await this.armAlarm(Math.min(now + HEARTBEAT_SWEEP_MS, expiryMs(credential) ?? Number.POSITIVE_INFINITY));
    return this.serially(async () => {
      await this.ensureAttached();
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server, [credential.userId, `session:${credential.credentialId}`]);
      server.serializeAttachment({ subject: credential.userId, connectedAt: new Date(now).toISOString(), credential } satisfies SocketAttachment);
      const seq = this.seq ?? 0;
      const retained = [...this.retained.values()].sort((a, b) => a.seq - b.seq).map((m) => JSON.parse(m.body) as unknown);
      this.send(server, {
        type: 'hello',
        seq,
        ts: new Date().toISOString(),
        heartbeat_ms: HEARTBEAT_INTERVAL_MS,
        ack_ms: ACK_INTERVAL_MS,
        ...(retained.length > 0 ? { retained } : {}),
      });
      const state = this.track(server, seq);
      // Connecting with ?since= is a resume too, and draws on the same budget.
      if (since !== null) take(state.resumes, now, RESUME_BUDGET / RESUME_WINDOW_MS, RESUME_BUDGET);
      await this.resume(server, state, since);
      this.scheduleReport();
      return new Response(null, { status: 101, webSocket: client });
    });
  }

  /**
   * The root's fan-out: consecutive messages after what this edge was last given (or, after a
   * gap, later ones). Answers how many sockets are open here, which the root uses for placement.
   */
  async deliver(messages: readonly LoggedMessage[]): Promise<{ open: number }> {
    return this.serially(async () => {
      if (messages.length > 0) {
        const first = messages[0]!.seq;
        // An edge that never learned its seq starts where the root's deliveries start.
        if (this.seq === undefined) this.setSeq(first - 1);
        if (first > this.seq! + 1) await this.fillGap(first - 1);
        const fresh = messages.filter((m) => m.seq > this.seq!);
        if (fresh.length > 0) await this.broadcastMessages(fresh);
      }
      return { open: this.openSockets().length };
    });
  }

  /**
   * Closes the sockets of a user whose access ended (sign-out everywhere, disabling, a role
   * change) or of one signed-out session, at once. Answers how many were closed.
   */
  async endAccess(which: AccessEnd): Promise<number> {
    const tag = 'userId' in which ? which.userId : `session:${which.sessionId}`;
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tag)) {
      if (this.drop(ws, 'accessEnded', 'access ended: sign in again')) closed++;
    }
    if (closed > 0) this.scheduleReport();
    return closed;
  }

  async stats(): Promise<EdgeStats> {
    return { connections: this.ctx.getWebSockets().length, open: this.openSockets().length, seq: this.seq ?? 0, dropped: { ...this.dropped } };
  }

  /**
   * The heartbeat sweep, also run by the root's own sweep: closes dead, lagging and expired
   * sockets, then those whose access ended. Answers how many sockets stay open.
   */
  async sweep(): Promise<{ open: number }> {
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
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
    return { open: this.openSockets().length };
  }

  /**
   * Runs every HEARTBEAT_SWEEP_MS while sockets are connected, and when a credential expires.
   * Also re-attaches to the root (which forgets an edge it could not reach) or, with no socket
   * left, detaches so the root stops delivering here.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const { open } = await this.sweep();
    if (!this.dashboard) return;
    if (open === 0) {
      await this.serially(async () => {
        if (this.openSockets().length > 0) return;
        this.registered = false;
        await this.root().detachEdge(this.name(), this.epoch);
      }).catch((err: unknown) => log.warn('edge detach failed', { error: err }));
      return;
    }
    await this.serially(() => this.attach()).catch((err: unknown) => log.warn('edge attach failed', { error: err }));
    const sockets = this.openSockets();
    const nextExpiry = Math.min(...sockets.map((ws) => expiryMs(attachmentOf(ws)?.credential) ?? Number.POSITIVE_INFINITY));
    await this.armAlarm(Math.min(Date.now() + HEARTBEAT_SWEEP_MS, nextExpiry));
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const size = typeof raw === 'string' ? raw.length : raw.byteLength;
      if (size > MAX_CLIENT_MESSAGE_BYTES) {
        ws.close(CLOSE_CODES.tooLarge, 'message too large');
        return;
      }
      const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
      const state = this.track(ws, this.seq ?? 0);
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
        this.send(ws, { type: 'error', seq: this.seq ?? 0, ts: new Date().toISOString(), code: 'bad_message' });
        return;
      }
      const message = parsed.data;
      if (message.type === 'ack') {
        this.acknowledge(state, message.seq);
        return;
      }
      // Pings and resumes wait their turn behind deliveries and replays, so they answer in order.
      await this.serially(async () => {
        if (message.type === 'ping') {
          this.send(ws, { type: 'pong', seq: this.seq ?? 0, ts: new Date().toISOString() });
        } else if (!take(state.resumes, now, RESUME_BUDGET / RESUME_WINDOW_MS, RESUME_BUDGET)) {
          this.drop(ws, 'rateLimited', 'too many resumes');
        } else {
          await this.resume(ws, state, message.since);
        }
      });
    } catch (err) {
      log.error('edge message handler failed', { error: err });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
    this.scheduleReport();
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    log.warn('edge socket error', { error });
    try {
      ws.close(1011, 'socket error');
    } catch {
      // Already closed.
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private name(): string {
    return edgeName(this.dashboard!, this.index);
  }

  private root(): DurableObjectStub<DashboardHub> {
    // One stub, so calls to the root arrive in the order they were made (attach before detach).
    this.rootStub ??= hubFor(this.env.DASHBOARD_HUB, this.dashboard!);
    return this.rootStub;
  }

  private remember(dashboard: string, index: number): void {
    if (this.dashboard === dashboard && this.index === index) return;
    this.dashboard = dashboard;
    this.index = index;
    this.rootStub = undefined;
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR REPLACE INTO edge_state (key, value) VALUES ('dashboard', ?), ('index', ?)", dashboard, String(index));
  }

  private setSeq(seq: number): void {
    this.seq = seq;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO edge_state (key, value) VALUES ('seq', ?)", String(seq));
  }

  private openSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Called inside `serially`: makes sure the root delivers here, and catches up on what it sent before. */
  private async ensureAttached(): Promise<void> {
    if (this.registered && this.seq !== undefined) return;
    await this.attach();
  }

  private async attach(): Promise<void> {
    this.epoch++;
    const { lastSeq, retained } = await this.root().attachEdge(this.name(), this.index, this.openSockets().length, this.epoch);
    this.registered = true;
    this.retain(retained);
    if (this.seq === undefined || this.openSockets().length === 0) {
      // Nobody here missed anything: start at the root's latest; the log starts over from there.
      if (this.seq !== lastSeq) {
        this.setSeq(lastSeq);
        this.resetLog(lastSeq);
      }
      this.logFloor ??= lastSeq;
    } else if (lastSeq > this.seq) {
      await this.fillGap(lastSeq);
    } else if (lastSeq < this.seq) {
      // The root's storage was reset: its seqs start over, and clients start over from a snapshot.
      for (const ws of this.openSockets()) this.send(ws, { type: 'snapshot', seq: lastSeq, ts: new Date().toISOString(), reason: 'ahead' });
      this.setSeq(lastSeq);
      this.resetLog(lastSeq);
    }
  }

  /** Sends every socket what the root logged in (seq, upTo]; a snapshot when its log no longer has it. */
  private async fillGap(upTo: number): Promise<void> {
    const from = this.seq ?? 0;
    if (this.openSockets().length === 0) {
      this.setSeq(upTo);
      this.resetLog(upTo);
      return;
    }
    const rows = await this.root().rowsBetween(from, upTo);
    if (rows === null) {
      for (const ws of this.openSockets()) this.send(ws, { type: 'snapshot', seq: upTo, ts: new Date().toISOString(), reason: 'gap_too_old' });
      this.setSeq(upTo);
      this.resetLog(upTo);
      return;
    }
    if (rows.length > 0) await this.broadcastMessages(rows);
    if (this.seq! < upTo) this.setSeq(upTo);
  }

  private resetLog(floor: number): void {
    this.log = [];
    this.logBytes = 0;
    this.logFloor = floor;
    this.logIsRoots = false;
  }

  /** Keeps the newest message of each retained type among these. */
  private retain(messages: readonly LoggedMessage[]): void {
    for (const m of messages) {
      const type = retainedType(m.body);
      if (type !== null && (this.retained.get(type)?.seq ?? -1) < m.seq) this.retained.set(type, m);
    }
  }

  /** Appends consecutive messages to the log, trimmed as the root trims its own. */
  private appendLog(messages: readonly LoggedMessage[]): void {
    this.retain(messages);
    if (this.logFloor === null) return;
    for (const m of messages) {
      const top = this.log.at(-1)?.seq ?? this.logFloor;
      if (m.seq <= top) continue;
      if (m.seq !== top + 1) {
        this.resetLog(m.seq);
        continue;
      }
      this.log.push(m);
      this.logBytes += m.body.length;
    }
    // As many entries as the root keeps, and no more bytes than an edge may hold.
    let drop = Math.max(0, this.log.length - REPLAY_LOG_LIMIT);
    let bytes = this.logBytes;
    for (let i = 0; i < drop; i++) bytes -= this.log[i]!.body.length;
    let trimmedForBytes = false;
    while (bytes > EDGE_LOG_MAX_BYTES && drop < this.log.length) {
      bytes -= this.log[drop]!.body.length;
      drop++;
      trimmedForBytes = true;
    }
    if (drop === 0) return;
    this.logFloor = this.log[drop - 1]!.seq;
    this.log = this.log.slice(drop);
    this.logBytes = bytes;
    // Trimmed tighter than the root trims: older gaps are the root's to judge again.
    if (trimmedForBytes) this.logIsRoots = false;
  }

  /** Loads the root's whole log once; from then on replays are served here. */
  private async loadRootLog(): Promise<void> {
    const { oldest, rows } = await this.root().replayLog();
    const seq = this.seq ?? 0;
    const mine = new Map(this.log.map((m) => [m.seq, m]));
    for (const r of rows) if (r.seq <= seq) mine.set(r.seq, r);
    const merged = [...mine.values()].sort((a, b) => a.seq - b.seq);
    const floor = oldest === null ? seq : oldest - 1;
    // Only a run that reaches this edge's seq without holes is usable.
    let start = merged.length;
    let expect = seq;
    while (start > 0 && merged[start - 1]!.seq === expect) {
      start--;
      expect--;
    }
    this.log = merged.slice(start);
    this.logBytes = this.log.reduce((n, m) => n + m.body.length, 0);
    this.logFloor = Math.max(expect, floor);
    this.logIsRoots = this.logFloor === floor;
    this.appendLog([]);
  }

  /**
   * The client says where it stands: what it missed after `since` is replayed, and lag is
   * measured from there, whatever it acked before. The replay's bytes count toward its backlog
   * until acknowledged. Called inside `serially`.
   */
  private async resume(ws: WebSocket, state: SocketState, since: number | null): Promise<void> {
    if (since === null) return;
    const replay = await this.catchUp(ws, since, this.tuning.maxUnackedBytes - this.unackedBytes(state));
    state.ackedSeq = replay.standsAt;
    state.ackedAt = Date.now();
    state.liveFrom = this.seq ?? 0;
    if (replay.bytes > 0) {
      state.replays.push({ upTo: replay.upTo, bytes: replay.bytes });
      state.replayedUpTo = Math.max(state.replayedUpTo, replay.upTo);
    }
    this.checkSocketLag(ws, state, Date.now());
  }

  /**
   * Sends what a client missed after `since`, from the edge's log when it covers it, else as the
   * root answers (rows, or a snapshot marker for a gap the log no longer covers, a future seq or
   * a replay larger than the socket may still hold unacknowledged, `room` bytes).
   */
  private async catchUp(ws: WebSocket, since: number, room: number): Promise<{ standsAt: number; upTo: number; bytes: number }> {
    const seq = this.seq ?? 0;
    if (since <= seq && (this.logFloor === null || since < this.logFloor) && !this.logIsRoots) await this.loadRootLog();
    let rows: readonly LoggedMessage[];
    let snapshot: { seq: number; reason: string } | null = null;
    if (this.logFloor !== null && since >= this.logFloor && since <= seq) {
      const first = this.log.findIndex((m) => m.seq > since);
      rows = first === -1 ? [] : this.log.slice(first);
      const size = rows.reduce((n, m) => n + m.body.length, 0);
      if (size > room) snapshot = { seq, reason: 'gap_too_large' };
    } else if (since < (this.logFloor ?? 0) && this.logIsRoots) {
      rows = [];
      snapshot = { seq, reason: 'gap_too_old' };
    } else {
      const answer = await this.root().replayAfter(since, room);
      rows = answer.rows;
      snapshot = answer.snapshot;
    }
    if (snapshot) {
      // The client refetches state over HTTP and continues from here.
      this.send(ws, { type: 'snapshot', seq: snapshot.seq, ts: new Date().toISOString(), reason: snapshot.reason });
      return { standsAt: snapshot.seq, upTo: snapshot.seq, bytes: 0 };
    }
    let bytes = 0;
    let upTo = since;
    for (const row of rows) {
      try {
        ws.send(row.body);
      } catch {
        break;
      }
      bytes += row.body.length;
      upTo = row.seq;
    }
    return { standsAt: since, upTo, bytes };
  }

  /** Sends messages in seq order, in as few frames as the batch limits allow, to every socket. */
  private async broadcastMessages(messages: readonly LoggedMessage[]): Promise<void> {
    const now = Date.now();
    const ts = new Date(now).toISOString();
    for (const m of messages) this.recent.record(m.seq, now, m.body.length);
    this.setSeq(messages.at(-1)!.seq);
    this.appendLog(messages);
    for (let from = 0; from < messages.length; ) {
      let to = from + 1;
      let bytes = messages[from]!.body.length;
      while (to < messages.length && to - from < MAX_BATCH_MESSAGES && bytes + messages[to]!.body.length <= MAX_BATCH_BYTES) {
        bytes += messages[to]!.body.length;
        to++;
      }
      const chunk = messages.slice(from, to);
      const frame = chunk.length === 1 ? chunk[0]!.body : `{"type":"batch","seq":${chunk.at(-1)!.seq},"ts":"${ts}","messages":[${chunk.map((m) => m.body).join(',')}]}`;
      await this.broadcast(frame, now);
      from = to;
    }
  }

  /**
   * Writes the frame to every socket, BROADCAST_SLICE sockets per turn of the event loop: where
   * objects share a thread (one runtime process, as under `wrangler dev`), requests and other
   * objects get a turn between slices instead of waiting for the whole fan-out.
   */
  private async broadcast(frame: string, now: number): Promise<void> {
    if (now - this.lastLagCheck >= ACK_INTERVAL_MS) this.checkLag(now);
    const sockets = this.ctx.getWebSockets();
    this.reportsBufferedAmount ??= sockets.length > 0 ? typeof sockets[0]!.bufferedAmount === 'number' : undefined;
    for (let i = 0; i < sockets.length; i++) {
      if (i > 0 && i % BROADCAST_SLICE === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      const ws = sockets[i]!;
      try {
        ws.send(frame);
      } catch {
        // A socket that cannot take a message is gone; drop it rather than stall the rest.
        this.drop(ws, 'sendFailed', 'send failed');
        continue;
      }
      if (this.reportsBufferedAmount && ws.bufferedAmount > MAX_BUFFERED_BYTES) this.drop(ws, 'slowConsumer', 'slow consumer');
    }
  }

  /** Closes sockets whose acknowledgements lag too far behind what was sent (protocol.ts). */
  private checkLag(now: number): void {
    this.lastLagCheck = now;
    for (const ws of this.ctx.getWebSockets()) this.checkSocketLag(ws, this.track(ws, this.seq ?? 0), now);
  }

  private checkSocketLag(ws: WebSocket, state: SocketState, now: number): void {
    if (state.ackedSeq >= Math.max(this.seq ?? 0, state.replayedUpTo)) return;
    // Measured from the later of the first unacked send and the last ack, so a client is never
    // blamed for time it had nothing to acknowledge, nor for sends from before the edge woke.
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
   * look caught up.
   */
  private acknowledge(state: SocketState, seq: number): void {
    if (seq > Math.max(this.seq ?? 0, state.replayedUpTo)) return;
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
        liveFrom: this.seq ?? 0,
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
    if (ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.close(CLOSE_CODES[why], reason);
      this.dropped[why]++;
      this.scheduleReport();
      return true;
    } catch {
      return false;
    }
  }

  /** Tells the root how many sockets are open here, shortly after the count changed. */
  private scheduleReport(): void {
    if (this.reportTimer !== null || !this.dashboard) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = null;
      this.root()
        .reportEdge(this.name(), this.index, this.openSockets().length)
        .catch((err: unknown) => log.warn('edge report failed', { error: err }));
    }, EDGE_REPORT_DELAY_MS);
  }

  /**
   * Asks Postgres and Redis whether each open socket's credential still grants access. A failed
   * check leaves the sockets open (each is still closed at its expiry) rather than drop every
   * client while a dependency blinks.
   */
  private async checkAccess(): Promise<void> {
    const open = this.openSockets();
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
      log.warn('edge access check failed; sockets stay open until their credentials expire', { error: err });
    } finally {
      await services.close().catch(() => undefined);
    }
  }

  /** Makes sure the alarm fires by `at`: the sweep exists whenever sockets may be connected. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * When each recent seq went out and how many bytes had gone out up to it: enough to tell how
 * old and how large a socket's unacknowledged backlog is. A ring, so its memory is fixed.
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

/** The root writes every body as `{"type":"<type>",…`: the type is read without parsing the message. */
function retainedType(body: string): string | null {
  for (const type of RETAINED_TYPES) if (body.startsWith(`{"type":"${type}"`)) return type;
  return null;
}
