import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { startDevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import type { ClientCommand, CollectReply, RejoinReply } from './scale-clients.ts';
import { userWorkerOrigin } from './user-worker.ts';
import { startWsBaseline } from './ws-baseline.ts';
import type { WsBaseline } from './ws-baseline.ts';
import { signIn } from './sign-in.ts';
import { cpuPerEvent, formatCpu, sampleCpu } from './process-cpu.ts';
import type { CpuPerEvent } from './process-cpu.ts';

/**
 * Live at scale: viewers on the app's public address (`/v1/dashboard/stream`, bearer auth), acking
 * as the protocol asks, while `alert.opened` events are posted to POST /v1/events one at a time
 * and in bursts. Measured: the POST itself, POST start → receipt on every socket, deliveries per
 * second, loss, duplicates and order; the same viewers against a plain Node `ws` broadcast server
 * in the same run (it reads the same acks), told to broadcast where the app is posted to. Each
 * sockets-per-edge setting runs on its own `wrangler dev` (HUB_SOCKETS_PER_EDGE), so the report
 * shows how the figures move with the number of edges. Queued ingest (mode=async) is measured
 * end to end: from the first POST to the last event reaching a viewer, with loss and duplicates.
 *
 * The viewers run in worker threads of this process; with thousands of sockets on a 2-core
 * machine the client side is itself a limit, and the report says how many connected.
 * Everything talks to 127.0.0.1, and every wait is bounded.
 */

export interface ScaleOptions {
  viewers: number[];
  /** HUB_SOCKETS_PER_EDGE values, one `wrangler dev` each. */
  socketsPerEdge: number[];
  oneAtATime: number;
  burst: number;
  burstConcurrency: number;
  queuedEvents: number;
  queuedBatch: number;
  queuedConcurrency: number;
  threads: number;
  /** Events published while every viewer is away in the reconnect storm (0 skips the storm). */
  stormEvents: number;
  timeoutMs: number;
  /**
   * Also skip wrangler's proxy: viewers and POSTs go to the runtime's own address, as production
   * has no such hop (BENCH_SCALE_DIRECT=1). The default is the public address.
   */
  direct: boolean;
  /** HUB_KPI_COALESCE_MS for the runtime (BENCH_SCALE_KPI_COALESCE_MS; unset: the hub's default). */
  kpiCoalesceMs: number | null;
  log: (line: string) => void;
}

export function scaleOptionsFromEnv(log: (line: string) => void = console.log): ScaleOptions {
  const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map((v) => Number(v.trim())).filter((v) => Number.isInteger(v) && v >= 0);
  const int = (name: string, fallback: number) => {
    const v = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
    return v;
  };
  return {
    viewers: list('BENCH_SCALE_VIEWERS', '100,1000,10000'),
    socketsPerEdge: list('BENCH_SCALE_SOCKETS_PER_EDGE', '100000,2000'),
    oneAtATime: int('BENCH_SCALE_EVENTS', 30),
    burst: int('BENCH_SCALE_BURST', 100),
    burstConcurrency: int('BENCH_SCALE_BURST_CONCURRENCY', 8),
    queuedEvents: int('BENCH_SCALE_QUEUED_EVENTS', 30_000),
    queuedBatch: int('BENCH_SCALE_QUEUED_BATCH', 500),
    queuedConcurrency: int('BENCH_SCALE_QUEUED_CONCURRENCY', 4),
    threads: Math.max(1, int('BENCH_SCALE_THREADS', 2)),
    stormEvents: int('BENCH_SCALE_STORM_EVENTS', 20),
    timeoutMs: int('BENCH_SCALE_TIMEOUT_MS', 1_800_000),
    direct: process.env.BENCH_SCALE_DIRECT === '1',
    kpiCoalesceMs: process.env.BENCH_SCALE_KPI_COALESCE_MS === undefined ? null : int('BENCH_SCALE_KPI_COALESCE_MS', 0),
    log,
  };
}

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface PhaseResult {
  events: number;
  ingest: Stats;
  receipt: Stats;
  deliveriesPerSecond: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Sends that failed (the event is then not expected anywhere), with why. */
  failedSends: string[];
  /** CPU per event by process, from /proc: whose CPU the phase spent, and how busy the machine was. */
  cpu: CpuPerEvent | null;
}

export interface ViewerResult {
  viewers: number;
  /** Set when the runtime's open-file limit allowed fewer sockets than asked: the number measured. */
  cappedTo?: number;
  connected: { app: number; ws: number };
  app: { single: PhaseResult; burst: PhaseResult };
  ws: { single: PhaseResult; burst: PhaseResult };
  closedByServer: number;
  storm?: StormResult;
}

/** Every viewer dropped at once, events published while they are away, then all back with `?since=`. */
export interface StormResult {
  viewers: number;
  eventsMissed: number;
  reconnected: number;
  failed: number;
  caughtUp: number;
  /** From the first reconnect to each viewer having applied the last missed seq. */
  caughtUpMs: Stats & { max: number };
  gaps: number;
  duplicates: number;
  snapshots: number;
  edges: number;
  /** Replays the root answered during the storm (GET /v1/dashboard/hub): whole-log loads by edges, single replays. */
  rootLogLoads: number;
  rootSingleReplays: number;
  /** CPU per reconnect by process, from the first reconnect until every viewer caught up. */
  cpu: CpuPerEvent | null;
}

export interface EdgeRun {
  socketsPerEdge: number;
  /** `public`: through wrangler's proxy, as a user would; `direct`: the runtime's own address. */
  path: 'public' | 'direct';
  ingestNoViewers: Stats;
  /** CPU per event by process while POSTing with no viewers. */
  noViewersCpu: CpuPerEvent | null;
  viewers: ViewerResult[];
}

export interface QueuedResult {
  events: number;
  acceptSeconds: number;
  endToEndSeconds: number;
  eventsPerSecond: number;
  received: number;
  lost: number;
  duplicates: number;
}

export interface ScaleReport {
  runs: EdgeRun[];
  queued: QueuedResult | null;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How many viewers one local runtime can hold. workerd dups every connection it accepts, so each
 * socket costs it two descriptors (past the limit it logs `dup(): Too many open files` and stops
 * serving); wrangler's proxy also holds two (in and out). Its soft limit is raised to the hard
 * limit it inherits from us (scripts/dev-server.ts), which only a privileged process can raise.
 * The margin covers the runtime's own files, storage and outbound connections.
 */
export function runtimeSocketCapacity(): { capacity: number; hardLimit: number } {
  let hardLimit = Number.POSITIVE_INFINITY;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    if (hard && hard !== 'unlimited') hardLimit = Number(hard);
  } catch {
    // Not Linux: no limit known, nothing capped.
  }
  return { capacity: Math.floor((hardLimit - 400) / 2), hardLimit };
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** The viewers, spread over worker threads. */
class Fleet {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly pending = new Map<number, (reply: unknown) => void>();

  constructor(threads: number) {
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(new URL('./scale-clients.ts', import.meta.url), { workerData: { scaleClients: true } });
      w.on('message', (m: { id: number }) => {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      });
      return w;
    });
  }

  private call<T>(w: Worker, command: Omit<ClientCommand, 'id'>): Promise<T> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void);
      w.postMessage({ ...command, id });
    });
  }

  async connect(url: string, headers: Record<string, string>, count: number): Promise<{ connected: number; failed: number }> {
    const shares = this.workers.map((_, i) => Math.floor(count / this.workers.length) + (i < count % this.workers.length ? 1 : 0));
    const replies = await Promise.all(
      this.workers.map((w, i) => this.call<{ connected: number; failed: number }>(w, { cmd: 'connect', url, headers, count: shares[i]!, parallel: 16 } as Omit<ClientCommand, 'id'>)),
    );
    return { connected: replies.reduce((n, r) => n + r.connected, 0), failed: replies.reduce((n, r) => n + r.failed, 0) };
  }

  async wait(eventIds: string[], timeoutMs: number): Promise<number> {
    const replies = await Promise.all(this.workers.map((w) => this.call<{ missing: number }>(w, { cmd: 'wait', eventIds, timeoutMs } as Omit<ClientCommand, 'id'>)));
    return replies.reduce((n, r) => n + r.missing, 0);
  }

  async collect(): Promise<CollectReply> {
    const replies = await Promise.all(this.workers.map((w) => this.call<CollectReply>(w, { cmd: 'collect' } as Omit<ClientCommand, 'id'>)));
    const receipts: Record<string, number[]> = {};
    for (const r of replies) for (const [id, times] of Object.entries(r.receipts)) (receipts[id] ??= []).push(...times);
    return {
      receipts,
      duplicates: replies.reduce((n, r) => n + r.duplicates, 0),
      outOfOrder: replies.reduce((n, r) => n + r.outOfOrder, 0),
      closed: replies.reduce((n, r) => n + r.closed, 0),
      closeCodes: replies.reduce<Record<string, number>>((all, r) => {
        for (const [code, n] of Object.entries(r.closeCodes)) all[code] = (all[code] ?? 0) + n;
        return all;
      }, {}),
      open: replies.reduce((n, r) => n + r.open, 0),
    };
  }

  /** Drops every socket at once, as a deploy does; answers how many were open. */
  async drop(): Promise<number> {
    const replies = await Promise.all(this.workers.map((w) => this.call<{ dropped: number }>(w, { cmd: 'drop' } as Omit<ClientCommand, 'id'>)));
    return replies.reduce((n, r) => n + r.dropped, 0);
  }

  /** Every viewer reconnects with `?since=` at once (64 in flight per thread); answers when each caught up to `untilSeq`. */
  async rejoin(url: string, headers: Record<string, string>, untilSeq: number, startedAt: number): Promise<RejoinReply> {
    const replies = await Promise.all(
      this.workers.map((w) => this.call<RejoinReply>(w, { cmd: 'rejoin', url, headers, parallel: 64, untilSeq, startedAt, timeoutMs: 60_000 } as Omit<ClientCommand, 'id'>)),
    );
    return {
      reconnected: replies.reduce((n, r) => n + r.reconnected, 0),
      failed: replies.reduce((n, r) => n + r.failed, 0),
      caughtUp: replies.reduce((n, r) => n + r.caughtUp, 0),
      caughtUpMs: replies.flatMap((r) => r.caughtUpMs),
      gaps: replies.reduce((n, r) => n + r.gaps, 0),
      duplicates: replies.reduce((n, r) => n + r.duplicates, 0),
      snapshots: replies.reduce((n, r) => n + r.snapshots, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: 'close' } as Omit<ClientCommand, 'id'>)));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Something events are sent to: the app's POST /v1/events, or the plain server's broadcast. */
