import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import { loadConfig } from '../../worker/config/env.ts';
import { rootLogger } from '../../worker/lib/log.ts';
import { createServices } from '../../worker/services/index.ts';
import { CHILD_PAGE_ROWS, SIGNAL_PAGE_ROWS, hydrate, readMart } from '../../worker/signals/hydrate.ts';
import { checkedOwnership } from '../../worker/signals/ownership.ts';
import type { HydrationRun } from '../../worker/signals/schemas.ts';
import { martStatements } from '../stack/databricks/marts.ts';
import { load } from './load.ts';
import type { LoadResult } from './load.ts';
import { signIn } from './sign-in.ts';

/**
 * Signals: hydration of BENCH_SIGNALS signals (default 100,000) from a lakehouse stand-in whose
 * marts are built at that scale, first run and unchanged rerun, against the same rows written by
 * a raw multi-row INSERT through `pg` in the same run; the most heap each run keeps alive (sampled
 * after a forced collection every fifth batch, at most once a second in a timed run), at a tenth of
 * the scale and at full scale (flat: chunks are streamed, never collected); and the signals list's
 * p95 against GET /livez.
 *
 * The hydration works on a private database and lakehouse of its own (the stack's control
 * server), so the app's data is left alone.
 */
export interface SignalsBench {
  signals: number;
  rows: number;
  /** sampleSeconds: the part of `seconds` spent in the bench's own forced collections (heap samples). */
  first: { seconds: number; rowsPerSecond: number; run: HydrationRun; heapPeakMb: number; sampleSeconds: number };
  rerun: { seconds: number; rowsPerSecond: number; run: HydrationRun; heapPeakMb: number; sampleSeconds: number };
  small: { signals: number; heapPeakMb: number };
  raw: { seconds: number; rowsPerSecond: number };
  /** Reading the three marts as hydration reads them, doing nothing with the rows: the part of a run the stand-in sets. */
  readOnly: { seconds: number; rowsPerSecond: number };
  list: LoadResult;
  livez: LoadResult;
}

const BASE_SIGNALS_HINT = 214;
/**
 * The least time between heap samples in a timed run. A forced full collection stalls the run's
 * reads and writes for tens of milliseconds; one every fifth batch took about a quarter of a
 * 20,000-signal run (1.8 of 7.8 s), time the raw baseline never pays.
 */
const TIMED_SAMPLE_GAP_MS = 1_000;

