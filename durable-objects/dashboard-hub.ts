import { DurableObject } from 'cloudflare:workers';
import { HEARTBEAT_SWEEP_MS, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_PUBLISH_BYTES, PublishSchema, RETAINED_TYPES } from './protocol.ts';
import type { PublishInput } from './protocol.ts';
import type { AccessEnd, DashboardHubEdge, DropReason } from './dashboard-hub-edge.ts';
import { HUB_DASHBOARD_HEADER, HUB_EDGE_HEADER, edgeFor, edgeName } from './dashboards.ts';
import { HUB_CREDENTIAL_HEADER, parseSocketCredential } from '../worker/auth/socket-access.ts';
import type { Bindings } from '../worker/config/env.ts';
import { rootLogger } from '../worker/lib/log.ts';

export type { AccessEnd } from './dashboard-hub-edge.ts';

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
 * Sockets per edge before the root opens the next one (HUB_SOCKETS_PER_EDGE overrides it). One
 * edge writes every frame to each of its sockets on its one thread; a few thousand keep a flush
 * well under the delivery budget (`npm run bench` measures it).
 */
export const SOCKETS_PER_EDGE = 2_000;
/** A bound on edges per dashboard, whatever the sockets: each flush costs the root one call per edge. */
export const MAX_EDGES = 64;
/** Failed deliveries in a row after which the root forgets an edge (it re-attaches on its next sweep). */
export const MAX_DELIVERY_FAILURES = 5;
/** A delivery to one edge carries at most this many messages; the rest follow in the next call. */
export const MAX_DELIVERY_MESSAGES = 2_000;

/**
 * How long a flush made only of `kpi_update`s may wait for company (HUB_KPI_COALESCE_MS overrides
 * it; 0 sends at once). Every event is followed by the KPI updates it moved, recomputed after the
 * ingest answer; sent on their own they are a second fan-out per event. Held back, they leave with
 * the next event's flush, or when this runs out. Events never wait: a flush with anything else in
 * it goes at once and takes the waiting updates along, in seq order.
 */
export const KPI_COALESCE_MS = 500;
const COALESCED_TYPES: ReadonlySet<string> = new Set(['kpi_update']);

/** One logged message: its seq and the frame body every socket gets. */
export interface LoggedMessage {
  seq: number;
  body: string;
}

export interface HubStats {
  connections: number;
  lastSeq: number;
  oldestSeq: number | null;
  /** Edges the root delivers to, and the sockets each reported. */
  edges: Array<{ name: string; index: number; sockets: number }>;
  /** Sockets the edges closed since they last woke, by reason. */
  dropped: Record<DropReason, number>;
  /** Replay requests the root answered since it woke: whole-log loads by edges, and single replays. */
  replays: { logLoads: number; single: number };
}

/** RPC results carry refusals as values: a thrown error would cross the RPC boundary twice. */
export type PublishRefusal =
  | { ok: false; reason: 'invalid_message'; issues: string[] }
  | { ok: false; reason: 'too_large'; issues: string[] };

/** `delivered`: how many sockets the message goes to, as the edges last reported. */
export type PublishResult = { ok: true; seq: number; delivered: number } | PublishRefusal;

/** `seq` is the batch's last seq, so callers that only read `seq` treat both results alike. */
/** `seqs[i]` is message i's seq: its own, or, for a key published before, the seq it got then. */
export type PublishBatchResult = { ok: true; firstSeq: number; seq: number; delivered: number; seqs: number[]; duplicates: number } | PublishRefusal;

type Prepared = { ok: true; type: string; data: string } | PublishRefusal;

/** What a replay request gets: the rows after `since`, or a snapshot marker and where to stand. */
export interface ReplayAnswer {
  rows: LoggedMessage[];
  snapshot: { seq: number; reason: 'ahead' | 'gap_too_old' | 'gap_too_large' } | null;
}

/** The root's view of one edge. */
interface Edge {
  name: string;
  index: number;
  epoch: number;
  stub: DurableObjectStub<DashboardHubEdge>;
  /** Stored and not yet handed to this edge, in seq order. */
  queue: LoggedMessage[];
  inFlight: boolean;
  failures: number;
}