type Sender = (eventId: string) => Promise<void>;

function alertEvent(eventId: string) {
  return { event_id: eventId, type: 'alert.opened', occurred_at: new Date().toISOString(), data: { alert_id: eventId, severity: 'info', title: 'scale bench' } };
}

function appSender(url: string, token: string, board: string): Sender {
  return async (eventId) => {
    const res = await fetch(`${url}/v1/events?dashboard=${board}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(alertEvent(eventId)),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST /v1/events answered ${res.status}: ${text}`);
  };
}

function wsSender(baseline: WsBaseline): Sender {
  const e = (id: string) => alertEvent(id);
  return async (eventId) => {
    const event = e(eventId);
    await baseline.publish([{ type: 'event', data: { event_id: event.event_id, event_type: event.type, occurred_at: event.occurred_at, ...event.data } }], false);
  };
}

/** One phase: events sent with `concurrency` in flight, then every viewer's receipts. */
async function phase(fleet: Fleet, send: Sender, prefix: string, count: number, concurrency: number, viewers: number, oneAtATime: boolean, publicPort: number): Promise<PhaseResult> {
  const cpuBefore = sampleCpu(publicPort);
  const started = new Map<string, number>();
  const ingest: number[] = [];
  const failedSends: string[] = [];
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const t = now();
      try {
        await send(id);
      } catch (err) {
        // Counted and reported, not expected on any socket: the run goes on.
        failedSends.push(`${id}: ${String((err as Error).cause ?? err)}`);
        continue;
      }
      started.set(id, t);
      ingest.push(now() - t);
      // One at a time: the next event waits until this one reached every viewer.
      if (oneAtATime) await fleet.wait([id], 10_000);
    }
  };
  await Promise.all(Array.from({ length: oneAtATime ? 1 : concurrency }, worker));
  await fleet.wait([...started.keys()], 30_000);
  const cpu = cpuPerEvent(cpuBefore, sampleCpu(publicPort), started.size);
  const got = await fleet.collect();
  const latencies: number[] = [];
  let received = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const id of ids) {
    const t0 = started.get(id);
    if (t0 === undefined) continue;
    first = Math.min(first, t0);
    for (const t of got.receipts[id] ?? []) {
      latencies.push(t - t0);
      last = Math.max(last, t);
      received++;
    }
  }
  return {
    events: count,
    ingest: stats(ingest),
    receipt: stats(latencies),
    deliveriesPerSecond: received / Math.max(0.001, (last - first) / 1000),
    lost: viewers * started.size - received,
    duplicates: got.duplicates,
    outOfOrder: got.outOfOrder,
    failedSends,
    cpu,
  };
}

