import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type WebSocket from 'ws';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME } from '../../durable-objects/protocol.ts';
import { signIn } from './sign-in.ts';

const { WebSocket: WS } = createRequire(import.meta.url)('ws') as typeof import('ws');

/**
 * Incidents at once (issue: "tested up to 100 simultaneous incidents"): one Database Cascade
 * alone, then `count` started together, under `wrangler dev` at one time scale. Every client on
 * the dashboard must receive every incident's messages, complete and in the order they were
 * stored; the wall time of the crowd is compared with the one alone, and each step's
 * orchestration overhead (its duration beyond the scripted work) is reported.
 */
export interface IncidentBenchOptions {
  count: number;
  clients: number;
  /** The INCIDENT_TIME_SCALE the server runs with. */
  scale: number;
  databaseUrl: string;
  log?: (line: string) => void;
}

export interface IncidentBenchReport {
  scale: number;
  count: number;
  clients: number;
  aloneSeconds: number;
  crowdSeconds: number;
  ratio: number;
  completed: number;
  failed: number;
  messagesPerIncident: number;
  /** Over every client × incident: a message stored and not received, or received out of stored order. */
  missing: number;
  outOfOrder: number;
  duplicates: number;
  overheadAlone: { p50: number; p95: number; steps: number };
  overheadCrowd: { p50: number; p95: number; steps: number };
  /** Where the crowd's extra time goes, per incident (ms, p50/p95): stored → detection started (start and injection), and the time outside timed steps. */
  crowdPhases: { toEffects: { p50: number; p95: number }; toDetection: { p50: number; p95: number }; untimed: { p50: number; p95: number }; startsSpreadMs: number; between: { p50: number; p95: number } };
}

// Database Cascade's scripted seconds per timed action (config/incident_scenarios.yaml).
const SCRIPTED: Record<string, number> = {
  detection: 2.1,
  diagnosis: 3.3,
  prediction: 2.6,
  'remediation.1': 1.2,
  'remediation.2': 0.8,
  'remediation.3': 1.5,
  'remediation.4': 2.1,
  'remediation.5': 1.0,
  communication: 0.4,
};

type Frame = { type: string; seq: number; data?: Record<string, unknown>; messages?: Frame[] };

interface Client {
  /** Per incident: message names in the order received. */
  byIncident: Map<string, string[]>;
  ws: WebSocket;
  closing: boolean;
  stop(): void;
}

function nameOf(m: Frame): { incident: string; name: string } | null {
  if (m.type === 'agent_action') {
    const a = m.data!.action as { action_id: string; status: string; attempt: number };
    return { incident: String(m.data!.incident_id), name: `${a.action_id}:${a.status}:${a.attempt}` };
  }
  if (m.type === 'incident_status') return { incident: String(m.data!.incident_id), name: `status:${String(m.data!.status)}` };
  return null;
}

