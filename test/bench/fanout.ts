import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPlatformProxy } from 'wrangler';
import { WebSocket } from 'ws';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import type { PublishInput } from '../../durable-objects/protocol.ts';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME, ackDelayMs } from '../../durable-objects/protocol.ts';
import { startDevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import type { BareHub } from './bare-hub-worker.ts';
import { startBenchWorker } from './bench-worker.ts';
import { userWorkerOrigin } from './user-worker.ts';
import { startWsBaseline } from './ws-baseline.ts';
import type { BaselineMessage } from './ws-baseline.ts';
import { signIn } from './sign-in.ts';

/**
 * Fan-out bench: N WebSocket clients on ONE DashboardHub, reached through the real app under
 * `wrangler dev` (auth, routing, the Durable Object), against a plain `ws` broadcast server in the
 * same run with the same clients, frames and payload.
 *
 * Publishing goes straight to the hub's RPC (`publish`, `publishBatch`), not through an HTTP
 * route: the numbers are then the hub's alone (the ingest bench covers POST /v1/events), and
 * production needs no bench-only route. The bench starts `wrangler dev` with a private dev
 * registry and opens `getPlatformProxy` on a throwaway config whose DASHBOARD_HUB binding names
 * the dev session's `DashboardHub` (`script_name`), so it reaches the same object the sockets are
 * on. Nothing in the worker changes, and the private registry keeps other dev sessions on this
 * machine out of it.
 * The RPC hop costs a few milliseconds; the report shows it as the "publish path" floor, and
 * gives latency from the hub's own `ts` (the moment it stored the message) as well.
 *
 * The measured clients connect to the worker's own address in wrangler's runtime
 * (`user-worker.ts`), as they would in production where no dev proxy relays each frame. A second
 * set of clients on a second hub connects through wrangler's proxy for the latency rounds, so the
 * report shows what that hop adds, in the same run.
 *
 * wrangler dev's local observability (the trace collector behind its local explorer, on by
 * default) is switched off for this session: it wraps every Durable Object event, which made
 * each WebSocket send about 3.5× dearer, and under a thousand sockets it logs an error per event
 * until the unread log pipe of `startDevServer` fills and wrangler blocks. It is dev tooling, not
 * part of the app or of production.
 */

export interface FanoutOptions {
  /** Concurrent WebSocket clients per target. */
  clients: number;
  /** Broadcasts measured one at a time (each waits for full delivery), split over the rounds. */
  broadcasts: number;
  /** Rounds alternate which target goes first, so drift on a shared machine hits both alike. */
  rounds: number;
  /** Messages per throughput burst. */
  burst: number;
  /** Messages per batch in the batched burst. */
  batchSize: number;
  /** Publish calls in flight during a burst. */
  window: number;
  /** Bytes of JSON in each message's `data`. */
  payloadBytes: number;
  /** Wall-clock bound for the whole fan-out bench, startup included. */
  timeoutMs: number;
  /** Also measure a second hub through wrangler's proxy (latency rounds only). */
  viaProxy: boolean;
  log: (line: string) => void;
}

export function fanoutOptionsFromEnv(log: (line: string) => void = console.log): FanoutOptions {
  const int = (name: string, fallback: number, max: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}`);
    return value;
  };
  return {
    clients: int('BENCH_WS_CLIENTS', 1_000, 5_000),
    broadcasts: int('BENCH_WS_BROADCASTS', 100, 10_000),
    rounds: int('BENCH_WS_ROUNDS', 2, 20),
    burst: int('BENCH_WS_BURST', 1_000, 20_000),
    batchSize: int('BENCH_WS_BATCH', 50, 500),
    window: int('BENCH_WS_WINDOW', 8, 64),
    payloadBytes: int('BENCH_WS_PAYLOAD_BYTES', 256, 60_000),
    timeoutMs: int('BENCH_WS_TIMEOUT_MS', 600_000, 3_600_000),
    viaProxy: process.env.BENCH_WS_VIA_PROXY === '1',
    log,
  };
}

interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface BurstResult {
  target: TargetName;
  mode: 'frames' | 'batch';
  messages: number;
  /** Messages per frame as clients saw them: above 1 where the hub merged a burst. */
  messagesPerFrame: number;
  seconds: number;
  publishesPerSecond: number;
  deliveriesPerSecond: number;
  latency: Stats;
  lost: number;
  duplicates: number;
  outOfOrder: number;
}

/** Who is measured: the hub, the bare Durable Object, the plain `ws` server, and (opt-in) the hub through wrangler's proxy. */
export type TargetName = 'hub' | 'bare' | 'ws' | 'hubViaProxy';

export interface FanoutReport {
  options: Omit<FanoutOptions, 'log'>;
  frameBytes: number;
  /** `direct`: the workers' clients reached each worker's own address; `proxy`: only wrangler's proxy was found. */
  path: 'direct' | 'proxy';
  connected: Partial<Record<TargetName, number>>;
  publishFloorMs: number;
  latency: Partial<Record<TargetName, Stats>>;
  /** From the server's `ts` (when it stored or sent the message) to receipt: fan-out alone. */
  fanoutLatency: Partial<Record<TargetName, Stats>>;
  bursts: BurstResult[];
  closedByServer: Partial<Record<TargetName, number>>;
  /** Duplicates and out-of-order messages during the latency rounds (loss there fails the run). */
  latencyAnomalies: Partial<Record<TargetName, number>>;
}

/** Starts its own `wrangler dev` (the registry must be private before wrangler starts), measures, stops. */
export async function runFanoutBench(options: FanoutOptions): Promise<FanoutReport> {
  const deadline = Date.now() + options.timeoutMs;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'cc-fanout-'));
  const previous = { WRANGLER_REGISTRY_PATH: process.env.WRANGLER_REGISTRY_PATH, X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY };
  // Both are read by the wrangler that startDevServer spawns with this process's environment.
  process.env.WRANGLER_REGISTRY_PATH = path.join(scratch, 'registry');
  process.env.X_LOCAL_OBSERVABILITY = 'false';
  const cleanups: Array<() => Promise<unknown>> = [async () => rm(scratch, { recursive: true, force: true })];
  let stopped = false;
  // Whatever is started after a timeout has already torn things down is stopped at once.
  const own = (stop: () => Promise<unknown>) => {
    if (stopped) void stop().catch(() => undefined);
    else cleanups.push(stop);
  };
  const cleanup = async () => {
    stopped = true;
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => options.log(`cleanup: ${String(err)}`));
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const overall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fan-out bench exceeded ${options.timeoutMs} ms`)), options.timeoutMs);
  });
  const work = measure(options, deadline, own);
  // After a timeout the measurement may still fail while everything is torn down; that is expected.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, overall]);
  } finally {
    clearTimeout(timer);
    await cleanup();
  }
}