export async function runScaleBench(options: ScaleOptions): Promise<ScaleReport> {
  const { log } = options;
  const deadline = Date.now() + options.timeoutMs;
  const report: ScaleReport = { runs: [], queued: null };
  const baseline = await startWsBaseline();
  try {
    for (const [runIndex, perEdge] of options.socketsPerEdge.entries()) {
      if (Date.now() > deadline) break;
      const tag = Date.now().toString(36);
      const boards = { none: `scale-none-${tag}`, queued: `scale-queued-${tag}`, viewers: options.viewers.map((v) => `scale-${v}-${tag}`) };
      // A private dev registry (read by the wrangler startDevServer spawns) names the runtime's address.
      const scratch = options.direct ? await mkdtemp(path.join(os.tmpdir(), 'cc-scale-')) : null;
      const previousRegistry = process.env.WRANGLER_REGISTRY_PATH;
      if (scratch) process.env.WRANGLER_REGISTRY_PATH = path.join(scratch, 'registry');
      const server = await startDevServer({
        port: await freePort(),
        purpose: 'bench',
        vars: {
          USER_RATE_LIMITS: 'off',
          HUB_SOCKETS_PER_EDGE: String(perEdge),
          ...(options.kpiCoalesceMs === null ? {} : { HUB_KPI_COALESCE_MS: String(options.kpiCoalesceMs) }),
          DASHBOARDS: ['default', boards.none, boards.queued, ...boards.viewers].join(','),
        },
        log: (l) => log(`[stack] ${l}`),
      });
      const origin = scratch ? await userWorkerOrigin(path.join(scratch, 'registry'), 'command-center') : null;
      if (scratch && !origin) log("scale: the runtime's own address was not found; measuring through the public address");
      const base = origin ?? server.url;
      try {
        const viewerToken = await signIn(server.url, 'viewer');
        const editorToken = await signIn(server.url, 'editor');
        const adminToken = await signIn(server.url, 'admin');
        const wsUrl = (board: string) => `${base.replace(/^http/, 'ws')}/v1/dashboard/stream?dashboard=${board}`;
        const auth = { authorization: `Bearer ${viewerToken}` };

        // Warm the ingest path, then POST with nobody watching: the reference for ingest latency.
        const none = appSender(base, editorToken, boards.none);
        for (let i = 0; i < 5; i++) await none(`${boards.none}-warm-${i}`);
        const noViewers: number[] = [];
        const publicPort = Number(new URL(server.url).port);
        const cpuBefore = sampleCpu(publicPort);
        for (let i = 0; i < options.oneAtATime; i++) {
          const t = now();
          await none(`${boards.none}-${i}`);
          noViewers.push(now() - t);
        }
        const noViewersCpu = cpuPerEvent(cpuBefore, sampleCpu(publicPort), options.oneAtATime);
        const run: EdgeRun = { socketsPerEdge: perEdge, path: origin ? 'direct' : 'public', ingestNoViewers: stats(noViewers), noViewersCpu, viewers: [] };
        log(`scale: ${perEdge} sockets per edge; ingest with no viewers p50 ${run.ingestNoViewers.p50.toFixed(1)} ms`);

        const { capacity, hardLimit } = runtimeSocketCapacity();
        for (const [i, asked] of options.viewers.entries()) {
          if (Date.now() > deadline) break;
          const board = boards.viewers[i]!;
          const viewers = Math.min(asked, capacity);
          const result: Partial<ViewerResult> = { viewers: asked, ...(viewers < asked ? { cappedTo: viewers } : {}) };
          if (viewers < asked) log(`scale: ${asked} viewers asked, ${viewers} measured: the runtime holds two descriptors per socket and the open-file hard limit here is ${hardLimit}`);
          let closedByServer = 0;
          for (const target of ['app', 'ws'] as const) {
            const fleet = new Fleet(options.threads);
            try {
              const connected = await fleet.connect(target === 'app' ? wsUrl(board) : baseline.url, target === 'app' ? auth : {}, viewers);
              log(`scale: ${target} ${connected.connected}/${viewers} viewers connected (${connected.failed} failed)`);
              const send = target === 'app' ? appSender(base, editorToken, board) : wsSender(baseline);
              // Warm-up: the path and every socket once.
              await phase(fleet, send, `${board}-${target}-warm`, 3, 1, connected.connected, true, publicPort);
              const single = await phase(fleet, send, `${board}-${target}-single`, options.oneAtATime, 1, connected.connected, true, publicPort);
              const burst = await phase(fleet, send, `${board}-${target}-burst`, options.burst, options.burstConcurrency, connected.connected, false, publicPort);
              const after = await fleet.collect();
              closedByServer += connected.connected - after.open;
              if (target === 'app' && options.stormEvents > 0) {
                result.storm = await storm(fleet, { base, board, wsUrl: wsUrl(board), auth, adminToken, send, events: options.stormEvents, viewers: after.open, publicPort });
                const st = result.storm;
                log(`scale: storm ${st.reconnected}/${st.viewers} back, ${st.caughtUp} caught up, p95 ${st.caughtUpMs.p95.toFixed(0)} ms, gaps ${st.gaps}, root log loads ${st.rootLogLoads} for ${st.edges} edges, single replays ${st.rootSingleReplays}`);
              }
              if (after.closed > 0) log(`scale: ${target} sockets closed by the server, by close code: ${JSON.stringify(after.closeCodes)}`);
              result.connected = { ...(result.connected ?? { app: 0, ws: 0 }), [target]: connected.connected };
              result[target] = { single, burst };
              log(`scale: ${target} ${viewers} viewers: receipt p95 ${single.receipt.p95.toFixed(1)} ms one at a time, ${burst.deliveriesPerSecond.toFixed(0)} deliveries/s in bursts, lost ${single.lost + burst.lost}`);
            } finally {
              await fleet.close();
            }
          }
          result.closedByServer = closedByServer;
          run.viewers.push(result as ViewerResult);
        }
        report.runs.push(run);

        // Queued ingest, once: end to end through the queue, the consumer, the hub and a viewer.
        if (runIndex === options.socketsPerEdge.length - 1 && options.queuedEvents > 0 && Date.now() < deadline) {
          report.queued = await queued(base, editorToken, wsUrl(boards.queued), auth, boards.queued, options);
          log(`scale: queued ${report.queued.events} events at ${report.queued.eventsPerSecond.toFixed(0)} events/s end to end, lost ${report.queued.lost}, duplicates ${report.queued.duplicates}`);
        }
      } finally {
        await server.close();
        if (scratch) {
          if (previousRegistry === undefined) delete process.env.WRANGLER_REGISTRY_PATH;
          else process.env.WRANGLER_REGISTRY_PATH = previousRegistry;
          await rm(scratch, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await baseline.close();
  }
  return report;
}

interface HubState {
  last_seq: number;
  edges: unknown[];
  replays: { log_loads: number; single: number };
}

async function hubState(base: string, board: string, adminToken: string): Promise<HubState> {
  const res = await fetch(`${base}/v1/dashboard/hub?dashboard=${board}`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /v1/dashboard/hub answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as HubState;
}

/**
 * A deploy, as the viewers see it: every socket dropped at once, `events` published while they
 * are away, then every viewer back with `?since=` its last seq, 64 at a time per thread. Each must
 * apply every missed seq in order; the root should read its log about once per edge, not once per
 * viewer.
 */
async function storm(
  fleet: Fleet,
  o: { base: string; board: string; wsUrl: string; auth: Record<string, string>; adminToken: string; send: Sender; events: number; viewers: number; publicPort: number },
): Promise<StormResult> {
  const dropped = await fleet.drop();
  for (let i = 0; i < o.events; i++) await o.send(`${o.board}-storm-${i}`);
  const before = await hubState(o.base, o.board, o.adminToken);
  const cpuBefore = sampleCpu(o.publicPort);
  const t0 = now();
  const back = await fleet.rejoin(o.wsUrl, o.auth, before.last_seq, t0);
  const cpu = cpuPerEvent(cpuBefore, sampleCpu(o.publicPort), back.reconnected);
  const after = await hubState(o.base, o.board, o.adminToken);
  const times = stats(back.caughtUpMs);
  return {
    viewers: dropped,
    eventsMissed: o.events,
    reconnected: back.reconnected,
    failed: back.failed,
    caughtUp: back.caughtUp,
    caughtUpMs: { ...times, max: Math.max(0, ...back.caughtUpMs) },
    gaps: back.gaps,
    duplicates: back.duplicates,
    snapshots: back.snapshots,
    edges: after.edges.length,
    rootLogLoads: after.replays.log_loads - before.replays.log_loads,
    rootSingleReplays: after.replays.single - before.replays.single,
    cpu,
  };
}

async function queued(url: string, token: string, streamUrl: string, auth: Record<string, string>, board: string, options: ScaleOptions): Promise<QueuedResult> {
  const fleet = new Fleet(1);
  try {
    await fleet.connect(streamUrl, auth, 1);
    const batches = Math.ceil(options.queuedEvents / options.queuedBatch);
    const ids: string[] = [];
    let next = 0;
    const t0 = now();
    const worker = async () => {
      while (next < batches) {
        const b = next++;
        const events = Array.from({ length: Math.min(options.queuedBatch, options.queuedEvents - b * options.queuedBatch) }, (_, i) => alertEvent(`${board}-${b}-${i}`));
        ids.push(...events.map((e) => e.event_id));
        const res = await fetch(`${url}/v1/events?dashboard=${board}&mode=async`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`async POST answered ${res.status}: ${text}`);
      }
    };
    await Promise.all(Array.from({ length: options.queuedConcurrency }, worker));
    const accepted = now();
    const missing = await fleet.wait(ids, 120_000);
    const got = await fleet.collect();
    let last = 0;
    let received = 0;
    for (const id of ids) {
      const times = got.receipts[id] ?? [];
      received += times.length;
      for (const t of times) last = Math.max(last, t);
    }
    await sleep(0);
    const seconds = (last - t0) / 1000;
    return {
      events: ids.length,
      acceptSeconds: (accepted - t0) / 1000,
      endToEndSeconds: seconds,
      eventsPerSecond: missing === 0 ? ids.length / seconds : received / Math.max(0.001, seconds),
      received,
      lost: ids.length - received,
      duplicates: got.duplicates,
    };
  } finally {
    await fleet.close();
  }
}

const f = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '—');

export function scaleTable(report: ScaleReport): string {
  const lines: string[] = [];
  for (const run of report.runs) {
    lines.push(`\nLive at scale, ${run.socketsPerEdge} sockets per edge, ${run.path === 'public' ? "the public address (through wrangler's proxy)" : "the runtime's own address"} (POST /v1/events with no viewers: p50 ${f(run.ingestNoViewers.p50)} / p95 ${f(run.ingestNoViewers.p95)} ms)\n`);
    lines.push('| viewers (app/ws) | edges | mode | ingest p50 / p95 ms | POST→receipt p50 / p95 / p99 ms | ws p50 / p95 / p99 ms | p95 ratio | deliveries/s app / ws | lost app / ws | dup / out of order |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const v of run.viewers) {
      // The hub's own count when the storm read it; otherwise what placement would reach.
      const edges = v.storm?.edges ?? Math.min(64, Math.floor(v.connected.app / run.socketsPerEdge) + 1);
      for (const mode of ['single', 'burst'] as const) {
        const a = v.app[mode];
        const w = v.ws[mode];
        lines.push(
          `| ${v.connected.app}/${v.connected.ws} of ${v.cappedTo ?? v.viewers}${v.cappedTo ? ` (${v.viewers} asked; fd limit)` : ''} | ${edges} | ${mode === 'single' ? 'one at a time' : 'burst'} | ${f(a.ingest.p50)} / ${f(a.ingest.p95)} | ${f(a.receipt.p50)} / ${f(a.receipt.p95)} / ${f(a.receipt.p99)} | ${f(w.receipt.p50)} / ${f(w.receipt.p95)} / ${f(w.receipt.p99)} | ${(a.receipt.p95 / w.receipt.p95).toFixed(2)}× | ${f(a.deliveriesPerSecond)} / ${f(w.deliveriesPerSecond)} | ${a.lost} / ${w.lost} | ${a.duplicates + w.duplicates} / ${a.outOfOrder + w.outOfOrder} |`,
        );
      }
      const failed = [...v.app.single.failedSends, ...v.app.burst.failedSends];
      if (failed.length > 0) lines.push(`|  |  | failed POSTs: ${failed.length} (${failed[0]}) |  |  |  |  |  |  |  |`);
      const single = v.app.single;
      if (v.storm) {
        const st = v.storm;
        lines.push(
          `|  |  | reconnect storm | ${st.reconnected}/${st.viewers} back with ?since= after ${st.eventsMissed} missed events; ${st.caughtUp} caught up in p50 ${f(st.caughtUpMs.p50)} / p95 ${f(st.caughtUpMs.p95)} / max ${f(st.caughtUpMs.max)} ms | gaps ${st.gaps}, duplicates ${st.duplicates}, snapshots ${st.snapshots} | root log loads ${st.rootLogLoads} for ${st.edges} edges, single replays ${st.rootSingleReplays} |  |  |  |  |`,
        );
      }
      lines.push(`|  |  | ingest p95 vs none |  ${(single.ingest.p95 / run.ingestNoViewers.p95).toFixed(2)}× (target ≤ 1.2× at 1,000) |  |  |  |  |  | closed by server: ${v.closedByServer} |`);
    }
    lines.push(`\nCPU per event posted one at a time, by process (from /proc):\n`);
    lines.push(`- no viewers: ${formatCpu(run.noViewersCpu)}`);
    for (const v of run.viewers) {
      lines.push(`- ${v.connected.app} viewers, app: ${formatCpu(v.app.single.cpu)}`);
      lines.push(`- ${v.connected.ws} viewers, plain \`ws\`: ${formatCpu(v.ws.single.cpu)}`);
      if (v.storm) lines.push(`- ${v.storm.reconnected} viewers back after a storm, per reconnect (authenticated upgrade and replay): ${formatCpu(v.storm.cpu)}`);
    }
  }
  if (report.queued) {
    const q = report.queued;
    lines.push(
      `\nQueued ingest (mode=async): ${q.events} events accepted in ${q.acceptSeconds.toFixed(2)} s, all applied and delivered in ${q.endToEndSeconds.toFixed(2)} s = ${q.eventsPerSecond.toFixed(0)} events/s end to end (target ≥ 5,000); lost ${q.lost}, duplicates ${q.duplicates}`,
    );
  }
  return lines.join('\n');
}

// `node test/bench/scale.ts` runs this part of the bench alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await runScaleBench(scaleOptionsFromEnv());
  console.log(scaleTable(report));
}