async function connect(url: string, token: string): Promise<Client> {
  const ws: WebSocket = new WS(`${url.replace('http', 'ws')}/v1/dashboard/stream`, { headers: { authorization: `Bearer ${token}` } });
  const client: Client = { byIncident: new Map(), ws, closing: false, stop: () => ws.close() };
  let last = 0;
  ws.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as Frame;
    const messages = frame.type === 'batch' ? (frame.messages ?? []) : [frame];
    for (const m of messages) {
      if (m.type === 'hello' || m.seq <= last) continue;
      last = m.seq;
      const named = nameOf(m);
      if (!named) continue;
      const list = client.byIncident.get(named.incident) ?? [];
      list.push(named.name);
      client.byIncident.set(named.incident, list);
    }
  });
  ws.on('close', (code, reason) => {
    if (!client.closing) throw new Error(`the hub closed a bench client: ${code} ${String(reason)}`);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // As the protocol asks: acknowledge what was applied at most every ACK_INTERVAL_MS, and ping.
  let acked = 0;
  const timer = setInterval(() => {
    if (last > acked && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', seq: (acked = last) }));
  }, ACK_INTERVAL_MS);
  const pinger = setInterval(() => ws.readyState === ws.OPEN && ws.send(PING_FRAME), HEARTBEAT_INTERVAL_MS);
  client.stop = () => {
    client.closing = true;
    clearInterval(timer);
    clearInterval(pinger);
    ws.close();
  };
  return client;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchIncidents(url: string, editorToken: string, viewerToken: string, options: IncidentBenchOptions): Promise<IncidentBenchReport> {
  const log = options.log ?? (() => undefined);
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  const clients = await Promise.all(Array.from({ length: options.clients }, () => connect(url, viewerToken)));
  try {
    const start = async () => {
      const res = await fetch(`${url}/v1/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scenario: 'database_cascade' }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (res.status !== 202) throw new Error(`start answered ${res.status}: ${text}`);
      return (JSON.parse(text) as { incident_id: string }).incident_id;
    };
    /** Until every client has the final status of every incident (bounded). */
    const allEnded = async (ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      const done = () => clients.every((c) => ids.every((id) => (c.byIncident.get(id) ?? []).some((n) => n === 'status:resolved' || n === 'status:failed')));
      while (!done()) {
        if (Date.now() > deadline) throw new Error('incidents did not all end in time');
        await new Promise((r) => setTimeout(r, 25));
      }
      return performance.now();
    };
    const budget = (120 + 40 / options.scale) * 1_000;

    // The first instance pays for starting the engine; the one measured alone should not.
    log(`incidents  warm-up`);
    const warm = await start();
    await allEnded([warm], budget);

    log(`incidents  one Database Cascade alone at time scale ${options.scale}`);
    let t0 = performance.now();
    const alone = await start();
    const aloneSeconds = ((await allEnded([alone], budget)) - t0) / 1_000;

    log(`incidents  ${options.count} at once`);
    t0 = performance.now();
    const crowd = await Promise.all(Array.from({ length: options.count }, start));
    const crowdSeconds = ((await allEnded(crowd, budget * 3)) - t0) / 1_000;

    // What each incident stored, in stored order, against what each client received.
    const stored = await db.query<{ incident_id: string; type: string; data: Record<string, unknown> }>(
      `SELECT incident_id::text, type, data FROM incident_messages WHERE incident_id = ANY($1::uuid[]) AND type <> 'performance_metrics' ORDER BY outbox_seq`,
      [[alone, ...crowd]],
    );
    const expected = new Map<string, string[]>();
    for (const row of stored.rows) {
      const named = nameOf({ type: row.type, seq: 0, data: row.data });
      if (!named) continue;
      expected.set(named.incident, [...(expected.get(named.incident) ?? []), named.name]);
    }
    let missing = 0;
    let outOfOrder = 0;
    let duplicates = 0;
    for (const c of clients) {
      for (const id of [alone, ...crowd]) {
        const want = expected.get(id) ?? [];
        const got = c.byIncident.get(id) ?? [];
        duplicates += got.length - new Set(got).size;
        missing += want.filter((n) => !got.includes(n)).length;
        const positions = got.map((n) => want.indexOf(n)).filter((i) => i >= 0);
        for (let i = 1; i < positions.length; i++) if (positions[i]! < positions[i - 1]!) outOfOrder++;
      }
    }
    const statuses = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM incidents WHERE incident_id = ANY($1::uuid[]) GROUP BY status', [crowd]);
    const count = (s: string) => statuses.rows.find((r) => r.status === s)?.n ?? 0;
    const overhead = async (ids: string[]) => {
      const rows = await db.query<{ action_id: string; duration_ms: number }>(
        'SELECT action_id, duration_ms FROM incident_actions WHERE incident_id = ANY($1::uuid[]) AND action_id = ANY($2::text[]) AND duration_ms IS NOT NULL',
        [ids, Object.keys(SCRIPTED)],
      );
      const values = rows.rows.map((r) => Number(r.duration_ms) - SCRIPTED[r.action_id]! * 1_000 * options.scale).sort((a, b) => a - b);
      return { p50: percentile(values, 50), p95: percentile(values, 95), steps: values.length };
    };
    const phases = await db.query<{ to_effects: number; to_detection: number; untimed: number; created_ms: number }>(
      `SELECT extract(epoch FROM i.effects_from - i.created_at) * 1000 AS to_effects,
              extract(epoch FROM d.started_at - i.created_at) * 1000 AS to_detection,
              extract(epoch FROM i.ended_at - i.created_at) * 1000 - (SELECT sum(duration_ms) FROM incident_actions t WHERE t.incident_id = i.incident_id AND t.action_id = ANY($2::text[])) AS untimed,
              extract(epoch FROM i.created_at) * 1000 AS created_ms
         FROM incidents i JOIN incident_actions d ON d.incident_id = i.incident_id AND d.action_id = 'detection'
        WHERE i.incident_id = ANY($1::uuid[])`,
      [crowd, Object.keys(SCRIPTED)],
    );
    const spread = (values: number[]) => {
      const sorted = values.map(Number).sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
    };
    const created = phases.rows.map((r) => Number(r.created_ms));
    // From one timed step's end to the next one's start: the engine moving on, nothing scripted.
    const gaps = await db.query<{ gap: number }>(
      `SELECT extract(epoch FROM b.started_at - a.ended_at) * 1000 AS gap
         FROM incident_actions a JOIN incident_actions b ON b.incident_id = a.incident_id
          AND (a.action_id, b.action_id) IN (('detection', 'diagnosis'), ('diagnosis', 'prediction'), ('remediation.1', 'remediation.2'),
                                             ('remediation.2', 'remediation.3'), ('remediation.3', 'remediation.4'), ('remediation.4', 'remediation.5'))
        WHERE a.incident_id = ANY($1::uuid[])`,
      [crowd],
    );
    return {
      crowdPhases: {
        toEffects: spread(phases.rows.map((r) => r.to_effects)),
        toDetection: spread(phases.rows.map((r) => r.to_detection)),
        untimed: spread(phases.rows.map((r) => r.untimed)),
        between: spread(gaps.rows.map((r) => r.gap)),
        startsSpreadMs: created.length ? Math.max(...created) - Math.min(...created) : 0,
      },
      scale: options.scale,
      count: options.count,
      clients: options.clients,
      aloneSeconds,
      crowdSeconds,
      ratio: crowdSeconds / aloneSeconds,
      completed: count('resolved'),
      failed: options.count - count('resolved'),
      messagesPerIncident: (expected.get(alone) ?? []).length,
      missing,
      outOfOrder,
      duplicates,
      overheadAlone: await overhead([alone]),
      overheadCrowd: await overhead(crowd),
    };
  } finally {
    for (const c of clients) c.stop();
    await db.end();
  }
}

export function incidentTable(r: IncidentBenchReport): string {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    `Incidents (Database Cascade, time scale ${r.scale}, ${r.clients} clients on the dashboard)`,
    `  one alone:              ${r.aloneSeconds.toFixed(2)} s, ${r.messagesPerIncident} messages`,
    `  ${r.count} at once:            ${r.crowdSeconds.toFixed(2)} s = ${r.ratio.toFixed(2)}× one alone (target ≤ 1.25×)`,
    `  completed:              ${r.completed}/${r.count} resolved, ${r.failed} not`,
    `  every client, every incident: missing ${r.missing}, out of order ${r.outOfOrder}, duplicated ${r.duplicates}`,
    `  overhead per step (duration beyond the scripted work): alone p50 ${ms(r.overheadAlone.p50)} p95 ${ms(r.overheadAlone.p95)}; ` +
      `${r.count} at once p50 ${ms(r.overheadCrowd.p50)} p95 ${ms(r.overheadCrowd.p95)} (${r.overheadCrowd.steps} steps)`,
    `  ${r.count} at once, per incident: stored → effects injected p50 ${ms(r.crowdPhases.toEffects.p50)} p95 ${ms(r.crowdPhases.toEffects.p95)}; stored → detection started p50 ${ms(r.crowdPhases.toDetection.p50)} p95 ${ms(r.crowdPhases.toDetection.p95)}; ` +
      `outside the timed steps (stored → ended, less their durations) p50 ${ms(r.crowdPhases.untimed.p50)} p95 ${ms(r.crowdPhases.untimed.p95)}; ` +
      `first to last stored ${ms(r.crowdPhases.startsSpreadMs)}; from a timed step's end to the next one's start p50 ${ms(r.crowdPhases.between.p50)} p95 ${ms(r.crowdPhases.between.p95)}`,
  ].join('\n');
}

/** `node test/bench/incidents.ts`: this benchmark alone, on a dev server of its own. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startDevServer } = await import('../../scripts/dev-server.ts');
  const { freePort } = await import('../stack/postgres/index.ts');
  const scale = Number(process.env.BENCH_INCIDENT_SCALE ?? 1);
  const server = await startDevServer({
    port: await freePort(),
    purpose: 'bench',
    vars: { USER_RATE_LIMITS: 'off', INCIDENT_TIME_SCALE: String(scale) },
    log: (l) => console.log(`[stack] ${l}`),
  });
  try {
    const report = await benchIncidents(server.url, await signIn(server.url, 'editor'), await signIn(server.url, 'viewer'), {
      count: Number(process.env.BENCH_INCIDENTS ?? 100),
      clients: Number(process.env.BENCH_INCIDENT_CLIENTS ?? 3),
      scale,
      databaseUrl: server.stack.vars.DATABASE_URL!,
      log: (l) => console.log(l),
    });
    console.log(`\n${incidentTable(report)}`);
  } finally {
    await server.close();
  }
}