async function measure(options: FanoutOptions, deadline: number, own: (stop: () => Promise<unknown>) => void): Promise<FanoutReport> {
  const { log } = options;
  // A fresh hub per run (Durable Object state persists between runs), configured as a dashboard.
  const dashboard = `bench-${Date.now().toString(36)}`;
  const server = await startDevServer({
    port: await freePort(),
    purpose: 'bench',
    // The messages are kpi_updates, which otherwise wait up to HUB_KPI_COALESCE_MS for an event to
    // ride with; this measures the fan-out itself.
    vars: { DASHBOARDS: `default,${dashboard},${dashboard}-via-proxy`, HUB_KPI_COALESCE_MS: '0' },
    log: (l) => log(`[stack] ${l}`),
  });
  own(() => server.close());

  const token = await signIn(server.url, 'viewer');

  // The bare Durable Object joins the same private registry, so one platform proxy reaches both.
  const bare = await startBenchWorker('bare-hub');
  own(() => bare.close());
  const config = path.join(path.dirname(process.env.WRANGLER_REGISTRY_PATH!), 'publisher.json');
  await writeFile(
    config,
    JSON.stringify({
      name: 'cc-bench-publisher',
      compatibility_date: '2026-10-19',
      durable_objects: {
        bindings: [
          { name: 'DASHBOARD_HUB', class_name: 'DashboardHub', script_name: 'command-center' },
          { name: 'BARE_HUB', class_name: 'BareHub', script_name: 'bare-hub-baseline' },
        ],
      },
    }),
  );
  const proxy = await getPlatformProxy<{ DASHBOARD_HUB: DurableObjectNamespace<DashboardHub>; BARE_HUB: DurableObjectNamespace<BareHub> }>({
    configPath: config,
    persist: false,
    remoteBindings: false,
  });
  own(() => proxy.dispose());

  const hub = proxy.env.DASHBOARD_HUB.get(proxy.env.DASHBOARD_HUB.idFromName(dashboard));
  const bareHub = proxy.env.BARE_HUB.get(proxy.env.BARE_HUB.idFromName(dashboard));
  await retry(() => hub.stats(), 40, 250);
  const registry = process.env.WRANGLER_REGISTRY_PATH!;
  const [appOrigin, bareOrigin] = await Promise.all([userWorkerOrigin(registry, 'command-center'), userWorkerOrigin(registry, 'bare-hub-baseline')]);
  const direct = appOrigin !== null && bareOrigin !== null;
  log(direct ? `fan-out: the workers answer at ${appOrigin} and ${bareOrigin}` : "fan-out: a worker's own address was not found; measuring through wrangler's proxies");

  const baseline = await startWsBaseline();
  own(() => baseline.close());

  const fleets = new Map<TargetName, Fleet>();
  const fleet = (name: TargetName) => {
    const f = new Fleet(name);
    fleets.set(name, f);
    own(() => f.close());
    return f;
  };
  const streamUrl = (origin: string, board: string) => `${origin.replace(/^http/, 'ws')}/v1/dashboard/stream?dashboard=${board}`;
  const headers = { authorization: `Bearer ${token}` };
  const open = async (f: Fleet, url: string, withAuth: boolean) => {
    await f.connect(options.clients, () => new WebSocket(url, { ...(withAuth ? { headers } : {}), perMessageDeflate: false }), deadline);
    log(`fan-out: ${f.open} ${f.name} clients`);
  };
  const hubFleet = fleet('hub');
  await open(hubFleet, streamUrl(direct ? appOrigin : server.url, dashboard), true);
  const bareFleet = fleet('bare');
  await open(bareFleet, `${(direct ? bareOrigin : bare.url).replace(/^http/, 'ws')}/stream?hub=${dashboard}`, false);
  const wsFleet = fleet('ws');
  await open(wsFleet, baseline.url, false);

  // Both Durable Objects answer the same RPC; a refusal is a broken bench, not a number.
  const rpc = (stub: { publish(m: PublishInput): Promise<{ ok: boolean }>; publishBatch(m: PublishInput[]): Promise<{ ok: boolean }> }, f: Fleet): Target => ({
    fleet: f,
    publish: async (messages) => {
      const r = await stub.publish(messages[0] as PublishInput);
      if (!r.ok) throw new Error(`${f.name} refused: ${JSON.stringify(r)}`);
    },
    publishBatch: async (messages) => {
      const r = await stub.publishBatch(messages as PublishInput[]);
      if (!r.ok) throw new Error(`${f.name} refused: ${JSON.stringify(r)}`);
    },
  });
  const targets: Target[] = [
    rpc(hub, hubFleet),
    rpc(bareHub, bareFleet),
    {
      fleet: wsFleet,
      publish: async (messages) => void (await baseline.publish(messages, false)),
      publishBatch: async (messages) => void (await baseline.publish(messages, true)),
    },
  ];
  // Opt-in, latency rounds only: what wrangler's proxy adds to the hub, on a second hub.
  const latencyTargets = [...targets];
  if (options.viaProxy && direct) {
    const viaProxyFleet = fleet('hubViaProxy');
    await open(viaProxyFleet, streamUrl(server.url, `${dashboard}-via-proxy`), true);
    latencyTargets.push(rpc(proxy.env.DASHBOARD_HUB.get(proxy.env.DASHBOARD_HUB.idFromName(`${dashboard}-via-proxy`)), viaProxyFleet));
  }

  const payload = { metric: 'claim_volume', source: 'postgres', value: 1234.5, pad: '' };
  const basis = JSON.stringify({ ...payload, phase: 0, i: 0 }).length;
  payload.pad = 'x'.repeat(Math.max(0, options.payloadBytes - basis));
  const message = (phase: number, i: number): BaselineMessage => ({ type: 'kpi_update', data: { ...payload, phase, i } });
  const frameBytes = `{"type":"kpi_update","seq":1,"ts":"${new Date().toISOString()}","data":${JSON.stringify(message(1, 1).data)}}`.length;

  // The RPC alone, without fan-out: what every hub number below carries on top of delivery.
  const floor: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await hub.stats();
    floor.push(performance.now() - t);
  }

  // Warm every path (JIT, connection pools) before anything is recorded.
  for (const target of latencyTargets) {
    const phase = target.fleet.startPhase(5);
    for (let i = 0; i < 5; i++) {
      phase.sent(i);
      await target.publish([message(phase.id, i)]);
      await phase.delivered(i, remaining(deadline, 10_000));
    }
  }

  const measured = latencyTargets.map((t) => t.fleet);
  const latency = new Map<Fleet, number[]>(measured.map((f) => [f, []]));
  const fanout = new Map<Fleet, number[]>(measured.map((f) => [f, []]));
  const anomalies = new Map<Fleet, number>(measured.map((f) => [f, 0]));
  const perRound = Math.max(1, Math.round(options.broadcasts / options.rounds));
  for (let round = 0; round < options.rounds; round++) {
    for (const target of round % 2 === 0 ? latencyTargets : [...latencyTargets].reverse()) {
      const phase = target.fleet.startPhase(perRound);
      for (let i = 0; i < perRound; i++) {
        phase.sent(i);
        await target.publish([message(phase.id, i)]);
        await phase.delivered(i, remaining(deadline, 30_000));
      }
      latency.get(target.fleet)!.push(...phase.latencies());
      fanout.get(target.fleet)!.push(...phase.fanoutLatencies());
      const check = target.fleet.verify(phase);
      anomalies.set(target.fleet, anomalies.get(target.fleet)! + check.duplicates + check.outOfOrder);
      log(`fan-out: round ${round + 1} ${target.fleet.name} latency done`);
    }
  }

  const bursts: BurstResult[] = [];
  for (const mode of ['frames', 'batch'] as const) {
    for (const target of targets) {
      bursts.push(await burst(target, mode, options, message, deadline));
      log(`fan-out: ${target.fleet.name} ${mode} burst done`);
    }
  }

  const { log: _log, ...settings } = options;
  return {
    options: settings,
    frameBytes,
    path: direct ? 'direct' : 'proxy',
    connected: byTarget(measured, (f) => f.open),
    publishFloorMs: stats(floor).p50,
    latency: byTarget(measured, (f) => stats(latency.get(f)!)),
    fanoutLatency: byTarget(measured, (f) => stats(fanout.get(f)!)),
    bursts,
    closedByServer: byTarget(measured, (f) => f.closedByServer),
    latencyAnomalies: byTarget(measured, (f) => anomalies.get(f)!),
  };
}