/**
 * A dashboard's hub, in two tiers. This object, named after the dashboard, is the root and the
 * only writer: it assigns `seq`, keeps the bounded replay log in SQLite and the publishers' keys,
 * and answers replays; it holds no sockets. Edges (dashboard-hub-edge.ts, named `<dashboard>#<k>`)
 * hold the sockets and answer acks, pings, resumes and the heartbeat sweep themselves.
 *
 * A publish is committed (one SQLite transaction) and answered; fan-out happens after the answer:
 * every edge the root knows gets the new messages in one `deliver` call, each edge's calls one at
 * a time and in seq order, so its sockets see the root's order. Messages that arrive while an
 * edge's previous call is under way go together in its next, so the busier the hub, the fewer
 * calls per message; the root's cost per flush is one call per edge, whatever the sockets.
 *
 * The stream route asks the root where a new socket goes (`placement`): the least loaded of the
 * first k edges, k growing by one for every SOCKETS_PER_EDGE sockets. An edge attaches itself when
 * its first socket arrives, re-attaches on every sweep, and detaches when its last socket leaves; an
 * edge that fails MAX_DELIVERY_FAILURES deliveries in a row is forgotten until it re-attaches, and
 * catches up from the log on the way back.
 */
export class DashboardHub extends DurableObject<Bindings> {
  private lastSeq = 0;
  private readonly edges = new Map<string, Edge>();
  /** Sockets per edge index, as last reported or placed (placement reads it). */
  private readonly load = new Map<number, number>();
  private alarmAt: number | null | undefined;
  private readonly replays = { logLoads: 0, single: 0 };
  /** Set while committed kpi_updates wait for the next flush (KPI_COALESCE_MS). */
  private coalesceTimer: ReturnType<typeof setTimeout> | null = null;

