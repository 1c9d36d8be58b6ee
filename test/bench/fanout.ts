import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPlatformProxy } from 'wrangler';
import { WebSocket } from 'ws';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import type { PublishInput } from '../../durable-objects/protocol.ts';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME } from '../../durable-objects/protocol.ts';
import { startDevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { LOCAL_USERS } from '../stack/users.ts';
import { userWorkerOrigin } from './user-worker.ts';
import { startWsBaseline } from './ws-baseline.ts';
import type { BaselineMessage } from './ws-baseline.ts';

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
  target: string;
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

export interface FanoutReport {
  options: Omit<FanoutOptions, 'log'>;
  frameBytes: number;
  /** `direct`: the hub's clients reached the worker's own address; `proxy`: only wrangler's proxy was found. */
  hubPath: 'direct' | 'proxy';
  connected: { hub: number; ws: number; hubViaProxy: number };
  publishFloorMs: number;
  latency: { hub: Stats; ws: Stats; hubViaProxy: Stats | null };
  /** From the server's `ts` (when it stored or sent the message) to receipt: fan-out alone. */
  fanoutLatency: { hub: Stats; ws: Stats; hubViaProxy: Stats | null };
  bursts: BurstResult[];
  closedByServer: { hub: number; ws: number };
  /** Duplicates and out-of-order messages during the latency rounds (loss there fails the run). */
  latencyAnomalies: { hub: number; ws: number };
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
  const server = await startDevServer({ port: await freePort(), purpose: 'bench', log: (l) => log(`[stack] ${l}`) });
  own(() => server.close());

  const viewer = LOCAL_USERS.find((u) => u.role === 'viewer')!;
  const signIn = await fetch(`${server.url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: viewer.email, password: viewer.password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!signIn.ok) throw new Error(`sign-in answered ${signIn.status}: ${await signIn.text()}`);
  const { token } = (await signIn.json()) as { token: string };

  const config = path.join(path.dirname(process.env.WRANGLER_REGISTRY_PATH!), 'publisher.json');
  await writeFile(
    config,
    JSON.stringify({
      name: 'cc-bench-publisher',
      compatibility_date: '2026-10-19',
      durable_objects: { bindings: [{ name: 'DASHBOARD_HUB', class_name: 'DashboardHub', script_name: 'command-center' }] },
    }),
  );
  const proxy = await getPlatformProxy<{ DASHBOARD_HUB: DurableObjectNamespace<DashboardHub> }>({ configPath: config, persist: false, remoteBindings: false });
  own(() => proxy.dispose());

  const dashboard = `bench-${Date.now().toString(36)}`;
  const hub = proxy.env.DASHBOARD_HUB.get(proxy.env.DASHBOARD_HUB.idFromName(dashboard));
  await retry(() => hub.stats(), 40, 250);
  const direct = await userWorkerOrigin(process.env.WRANGLER_REGISTRY_PATH!, 'command-center');
  log(direct ? `fan-out: the worker itself answers at ${direct}` : "fan-out: the worker's own address was not found; measuring through wrangler's proxy");
  const viaProxyHub = proxy.env.DASHBOARD_HUB.get(proxy.env.DASHBOARD_HUB.idFromName(`${dashboard}-via-proxy`));

  const baseline = await startWsBaseline();
  own(() => baseline.close());

  const hubFleet = new Fleet('hub');
  const wsFleet = new Fleet('ws');
  const viaProxyFleet = new Fleet('hub via proxy');
  own(() => hubFleet.close());
  own(() => wsFleet.close());
  own(() => viaProxyFleet.close());
  const streamUrl = (origin: string, board: string) => `${origin.replace(/^http/, 'ws')}/v1/dashboard/stream?dashboard=${board}`;
  const headers = { authorization: `Bearer ${token}` };
  await hubFleet.connect(options.clients, () => new WebSocket(streamUrl(direct ?? server.url, dashboard), { headers, perMessageDeflate: false }), deadline);
  log(`fan-out: ${hubFleet.open} clients on hub ${dashboard}`);
  if (direct) {
    await viaProxyFleet.connect(
      options.clients,
      () => new WebSocket(streamUrl(server.url, `${dashboard}-via-proxy`), { headers, perMessageDeflate: false }),
      deadline,
    );
    log(`fan-out: ${viaProxyFleet.open} clients on a second hub through wrangler's proxy`);
  }
  await wsFleet.connect(options.clients, () => new WebSocket(baseline.url, { perMessageDeflate: false }), deadline);
  log(`fan-out: ${wsFleet.open} clients on the plain ws server`);

  const targets: Target[] = [
    {
      fleet: hubFleet,
      publish: async (messages) => {
        const r = await hub.publish(messages[0] as PublishInput);
        if (!r.ok) throw new Error(`hub refused: ${JSON.stringify(r)}`);
      },
      publishBatch: async (messages) => {
        const r = await hub.publishBatch(messages as PublishInput[]);
        if (!r.ok) throw new Error(`hub refused: ${JSON.stringify(r)}`);
      },
    },
    {
      fleet: wsFleet,
      publish: async (messages) => void (await baseline.publish(messages, false)),
      publishBatch: async (messages) => void (await baseline.publish(messages, true)),
    },
  ];
  // Latency rounds only: the throughput comparison is between the hub and the plain server.
  const viaProxy: Target = {
    fleet: viaProxyFleet,
    publish: async (messages) => {
      const r = await viaProxyHub.publish(messages[0] as PublishInput);
      if (!r.ok) throw new Error(`hub refused: ${JSON.stringify(r)}`);
    },
    publishBatch: async () => {
      throw new Error('not used');
    },
  };
  const latencyTargets = direct ? [...targets, viaProxy] : targets;

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

  const fleets = latencyTargets.map((t) => t.fleet);
  const latency = new Map<Fleet, number[]>(fleets.map((f) => [f, []]));
  const fanout = new Map<Fleet, number[]>(fleets.map((f) => [f, []]));
  const anomalies = new Map<Fleet, number>(fleets.map((f) => [f, 0]));
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
    hubPath: direct ? 'direct' : 'proxy',
    connected: { hub: hubFleet.open, ws: wsFleet.open, hubViaProxy: viaProxyFleet.open },
    publishFloorMs: stats(floor).p50,
    latency: { hub: stats(latency.get(hubFleet)!), ws: stats(latency.get(wsFleet)!), hubViaProxy: direct ? stats(latency.get(viaProxyFleet)!) : null },
    fanoutLatency: {
      hub: stats(fanout.get(hubFleet)!),
      ws: stats(fanout.get(wsFleet)!),
      hubViaProxy: direct ? stats(fanout.get(viaProxyFleet)!) : null,
    },
    bursts,
    closedByServer: { hub: hubFleet.closedByServer, ws: wsFleet.closedByServer },
    latencyAnomalies: { hub: anomalies.get(hubFleet)!, ws: anomalies.get(wsFleet)! },
  };
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
  readonly name: string;
  readonly clients: Client[] = [];
  closedByServer = 0;
  private phase: Phase | null = null;
  private phases = 0;
  private pinger: NodeJS.Timeout | undefined;

  constructor(name: string) {
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
        const client: Client = { ws: open(), next: 0, duplicates: 0, outOfOrder: 0, lastApplied: 0, ackTimer: null };
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
      }, ACK_INTERVAL_MS);
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