function byTarget<T>(fleets: Fleet[], value: (f: Fleet) => T): Partial<Record<TargetName, T>> {
  return Object.fromEntries(fleets.map((f) => [f.name, value(f)]));
}

interface Target {
  fleet: Fleet;
  publish(messages: BaselineMessage[]): Promise<void>;
  publishBatch(messages: BaselineMessage[]): Promise<void>;
}

/** `burst` messages as fast as `window` publish calls in flight allow, one frame each or batched. */
async function burst(
  target: Target,
  mode: 'frames' | 'batch',
  options: FanoutOptions,
  message: (phase: number, i: number) => BaselineMessage,
  deadline: number,
): Promise<BurstResult> {
  const phase = target.fleet.startPhase(options.burst);
  const step = mode === 'batch' ? options.batchSize : 1;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < options.burst) {
      const from = next;
      next = Math.min(options.burst, next + step);
      const messages: BaselineMessage[] = [];
      for (let i = from; i < next; i++) {
        phase.sent(i);
        messages.push(message(phase.id, i));
      }
      await (mode === 'batch' ? target.publishBatch(messages) : target.publish(messages));
    }
  };
  await Promise.all(Array.from({ length: options.window }, worker));
  // A shortfall is reported as loss rather than thrown, so the table shows how much went missing.
  await phase.delivered(options.burst - 1, remaining(deadline, 120_000), true).catch((err: unknown) => options.log(String(err)));
  const seconds = (phase.lastArrival - started) / 1000;
  const check = target.fleet.verify(phase);
  return {
    target: target.fleet.name,
    mode,
    messages: options.burst,
    messagesPerFrame: phase.deliveries / Math.max(1, phase.frames),
    seconds,
    publishesPerSecond: options.burst / seconds,
    deliveriesPerSecond: phase.deliveries / seconds,
    latency: stats(phase.latencies()),
    ...check,
  };
}