  /** Per instance so tests can change them through runInDurableObject. */
  readonly tuning = {
    socketsPerEdge: SOCKETS_PER_EDGE,
    retryMs: 100,
    kpiCoalesceMs: KPI_COALESCE_MS,
  };

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    const configured = Number(env.HUB_SOCKETS_PER_EDGE);
    if (Number.isInteger(configured) && configured > 0) this.tuning.socketsPerEdge = configured;
    const coalesce = env.HUB_KPI_COALESCE_MS === undefined ? Number.NaN : Number(env.HUB_KPI_COALESCE_MS);
    if (Number.isInteger(coalesce) && coalesce >= 0) this.tuning.kpiCoalesceMs = coalesce;
    // Schema, the sequence counter and the edges are ready before the first call.
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
      sql.exec(`CREATE TABLE IF NOT EXISTS edges (
        name TEXT PRIMARY KEY,
        idx INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        sockets INTEGER NOT NULL
      )`);
      // The last message of each retained type: edges put them in the hello of every new socket.
      sql.exec('CREATE TABLE IF NOT EXISTS retained (type TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL)');
      const row = sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM replay_log').one();
      this.lastSeq = row.seq ?? 0;
      // Edges known before a restart get everything from here on; what was in flight they fetch.
      for (const e of sql.exec<{ name: string; idx: number; epoch: number; sockets: number }>('SELECT name, idx, epoch, sockets FROM edges')) {
        this.track(e.name, e.idx, e.epoch, e.sockets);
      }
    });
  }

  /**
   * A WebSocket upgrade that reached the root directly: placed on an edge like the stream route's.
   * The root itself holds no sockets.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    if (!parseSocketCredential(request.headers.get(HUB_CREDENTIAL_HEADER))) {
      return new Response('the hub is joined through /v1/dashboard/stream', { status: 400 });
    }
    const dashboard = this.ctx.id.name ?? request.headers.get(HUB_DASHBOARD_HEADER);
    if (!dashboard) return new Response('the hub does not know its dashboard', { status: 400 });
    const { index } = await this.placement();
    const headers = new Headers(request.headers);
    headers.set(HUB_EDGE_HEADER, JSON.stringify({ dashboard, index }));
    return edgeFor(this.env.DASHBOARD_HUB_EDGE, dashboard, index).fetch(new Request(request.url, { headers }));
  }

  /**
   * Where the next socket goes: the least loaded of the edges in use, one more edge for every
   * `socketsPerEdge` sockets. The socket is counted at once, so a burst of connections spreads.
   */
  async placement(): Promise<{ index: number; edges: number }> {
    let total = 0;
    for (const n of this.load.values()) total += n;
    const count = Math.min(MAX_EDGES, Math.floor(total / this.tuning.socketsPerEdge) + 1);
    let index = 0;
    for (let k = 1; k < count; k++) if ((this.load.get(k) ?? 0) < (this.load.get(index) ?? 0)) index = k;
    this.load.set(index, (this.load.get(index) ?? 0) + 1);
    return { index, edges: count };
  }

  /**
   * An edge with sockets asks for deliveries; answers the seq they start after, and the retained
   * messages as of that seq (deliveries keep the edge's copy current from there).
   */
  async attachEdge(name: string, index: number, sockets: number, epoch: number): Promise<{ lastSeq: number; retained: LoggedMessage[] }> {
    const known = this.edges.get(name);
    const edge = known ?? this.track(name, index, epoch, sockets);
    edge.epoch = epoch;
    edge.failures = 0;
    // Whatever was queued for it predates what it is about to learn.
    edge.queue = [];
    // A new edge attaches before its first socket is accepted: that socket was counted at placement.
    this.load.set(index, known ? sockets : Math.max(sockets, this.load.get(index) ?? 0));
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO edges (name, idx, epoch, sockets) VALUES (?, ?, ?, ?)', name, index, epoch, sockets);
    await this.armAlarm(Date.now() + HEARTBEAT_SWEEP_MS);
    const retained = this.ctx.storage.sql.exec<{ seq: number; body: string }>('SELECT seq, body FROM retained ORDER BY seq').toArray();
    return { lastSeq: this.lastSeq, retained };
  }

  /** An edge whose last socket left; ignored when the edge has attached again since. */
  async detachEdge(name: string, epoch: number): Promise<void> {
    const edge = this.edges.get(name);
    if (!edge || edge.epoch !== epoch) return;
    this.forget(edge);
  }

  /** An edge's socket count changed. */
  async reportEdge(name: string, index: number, sockets: number): Promise<void> {
    if (this.edges.has(name)) this.load.set(index, sockets);
  }

  /** The whole log, for an edge that will answer replays from its own copy. */
  async replayLog(): Promise<{ oldest: number | null; lastSeq: number; rows: LoggedMessage[] }> {
    this.replays.logLoads++;
    const sql = this.ctx.storage.sql;
    const rows = sql.exec<{ seq: number; body: string }>('SELECT seq, body FROM replay_log ORDER BY seq').toArray();
    return { oldest: rows[0]?.seq ?? null, lastSeq: this.lastSeq, rows: rows.map((r) => ({ seq: r.seq, body: r.body })) };
  }

  /** The messages in (after, upTo], or null when the log no longer holds all of them. */
  async rowsBetween(after: number, upTo: number): Promise<LoggedMessage[] | null> {
    const rows = this.ctx.storage.sql
      .exec<{ seq: number; body: string }>('SELECT seq, body FROM replay_log WHERE seq > ? AND seq <= ? ORDER BY seq', after, upTo)
      .toArray();
    if (rows.length !== upTo - after) return null;
    return rows.map((r) => ({ seq: r.seq, body: r.body }));
  }

  /**
   * What a client that applied `since` missed, or a snapshot marker when the log no longer covers
   * it, it is ahead of the hub (storage was reset), or it is more than `room` bytes.
   */
  async replayAfter(since: number, room: number): Promise<ReplayAnswer> {
    this.replays.single++;
    const sql = this.ctx.storage.sql;
    const oldest = sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one().oldest;
    const coverable = since >= this.lastSeq || (oldest !== null && since >= oldest - 1);
    const size = () => sql.exec<{ bytes: number }>('SELECT COALESCE(SUM(length(body)), 0) AS bytes FROM replay_log WHERE seq > ?', since).one().bytes;
    const reason = since > this.lastSeq ? 'ahead' : !coverable ? 'gap_too_old' : size() > room ? 'gap_too_large' : null;
    if (reason) return { rows: [], snapshot: { seq: this.lastSeq, reason } };
    const rows = sql.exec<{ seq: number; body: string }>('SELECT seq, body FROM replay_log WHERE seq > ? ORDER BY seq', since).toArray();
    return { rows: rows.map((r) => ({ seq: r.seq, body: r.body })), snapshot: null };
  }

  /** Closes the sockets of a user or a session on every edge; answers how many were closed. */
  async endAccess(which: AccessEnd): Promise<number> {
    const results = await Promise.allSettled([...this.edges.values()].map((e) => e.stub.endAccess(which)));
    return results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
  }

  /**
   * Typed RPC: persist and assign the next seq; fan-out follows the answer. Invalid input is
   * refused, never stored.
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
    const edges = [...this.edges.values()];
    const answers = await Promise.allSettled(edges.map((e) => e.stub.stats()));
    const dropped: Record<DropReason, number> = { slowConsumer: 0, heartbeatTimeout: 0, sendFailed: 0, rateLimited: 0, credentialExpired: 0, accessEnded: 0 };
    let connections = 0;
    answers.forEach((a, i) => {
      if (a.status !== 'fulfilled') return;
      connections += a.value.connections;
      this.load.set(edges[i]!.index, a.value.open);
      for (const [k, v] of Object.entries(a.value.dropped)) dropped[k as DropReason] += v;
    });
    return {
      connections,
      lastSeq: this.lastSeq,
      oldestSeq: row.oldest,
      edges: edges.map((e) => ({ name: e.name, index: e.index, sockets: this.load.get(e.index) ?? 0 })),
      dropped,
      replays: { ...this.replays },
    };
  }

  /**
   * The root's sweep, every HEARTBEAT_SWEEP_MS while it has edges: runs each edge's sweep (which
   * also runs on the edge's own alarm) and forgets edges that cannot be reached.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const edges = [...this.edges.values()];
    const answers = await Promise.allSettled(edges.map((e) => e.stub.sweep()));
    answers.forEach((a, i) => {
      const edge = edges[i]!;
      if (a.status === 'fulfilled') {
        this.load.set(edge.index, a.value.open);
      } else if (++edge.failures >= MAX_DELIVERY_FAILURES) {
        log.warn('edge unreachable; forgotten until it attaches again', { edge: edge.name, error: a.reason });
        this.forget(edge);
      }
    });
    if (this.edges.size > 0) await this.armAlarm(Date.now() + HEARTBEAT_SWEEP_MS);
  }

  private track(name: string, index: number, epoch: number, sockets: number): Edge {
    const edge: Edge = { name, index, epoch, stub: this.env.DASHBOARD_HUB_EDGE.get(this.env.DASHBOARD_HUB_EDGE.idFromName(name)), queue: [], inFlight: false, failures: 0 };
    this.edges.set(name, edge);
    this.load.set(index, Math.max(sockets, this.load.get(index) ?? 0));
    return edge;
  }

  private forget(edge: Edge): void {
    this.edges.delete(edge.name);
    edge.queue = [];
    this.load.set(edge.index, 0);
    this.ctx.storage.sql.exec('DELETE FROM edges WHERE name = ?', edge.name);
  }

  /**
   * Assigns consecutive seqs and stores them in one transaction, then queues them for every edge.
   * Only a committed message takes its seq, so a failed write never leaves a hole or a reuse.
   */
  private commit(messages: ReadonlyArray<{ type: string; data: string }>, keys?: readonly string[]): { firstSeq: number; seq: number; delivered: number } {
    const firstSeq = this.lastSeq + 1;
    const ts = new Date().toISOString();
    const bodies = messages.map((m, i) => `{"type":"${m.type}","seq":${firstSeq + i},"ts":"${ts}","data":${m.data}}`);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      bodies.forEach((body, i) => {
        sql.exec('INSERT INTO replay_log (seq, type, ts, body) VALUES (?, ?, ?, ?)', firstSeq + i, messages[i]!.type, ts, body);
        if (isRetained(messages[i]!.type)) {
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
    this.lastSeq = firstSeq + bodies.length - 1;
    let delivered = 0;
    const wait = this.tuning.kpiCoalesceMs > 0 && messages.every((m) => COALESCED_TYPES.has(m.type));
    if (!wait && this.coalesceTimer !== null) {
      clearTimeout(this.coalesceTimer);
      this.coalesceTimer = null;
    }
    for (const edge of this.edges.values()) {
      delivered += this.load.get(edge.index) ?? 0;
      for (let i = 0; i < bodies.length; i++) edge.queue.push({ seq: firstSeq + i, body: bodies[i]! });
      // An edge far behind skips what the log would hand it anyway when it next hears from us.
      if (edge.queue.length > REPLAY_LOG_LIMIT) edge.queue = edge.queue.slice(-MAX_DELIVERY_MESSAGES / 2);
      if (!wait) this.pump(edge);
    }
    if (wait) this.coalesceTimer ??= setTimeout(() => this.flushWaiting(), this.tuning.kpiCoalesceMs);
    return { firstSeq, seq: this.lastSeq, delivered };
  }

  /** The coalescing window ran out: what waits goes out now. */
  private flushWaiting(): void {
    this.coalesceTimer = null;
    for (const edge of this.edges.values()) this.pump(edge);
  }

  /**
   * Hands an edge what is queued for it, one call at a time, so its deliveries arrive in seq
   * order; what queued up meanwhile goes in the next call. Not awaited by publishers.
   */
  private pump(edge: Edge): void {
    if (edge.inFlight || edge.queue.length === 0) return;
    const batch = edge.queue.splice(0, MAX_DELIVERY_MESSAGES);
    edge.inFlight = true;
    edge.stub.deliver(batch).then(
      ({ open }) => {
        edge.inFlight = false;
        edge.failures = 0;
        this.load.set(edge.index, open);
        this.pump(edge);
      },
      (err: unknown) => {
        edge.inFlight = false;
        if (++edge.failures >= MAX_DELIVERY_FAILURES) {
          log.warn('edge unreachable; forgotten until it attaches again', { edge: edge.name, error: err });
          if (this.edges.get(edge.name) === edge) this.forget(edge);
          return;
        }
        // Put back in front: the next attempt carries them and whatever came since.
        edge.queue = [...batch, ...edge.queue];
        setTimeout(() => this.pump(edge), this.tuning.retryMs * edge.failures);
      },
    );
  }

  /** Makes sure the alarm fires by `at`. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
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

const isRetained = (type: string): boolean => (RETAINED_TYPES as readonly string[]).includes(type);