export function fanoutTable(r: FanoutReport): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const x = (n: number) => `${n.toFixed(2)}×`;
  const grid = (head: string[], rows: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  };
  const hubLabel = r.hubPath === 'direct' ? "hub (worker's own address)" : "hub (through wrangler's proxy)";
  const rows = (label: string, { hub, ws, hubViaProxy }: { hub: Stats; ws: Stats; hubViaProxy: Stats | null }) => [
    [label, 'plain ws', String(ws.count), f(ws.p50), f(ws.p95), f(ws.p99), f(ws.max)],
    ['', hubLabel, String(hub.count), f(hub.p50), f(hub.p95), f(hub.p99), f(hub.max)],
    ['', 'hub ÷ ws', '', x(hub.p50 / ws.p50), x(hub.p95 / ws.p95), x(hub.p99 / ws.p99), x(hub.max / ws.max)],
    ...(hubViaProxy
      ? [
          ['', "hub through wrangler's proxy", String(hubViaProxy.count), f(hubViaProxy.p50), f(hubViaProxy.p95), f(hubViaProxy.p99), f(hubViaProxy.max)],
          ['', 'that ÷ ws', '', x(hubViaProxy.p50 / ws.p50), x(hubViaProxy.p95 / ws.p95), x(hubViaProxy.p99 / ws.p99), x(hubViaProxy.max / ws.max)],
        ]
      : []),
  ];
  const latency = grid(
    ['measured from', 'target', 'deliveries', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    [...rows('publish call', r.latency), ...rows('server ts', r.fanoutLatency)],
  );
  const bursts = grid(
    ['target', 'mode', 'msgs', 'msgs/frame', 'seconds', 'publishes/s', 'deliveries/s', 'p50 ms', 'p95 ms', 'p99 ms', 'lost', 'dup', 'out of order'],
    r.bursts.map((b) => [
      b.target === 'ws' ? 'plain ws' : 'hub',
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
  const ratios = (['frames', 'batch'] as const)
    .map((mode) => {
      const h = r.bursts.find((b) => b.target === 'hub' && b.mode === mode);
      const w = r.bursts.find((b) => b.target === 'ws' && b.mode === mode);
      return h && w ? `${mode}: hub delivers ${x(h.deliveriesPerSecond / w.deliveriesPerSecond)} of plain ws's rate` : '';
    })
    .filter(Boolean)
    .join('; ');
  const o = r.options;
  return [
    `Fan-out: ${r.connected.hub} hub clients and ${r.connected.ws} plain ws clients` +
      (r.hubPath === 'direct' ? ` (and ${r.connected.hubViaProxy} on a second hub through wrangler's proxy, latency rounds only)` : '') +
      `, ${r.frameBytes}-byte frames; ` +
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
    `latency rounds: every message reached every client; duplicates or out of order: hub ${r.latencyAnomalies.hub}, plain ws ${r.latencyAnomalies.ws}`,
    `closed by the server during the run: hub ${r.closedByServer.hub}, plain ws ${r.closedByServer.ws}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await runFanoutBench(fanoutOptionsFromEnv());
  console.log(`\n${fanoutTable(report)}`);
}