interface Client {
  ws: WebSocket;
  /** The seq the client expects next; 0 until its hello arrives. */
  next: number;
  duplicates: number;
  outOfOrder: number;
  lastApplied: number;
  ackTimer: NodeJS.Timeout | null;
  /** Its place in the ack interval (protocol.ts `ackDelayMs`). */
  ackSpread: number;
}

interface DataFrame {
  type: string;
  seq: number;
  ts: string;
  data?: { phase?: number; i?: number };
  messages?: DataFrame[];
}

/** One set of clients behaving as dashboards should: track seq, ack, ping. */
class Fleet {
  readonly name: TargetName;
  readonly clients: Client[] = [];
  closedByServer = 0;
  private phase: Phase | null = null;
  private phases = 0;
  private pinger: NodeJS.Timeout | undefined;

  constructor(name: TargetName) {
    this.name = name;
  }

  get open(): number {
    return this.clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length;
  }

  async connect(count: number, open: () => WebSocket, deadline: number): Promise<void> {
    let started = 0;
    // A handful of handshakes at a time: wrangler dev authenticates each one in the worker.
    const opener = async () => {
      while (started < count) {
        started++;
        const client: Client = { ws: open(), next: 0, duplicates: 0, outOfOrder: 0, lastApplied: 0, ackTimer: null, ackSpread: Math.random() };
        this.clients.push(client);
        client.ws.on('message', (data) => this.receive(client, data as Buffer));
        client.ws.on('close', (code) => {
          if (code !== 1000 && code !== 1005) this.closedByServer++;
        });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${this.name}: connect timed out`)), remaining(deadline, 15_000));
          client.ws.once('open', () => {
            clearTimeout(timer);
            resolve();
          });
          client.ws.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
      }
    };
    await Promise.all(Array.from({ length: 25 }, opener));
    // Every client has had its hello before anything is measured.
    const until = Date.now() + remaining(deadline, 15_000);
    while (this.clients.some((c) => c.next === 0) && Date.now() < until) await sleep(20);
    this.pinger = setInterval(() => {
      for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(PING_FRAME);
    }, HEARTBEAT_INTERVAL_MS);
    this.pinger.unref();
  }

  startPhase(messages: number): Phase {
    this.phase = new Phase(++this.phases, messages, this.clients.length);
    return this.phase;
  }

  /** Every client got every seq of the phase exactly once and in order; resets the counters. */
  verify(phase: Phase): { lost: number; duplicates: number; outOfOrder: number } {
    let duplicates = 0;
    let outOfOrder = 0;
    for (const c of this.clients) {
      duplicates += c.duplicates;
      outOfOrder += c.outOfOrder;
      c.duplicates = 0;
      c.outOfOrder = 0;
    }
    return { lost: phase.expected - phase.deliveries, duplicates, outOfOrder };
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const c of this.clients) {
      if (c.ackTimer) clearTimeout(c.ackTimer);
      if (c.ws.readyState === WebSocket.OPEN || c.ws.readyState === WebSocket.CONNECTING) c.ws.close(1000);
    }
    const until = Date.now() + 5_000;
    while (this.clients.some((c) => c.ws.readyState !== WebSocket.CLOSED) && Date.now() < until) await sleep(50);
    for (const c of this.clients) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
  }

  private receive(client: Client, data: Buffer): void {
    const at = performance.now();
    const frame = JSON.parse(data.toString()) as DataFrame;
    if (frame.type === 'hello') {
      if (client.next === 0) client.next = frame.seq + 1;
      return;
    }
    if (frame.type === 'batch') {
      for (const m of frame.messages ?? []) this.apply(client, m, at);
    } else if (frame.data) {
      this.apply(client, frame, at);
    } else {
      return;
    }
    if (this.phase) this.phase.frames++;
    if (!client.ackTimer) {
      client.ackTimer = setTimeout(() => {
        client.ackTimer = null;
        if (client.ws.readyState === WebSocket.OPEN) client.ws.send(`{"type":"ack","seq":${client.lastApplied}}`);
      }, ackDelayMs(ACK_INTERVAL_MS, client.ackSpread));
    }
  }

  private apply(client: Client, m: DataFrame, at: number): void {
    if (m.seq < client.next) {
      client.duplicates++;
      return;
    }
    if (m.seq > client.next) client.outOfOrder++;
    client.next = m.seq + 1;
    client.lastApplied = m.seq;
    if (this.phase && m.data?.phase === this.phase.id && m.data.i !== undefined) this.phase.arrived(m.data.i, at, Date.parse(m.ts));
  }
}

/** Send times and arrivals for one series of messages. */
class Phase {
  readonly id: number;
  readonly expected: number;
  deliveries = 0;
  frames = 0;
  lastArrival = 0;
  private readonly clients: number;
  private readonly t0: Float64Array;
  private readonly arrivals: Uint32Array;
  private readonly samples: Float64Array;
  private readonly fromServer: Float64Array;
  private waiter: { i: number; resolve: () => void } | null = null;

  constructor(id: number, messages: number, clients: number) {
    this.id = id;
    this.clients = clients;
    this.expected = messages * clients;
    this.t0 = new Float64Array(messages);
    this.arrivals = new Uint32Array(messages);
    this.samples = new Float64Array(messages * clients);
    this.fromServer = new Float64Array(messages * clients);
  }

  sent(i: number): void {
    this.t0[i] = performance.now();
  }

  /** `at` on the performance clock; `serverTs` in epoch ms, compared on the wall clock. */
  arrived(i: number, at: number, serverTs: number): void {
    this.fromServer[this.deliveries] = performance.timeOrigin + at - serverTs;
    this.samples[this.deliveries++] = at - this.t0[i]!;
    this.lastArrival = at;
    if (++this.arrivals[i]! === this.clients && this.waiter?.i === i) this.waiter.resolve();
    else if (this.waiter && this.deliveries === this.expected) this.waiter.resolve();
  }

  /** Resolves when every client has message `i` (or, with `all`, every message of the phase). */
  delivered(i: number, timeoutMs: number, all = false): Promise<void> {
    const done = () => (all ? this.deliveries >= this.expected : this.arrivals[i]! >= this.clients);
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`message ${i} not delivered to every client within ${timeoutMs} ms (${this.arrivals[i]}/${this.clients}; ${this.deliveries}/${this.expected} in all)`));
      }, timeoutMs);
      this.waiter = {
        i: all ? -1 : i,
        resolve: () => {
          if (!done()) return;
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        },
      };
    });
  }

  latencies(): number[] {
    return Array.from(this.samples.subarray(0, this.deliveries));
  }

  fanoutLatencies(): number[] {
    return Array.from(this.fromServer.subarray(0, this.deliveries));
  }
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { count: sorted.length, p50: pct(50), p95: pct(95), p99: pct(99), max: sorted.at(-1) ?? 0 };
}

function remaining(deadline: number, cap: number): number {
  return Math.max(1, Math.min(cap, deadline - Date.now()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retry<T>(fn: () => Promise<T>, attempts: number, pauseMs: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(pauseMs);
    }
  }
}

const LABELS: Record<TargetName, string> = {
  ws: 'plain ws',
  bare: 'bare Durable Object',
  hub: 'hub',
  hubViaProxy: "hub through wrangler's proxy",
};

export function fanoutTable(r: FanoutReport): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const x = (n: number) => `${n.toFixed(2)}×`;
  const grid = (head: string[], rows: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  };
  const present = (['ws', 'bare', 'hub', 'hubViaProxy'] as const).filter((t) => r.latency[t]);
  const ratio = (label: string, a: Stats, b: Stats) => ['', label, '', x(a.p50 / b.p50), x(a.p95 / b.p95), x(a.p99 / b.p99), x(a.max / b.max)];
  const rows = (label: string, byTarget: FanoutReport['latency']) => {
    const { ws, bare, hub } = byTarget;
    return [
      ...present.map((t, i) => {
        const s = byTarget[t]!;
        return [i === 0 ? label : '', LABELS[t], String(s.count), f(s.p50), f(s.p95), f(s.p99), f(s.max)];
      }),
      ...(hub && ws ? [ratio('hub ÷ plain ws', hub, ws)] : []),
      ...(bare && ws ? [ratio('bare DO ÷ plain ws', bare, ws)] : []),
      ...(hub && bare ? [ratio('hub ÷ bare DO', hub, bare)] : []),
      ...(byTarget.hubViaProxy && hub ? [ratio("hub via proxy ÷ hub", byTarget.hubViaProxy, hub)] : []),
    ];
  };
  const latency = grid(
    ['measured from', 'target', 'deliveries', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    [...rows('publish call', r.latency), ...rows('server ts', r.fanoutLatency)],
  );
  const bursts = grid(
    ['target', 'mode', 'msgs', 'msgs/frame', 'seconds', 'publishes/s', 'deliveries/s', 'p50 ms', 'p95 ms', 'p99 ms', 'lost', 'dup', 'out of order'],
    r.bursts.map((b) => [
      LABELS[b.target],
      b.mode,
      String(b.messages),
      f(b.messagesPerFrame),
      f(b.seconds, 2),
      f(b.publishesPerSecond, 0),
      f(b.deliveriesPerSecond, 0),
      f(b.latency.p50),
      f(b.latency.p95),
      f(b.latency.p99),
      String(b.lost),
      String(b.duplicates),
      String(b.outOfOrder),
    ]),
  );
  const rate = (target: TargetName, mode: 'frames' | 'batch') => r.bursts.find((b) => b.target === target && b.mode === mode)?.deliveriesPerSecond;
  const ratios = (['frames', 'batch'] as const)
    .map((mode) => {
      const [h, b, w] = [rate('hub', mode), rate('bare', mode), rate('ws', mode)];
      return h && b && w ? `${mode}: the hub delivers ${x(h / w)} of plain ws's rate and ${x(h / b)} of the bare Durable Object's (which delivers ${x(b / w)} of plain ws's)` : '';
    })
    .filter(Boolean)
    .join('\n');
  const o = r.options;
  const counts = (values: FanoutReport['connected']) => present.map((t) => `${LABELS[t]} ${values[t]}`).join(', ');
  return [
    `Fan-out: clients per target: ${counts(r.connected)}; ${r.frameBytes}-byte frames; ` +
      `Durable Object clients on ${r.path === 'direct' ? "each worker's own address" : "wrangler's proxy"}; ` +
      `publish path (hub RPC round trip, no fan-out) p50 ${f(r.publishFloorMs)} ms`,
    '',
    `Latency to receipt at each client (${o.broadcasts} broadcasts one at a time, ${o.rounds} interleaved rounds), ` +
      `from the publish call and from the server's own ts`,
    '',
    latency,
    '',
    `Throughput, ${o.burst}-message bursts to every client (${o.window} publish calls in flight; frames = one message per call, ` +
      `which the hub may merge; batch = ${o.batchSize} messages per call and frame); deliveries/s counts messages received`,
    '',
    bursts,
    '',
    ratios,
    `latency rounds: every message reached every client; duplicates or out of order: ${counts(r.latencyAnomalies)}`,
    `closed by the server during the run: ${counts(r.closedByServer)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await runFanoutBench(fanoutOptionsFromEnv());
  console.log(`\n${fanoutTable(report)}`);
}
