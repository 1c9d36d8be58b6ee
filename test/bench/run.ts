import { startDevServer } from '../../scripts/dev-server.ts';
import { load, table } from './load.ts';
import { benchIngest } from './ingest.ts';
import { benchWidgetData } from './widget-data.ts';
import { benchSignals, signalsReport } from './signals.ts';
import type { LoadResult } from './load.ts';
import { analyticsOptionsFromEnv, runAnalyticsBench } from './analytics.ts';
import { signIn } from './sign-in.ts';

// `node test/bench/run.ts analytics` runs the analytics bench alone (BENCH_ANALYTICS=0 skips it in a full run).
const benchAnalytics = async () => console.log(`\n${(await runAnalyticsBench(analyticsOptionsFromEnv((line) => console.log(line)))).report}`);
if (process.argv[2] === 'analytics') {
  await benchAnalytics();
  process.exit(0);
}

/**
 * `npm run bench`: the app under `wrangler dev` on 127.0.0.1, each route measured in the same
 * run as the bare baseline route (/livez), so ratios compare like with like. Bounded by count.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 600);
// wrangler dev serialises requests through its proxy; more concurrency only queues.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

// One user drives each route far past its per-user budget: the benchmark measures the routes.
// Ingest runs on hubs of its own (Durable Object state persists between runs), configured as dashboards.
const INGEST_SIZES = process.env.BENCH_INGEST_BATCH_SIZE ? [Number(process.env.BENCH_INGEST_BATCH_SIZE)] : [100, 500];
const ingestBoard = (size: number) => `bench-ingest-${size}-${Date.now().toString(36)}`;
const ingestBoards = new Map(INGEST_SIZES.map((size) => [size, ingestBoard(size)]));
// The address a user meets (`npm run dev` serves it too, so stop that first); BENCH_PORT moves it.
const server = await startDevServer({
  port: Number(process.env.BENCH_PORT ?? 8787),
  purpose: 'bench',
  vars: { USER_RATE_LIMITS: 'off', DASHBOARDS: ['default', ...ingestBoards.values()].join(',') },
  log: (l) => console.log(`[stack] ${l}`),
});
try {
  const token = await signIn(server.url, 'viewer');
  const headers = { authorization: `Bearer ${token}` };
  const get = (path: string) => async () => {
    const res = await fetch(server.url + path, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.ok;
  };
  const opts = { requests: REQUESTS, concurrency: CONCURRENCY, warmup: 100 };
  const results: LoadResult[] = [];
  for (const path of ['/livez', '/health', '/v1/auth/me', '/v1/metrics']) {
    results.push(await load(`GET ${path}`, get(path), opts));
    console.log(`measured GET ${path}`);
  }
  const baseline = results[0]!;
  console.log(`\nHTTP routes (${REQUESTS} requests each, concurrency ${CONCURRENCY}, baseline GET /livez)\n`);
  console.log(table(results, baseline));

  const editorToken = await signIn(server.url, 'editor');
  const data = await benchWidgetData(server.url, server.stack.vars, editorToken, { requests: REQUESTS, concurrency: CONCURRENCY });
  console.log(`\nWidget data (cache hit vs GET /livez; Postgres miss vs the same SQL from a worker that only runs it)\n`);
  console.log(table([baseline, ...data], baseline));
  const [hit, pgMiss, rawBare, raw, rawHttp, dbxMiss] = data as [LoadResult, LoadResult, LoadResult, LoadResult, LoadResult, LoadResult];
  console.log(`\ncache hit p95 / bare route p95:       ${(hit.p95 / baseline.p95).toFixed(2)}× (target ≤ 1.5×)`);
  console.log(`Postgres miss p95 / raw query p95:    ${(pgMiss.p95 / raw.p95).toFixed(2)}× on a pool, ${(pgMiss.p95 / rawHttp.p95).toFixed(2)}× over HTTP (target ≤ 2×; the raw worker's own floor p95 ${rawBare.p95.toFixed(1)} ms)`);
  console.log(`Databricks miss p95:                  ${dbxMiss.p95.toFixed(1)} ms (target < 300 ms)`);

  // Signals: hydration at BENCH_SIGNALS (100,000) against a raw pg insert, and the list against /livez.
  console.log(`\n${signalsReport(await benchSignals(server.url, server.stack.vars, token, { requests: REQUESTS, concurrency: CONCURRENCY }))}`);

  // Sustained ingest with a loss check, at the batch size a busy integration sends and at the cap.
  for (const batchSize of INGEST_SIZES) {
    const ingest = await benchIngest(server.url, editorToken, ingestBoards.get(batchSize)!, { batches: Number(process.env.BENCH_INGEST_BATCHES ?? 10), batchSize });
    console.log(
      `\nIngest, batches of ${batchSize}: ${ingest.events} events in ${ingest.seconds.toFixed(2)} s = ${ingest.eventsPerSecond.toFixed(0)} events/s; ` +
        `subscriber received ${ingest.received}, lost ${ingest.lost}, out of order ${ingest.outOfOrder}`,
    );
  }

  // 100 incidents at once against one alone, every client receiving every message (BENCH_INCIDENTS=0 skips it).
  if (process.env.BENCH_INCIDENTS !== '0') {
    const { benchIncidents, incidentTable } = await import('./incidents.ts');
    const incidents = await benchIncidents(server.url, editorToken, token, {
      count: Number(process.env.BENCH_INCIDENTS ?? 100),
      clients: 3,
      scale: 1,
      databaseUrl: server.stack.vars.DATABASE_URL!,
    });
    console.log(`\n${incidentTable(incidents)}`);
  }
} finally {
  await server.close();
}

// Fan-out to WebSocket clients on one hub against a plain `ws` server (issue 6). It runs its own
// `wrangler dev` once the HTTP one has stopped: the hub is driven through a private dev registry,
// which has to be in place before wrangler starts. BENCH_WS=0 skips it.
if (process.env.BENCH_WS !== '0') {
  const { fanoutOptionsFromEnv, fanoutTable, runFanoutBench } = await import('./fanout.ts');
  const report = await runFanoutBench(fanoutOptionsFromEnv((line) => console.log(line)));
  console.log(`\n${fanoutTable(report)}`);
}

// Analytics over a lakehouse of a million contacts, on a stack of its own.
if (process.env.BENCH_ANALYTICS !== '0') await benchAnalytics();

// Live at scale: viewers on the public address while events are posted, against a plain `ws`
// server, per sockets-per-edge setting; and queued ingest end to end. BENCH_SCALE=0 skips it;
// `npm run bench:scale` runs it alone.
if (process.env.BENCH_SCALE !== '0') {
  const { runScaleBench, scaleOptionsFromEnv, scaleTable } = await import('./scale.ts');
  console.log(scaleTable(await runScaleBench(scaleOptionsFromEnv((line) => console.log(line)))));
}