async function controlJson<T>(vars: Record<string, string>, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${vars.STACK_CONTROL_URL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${vars.STACK_CONTROL_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  if (res.status !== 200 && res.status !== 204) throw new Error(`stack control ${path} answered ${res.status}: ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

// A full collection on demand, so the heap is measured as what the run keeps, not its garbage.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/**
 * Runs `work` with an onProgress that collects garbage and reads the heap, after every fifth batch
 * and at most once per `gapMs` (a forced full collection stalls the run, so a timed run is sampled
 * sparingly): answers the result, the most the run kept alive above the heap at its start, in MB,
 * and the milliseconds spent in those collections.
 */
async function withHeapPeak<T>(work: (onProgress: () => void) => Promise<T>, gapMs = 0): Promise<[T, number, number]> {
  collect();
  const start = process.memoryUsage().heapUsed;
  let peak = start;
  let calls = 0;
  let collecting = 0;
  let last = performance.now();
  const result = await work(() => {
    if (++calls % 5 !== 0 || performance.now() - last < gapMs) return;
    const t = performance.now();
    collect();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    last = performance.now();
    collecting += last - t;
  });
  return [result, (peak - start) / 1_048_576, collecting];
}

export async function benchSignals(
  url: string,
  vars: Record<string, string>,
  token: string,
  opts: { requests: number; concurrency: number; signals?: number; log?: (line: string) => void },
): Promise<SignalsBench> {
  const log = opts.log ?? (() => undefined);
  const target = opts.signals ?? Number(process.env.BENCH_SIGNALS ?? 100_000);
  const rules = checkedOwnership('version: 1\ndefault_owner: null\nrules: []\n');

  const [database, lakehouse] = await Promise.all([
    controlJson<{ id: string; vars: Record<string, string> }>(vars, '/postgres/databases'),
    // Chunks of 10,000 rows, nearer a warehouse's multi-megabyte chunks than the stand-in's default 1,000.
    controlJson<{ id: string; vars: Record<string, string> }>(vars, '/lakehouses', { chunkRows: 10_000 }),
  ]);
  const loaded = loadConfig({ ...vars, ...database.vars, ...lakehouse.vars });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const config = loaded.config;
  const services = createServices(config, undefined, rootLogger.child({ component: 'bench-signals' }));
  const raw = new pg.Client({ connectionString: config.DATABASE_URL });
  await raw.connect();
  const lakeSql = (sql: string) => controlJson(vars, `/lakehouses/${lakehouse.id}/sql`, { sql });
  const build = async (scale: number) => {
    for (const statement of martStatements({ scale })) await lakeSql(statement);
  };
  const run = (onProgress: () => void) =>
    hydrate({ postgres: services.postgres, databricks: services.databricks.client, catalog: config.DATABRICKS_CATALOG, rules, log: services.log }, { trigger: 'cli', onProgress });
  const martRows = async () =>
    (await services.databricks.client!.execute(
      `SELECT (SELECT COUNT(*) FROM workspace.support_marts.fct_signals) AS s, (SELECT COUNT(*) FROM workspace.support_marts.fct_contributions) AS c,
        (SELECT COUNT(*) FROM workspace.support_marts.fct_model_drivers) AS d`,
      {},
      { timeoutMs: 60_000 },
    )).rows[0] as { s: number; c: number; d: number };
  const purge = () => raw.query(`BEGIN; SET LOCAL cc.signal_purge = 'on'; DELETE FROM signals; DELETE FROM signal_hydration_runs; COMMIT`);

  try {
    // A tenth of the scale first: its heap peak is the yardstick for the full run's.
    const scale = Math.max(1, Math.round(target / BASE_SIGNALS_HINT));
    await build(Math.max(1, Math.round(scale / 10)));
    const smallCounts = await martRows();
    const [, smallPeak] = await withHeapPeak((p) => run(p));
    await purge();
    log(`signals bench: small run of ${smallCounts.s} signals done`);

    await build(scale);
    const counts = await martRows();
    const rows = Number(counts.s) + Number(counts.c) + Number(counts.d);
    log(`signals bench: marts at scale ${scale}: ${counts.s} signals, ${counts.c} contributions, ${counts.d} drivers`);

    let t = performance.now();
    const [first, firstPeak, firstGcMs] = await withHeapPeak((p) => run(p), TIMED_SAMPLE_GAP_MS);
    const firstSeconds = (performance.now() - t) / 1000;
    log(`signals bench: first hydration ${firstSeconds.toFixed(1)} s (${(firstGcMs / 1000).toFixed(1)} s of it in the bench's heap samples)`);
    t = performance.now();
    const [rerun, rerunPeak, rerunGcMs] = await withHeapPeak((p) => run(p), TIMED_SAMPLE_GAP_MS);
    const rerunSeconds = (performance.now() - t) / 1000;
    log(`signals bench: unchanged rerun ${rerunSeconds.toFixed(1)} s (${(rerunGcMs / 1000).toFixed(1)} s of it in the bench's heap samples)`);

    // Where a run's time goes: the marts read as hydration reads them (same keyset pages, same
    // chunks), every row dropped.
    t = performance.now();
    let readRows = 0;
    const drop = { onRows: async (r: unknown[]) => void (readRows += r.length) };
    const client = services.databricks.client!;
    await readMart(client, 'workspace.support_marts.fct_signals', '*', ['signal_id'], SIGNAL_PAGE_ROWS, drop);
    await readMart(client, 'workspace.support_marts.fct_contributions', 'signal_id, dimension, dimension_value, contribution, contribution_rank',
      ['signal_id', 'dimension', 'dimension_value'], CHILD_PAGE_ROWS, drop);
    await readMart(client, 'workspace.support_marts.fct_model_drivers', 'signal_id, feature, feature_value, shap_value, driver_rank', ['signal_id', 'feature'], CHILD_PAGE_ROWS, drop);
    const readSeconds = (performance.now() - t) / 1000;
    log(`signals bench: reading the marts alone ${readSeconds.toFixed(1)} s (${readRows} rows)`);

    // The baseline: the same rows, read back from the hydrated tables, written by plain
    // multi-row INSERTs of 1,000 rows through pg into tables shaped like the real ones.
    // Same columns, checks, indexes and foreign keys as the real tables, so both pay the same upkeep.
    await raw.query(`CREATE TABLE bench_raw_signals (LIKE signals INCLUDING ALL);
      CREATE TABLE bench_raw_contributions (LIKE signal_contributions INCLUDING ALL, FOREIGN KEY (signal_id) REFERENCES bench_raw_signals (id));
      CREATE TABLE bench_raw_drivers (LIKE signal_drivers INCLUDING ALL, FOREIGN KEY (signal_id) REFERENCES bench_raw_signals (id))`);
    const sources: Array<[string, string, string[]]> = [
      ['signals', 'bench_raw_signals', ['id', 'signal_type', 'metric_name', 'entity_type', 'entity_id', 'entity_label', 'window_start', 'window_end', 'observed_value',
        'expected_value', 'baseline_stddev', 'z_score', 'direction', 'severity', 'confidence', 'narrative', 'model_run_id', 'detected_at', 'mart_updated_at']],
      ['signal_contributions', 'bench_raw_contributions', ['signal_id', 'dimension', 'dimension_value', 'contribution', 'rank']],
      ['signal_drivers', 'bench_raw_drivers', ['signal_id', 'feature', 'feature_value', 'shap_value', 'rank']],
    ];
    const batches: Array<{ text: string; values: unknown[] }> = [];
    for (const [from, to, columns] of sources) {
      const { rows: all } = await raw.query({ text: `SELECT ${columns.join(', ')} FROM ${from}`, rowMode: 'array' });
      for (let i = 0; i < all.length; i += 1_000) {
        const slice = all.slice(i, i + 1_000) as unknown[][];
        const values = slice.flat();
        const tuples = slice.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
        batches.push({ text: `INSERT INTO ${to} (${columns.join(', ')}) VALUES ${tuples}`, values });
      }
    }
    t = performance.now();
    for (const batch of batches) await raw.query(batch.text, batch.values);
    const rawSeconds = (performance.now() - t) / 1000;
    batches.length = 0;
    log(`signals bench: raw insert ${rawSeconds.toFixed(1)} s`);

    // The list, on the app's own database (hydrated on first use by the warm-up).
    const headers = { authorization: `Bearer ${token}` };
    const get = (path: string) => async () => {
      const res = await fetch(url + path, { headers, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return res.ok;
    };
    const loadOpts = { requests: opts.requests, concurrency: opts.concurrency, warmup: 100 };
    const livez = await load('GET /livez', get('/livez'), loadOpts);
    const list = await load('GET /v1/signals?page[size]=50', get('/v1/signals?page[size]=50'), loadOpts);

    return {
      signals: Number(counts.s),
      rows,
      first: { seconds: firstSeconds, rowsPerSecond: rows / firstSeconds, run: first!, heapPeakMb: firstPeak, sampleSeconds: firstGcMs / 1000 },
      rerun: { seconds: rerunSeconds, rowsPerSecond: rows / rerunSeconds, run: rerun!, heapPeakMb: rerunPeak, sampleSeconds: rerunGcMs / 1000 },
      small: { signals: Number(smallCounts.s), heapPeakMb: smallPeak },
      raw: { seconds: rawSeconds, rowsPerSecond: rows / rawSeconds },
      readOnly: { seconds: readSeconds, rowsPerSecond: rows / readSeconds },
      list,
      livez,
    };
  } finally {
    await raw.end();
    await services.close();
    await controlJson(vars, `/lakehouses/${lakehouse.id}/close`).catch(() => undefined);
    await controlJson(vars, `/postgres/databases/${database.id}/drop`).catch(() => undefined);
  }
}

export function signalsReport(b: SignalsBench): string {
  const ratio = (x: number) => `${(x / b.raw.rowsPerSecond).toFixed(2)}×`;
  return [
    `Signals hydration: ${b.signals.toLocaleString('en-US')} signals, ${b.rows.toLocaleString('en-US')} rows with contributions and drivers`,
    `  first run        ${b.first.seconds.toFixed(1)} s  ${b.first.rowsPerSecond.toFixed(0)} rows/s  ${ratio(b.first.rowsPerSecond)} raw (inserted ${b.first.run.inserted})  heap kept ≤ ${b.first.heapPeakMb.toFixed(1)} MB (sampling ${b.first.sampleSeconds.toFixed(1)} s)`,
    `  unchanged rerun  ${b.rerun.seconds.toFixed(1)} s  ${b.rerun.rowsPerSecond.toFixed(0)} rows/s  ${ratio(b.rerun.rowsPerSecond)} raw (unchanged ${b.rerun.run.unchanged})  heap kept ≤ ${b.rerun.heapPeakMb.toFixed(1)} MB (sampling ${b.rerun.sampleSeconds.toFixed(1)} s)`,
    `  raw pg INSERT    ${b.raw.seconds.toFixed(1)} s  ${b.raw.rowsPerSecond.toFixed(0)} rows/s (multi-row VALUES, 1,000 rows per statement, same indexes and keys; writes only)`,
    `  marts read only  ${b.readOnly.seconds.toFixed(1)} s  ${b.readOnly.rowsPerSecond.toFixed(0)} rows/s  ${ratio(b.readOnly.rowsPerSecond)} raw (the Statement API stand-in's part: same pages and chunks, rows dropped)`,
    `  heap kept at ${b.small.signals.toLocaleString('en-US')} signals: ≤ ${b.small.heapPeakMb.toFixed(1)} MB (flat: the full run keeps about as much, not 10×; target ratio ≥ 0.5× raw)`,
    `Signals list p95 ${b.list.p95.toFixed(2)} ms vs GET /livez p95 ${b.livez.p95.toFixed(2)} ms: ${(b.list.p95 / b.livez.p95).toFixed(2)}× (target ≤ 1.5×), errors ${b.list.errors}`,
  ].join('\n');
}

if (import.meta.main) {
  // Only this bench: `node test/bench/signals.ts` (the app under wrangler dev, as npm run bench runs it).
  const { startDevServer } = await import('../../scripts/dev-server.ts');
  const { freePort } = await import('../stack/postgres/index.ts');
  const server = await startDevServer({ port: await freePort(), purpose: 'bench', vars: { USER_RATE_LIMITS: 'off' }, log: (l) => console.log(`[stack] ${l}`) });
  try {
    const token = await signIn(server.url, 'viewer');
    const report = await benchSignals(server.url, server.stack.vars, token, {
      requests: Number(process.env.BENCH_REQUESTS ?? 600),
      concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
      log: (l) => console.log(l),
    });
    console.log(`\n${signalsReport(report)}`);
  } finally {
    await server.close();
  }
}
