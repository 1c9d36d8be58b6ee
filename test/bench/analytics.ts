import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDevServer } from '../../scripts/dev-server.ts';
import { encodeCursor } from '../../worker/analytics/cursor.ts';
import type { CursorState } from '../../worker/analytics/cursor.ts';
import { freePort } from '../stack/postgres/index.ts';
import { load, table } from './load.ts';
import type { LoadResult } from './load.ts';
import { signIn } from './sign-in.ts';

/**
 * Support-call analytics at scale: the app under `wrangler dev` over a lakehouse of
 * LAKEHOUSE_INTERACTIONS contacts (default 1,000,000). For each route: p50/p95 on a cache miss and
 * on a hit, through the public path with a viewer's token, beside two baselines measured in the
 * same run: GET /livez (the bare route) and the very statements the route submitted on its miss,
 * run straight on the stand-in's engine (no HTTP, no polling, no JSON). Misses and the engine run
 * one at a time, so the ratio compares like with like; hits and /livez run with
 * BENCH_CONCURRENCY clients (4), as every other route in `npm run bench` is measured. Bounded:
 * BENCH_ANALYTICS_MISSES (40) and BENCH_ANALYTICS_HITS (200) requests per route.
 * BENCH_ANALYTICS_EXPLAIN=<file> writes every route's statements with the engine's plan for them.
 *
 * A miss is forced by asking each request about a window no earlier request asked about (the end
 * moves back a second per request), so every one costs what a first visit costs. Page 500's
 * position is found once by paging through the API; each miss then carries a cursor for that same
 * position in its own window, signed as the server signs it (the bench holds the stack's secret).
 *
 * Targets: a miss p95 within 1.3× (raw p95 + bare p95); a hit p95 within 1.5× the bare p95;
 * page 500 within 1.5× page 1; every hit p95 under 250 ms.
 */
export interface AnalyticsBenchOptions {
  interactions: number;
  misses: number;
  hits: number;
  /** Where to write each route's statements with the engine's plan for them (EXPLAIN ANALYZE), if anywhere. */
  explainTo?: string;
  /** Clients sending hits and the bare route at once, as the rest of `npm run bench` does (misses go one at a time, like the engine baseline). */
  concurrency: number;
  log?: (line: string) => void;
}

export function analyticsOptionsFromEnv(log?: (line: string) => void): AnalyticsBenchOptions {
  return {
    interactions: Number(process.env.LAKEHOUSE_INTERACTIONS ?? 1_000_000),
    misses: Number(process.env.BENCH_ANALYTICS_MISSES ?? 40),
    hits: Number(process.env.BENCH_ANALYTICS_HITS ?? 200),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
    ...(process.env.BENCH_ANALYTICS_EXPLAIN ? { explainTo: path.resolve(process.env.BENCH_ANALYTICS_EXPLAIN) } : {}),
    ...(log ? { log } : {}),
  };
}

const DAY = 86_400_000;
const PAGE_SIZE = 25;
const PAGE_DEEP = 500;
const HIT_P95_BAR_MS = 250;

interface RouteCase {
  name: string;
  /** The path of the i-th distinct question (i ≥ 1); i = 0 is the one repeated for hits. */
  path(i: number): string;
}

export interface AnalyticsBenchRow {
  route: string;
  miss: LoadResult;
  /** At BENCH_CONCURRENCY clients, as the other routes of the bench. */
  hit: LoadResult;
  /** One client: the route's own latency, for the 250 ms bar. */
  hitOne: LoadResult;
  raw: LoadResult;
  statements: number;
}

export async function runAnalyticsBench(options: AnalyticsBenchOptions): Promise<{ rows: AnalyticsBenchRow[]; bare: LoadResult; report: string }> {
  const log = options.log ?? (() => undefined);
  // The stack process reads the knob from its environment.
  process.env.LAKEHOUSE_INTERACTIONS = String(options.interactions);
  const started = performance.now();
  const server = await startDevServer({ port: await freePort(), purpose: 'bench', vars: { USER_RATE_LIMITS: 'off' }, log: (l) => log(`[stack] ${l}`) });
  log(`app and a lakehouse of ${options.interactions.toLocaleString('en-US')} interactions up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  try {
    const vars = server.stack.vars;
    const control = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${vars.STACK_CONTROL_URL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${vars.STACK_CONTROL_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const token = await signIn(server.url, 'viewer');
    const headers = { authorization: `Bearer ${token}` };
    const getJson = async <T>(path: string): Promise<{ status: number; body: T }> => {
      const res = await fetch(server.url + path, { headers, signal: AbortSignal.timeout(30_000) });
      return { status: res.status, body: (await res.json()) as T };
    };
    const send = (path: () => string) => async () => {
      const res = await fetch(server.url + path(), { headers, signal: AbortSignal.timeout(30_000) });
      const body = (await res.json()) as { meta?: { live_data_unavailable?: boolean } };
      return res.ok && body.meta?.live_data_unavailable !== true;
    };

    // The data's end, from the filter options (which the pages read first anyway).
    const options0 = await getJson<{ data: { date_bounds: { last_contact: string | null } } }>('/v1/filters/options');
    const last = options0.body.data.date_bounds.last_contact;
    if (!last) throw new Error('the lakehouse has no contacts');
    const dataEnd = Math.ceil(Date.parse(last) / 3_600_000) * 3_600_000;
    const window = (i: number, days: number) => {
      const end = dataEnd - i * 1000;
      return `start=${encodeURIComponent(new Date(end - days * DAY).toISOString())}&end=${encodeURIComponent(new Date(end).toISOString())}`;
    };

    // Page 500's windows are their own (ending DEEP seconds earlier): making a cursor asks for a first
    // page, which caches that window's count, as reaching page 500 by paging does. Page 1's misses
    // are first visits, count and all.
    const DEEP = 100_000;
    // Page 500 of the 30-day list, found by paging through the API once (100 rows a request).
    log('paging to page 500 once to find its position');
    let cursor: string | null = null;
    let depth = 0;
    const ids: string[] = [];
    while (depth < (PAGE_DEEP - 1) * PAGE_SIZE) {
      const next: string = cursor ? `&page[after]=${encodeURIComponent(cursor)}` : '';
      const page = await getJson<{ data: Array<{ interaction_id: string }>; links: { next: string | null } }>(`/v1/calls?${window(DEEP, 30)}&page[size]=100${next}`);
      if (page.status !== 200) throw new Error(`paging failed at depth ${depth}: ${page.status} ${JSON.stringify(page.body)}`);
      for (const row of page.body.data) ids.push(row.interaction_id);
      depth += page.body.data.length;
      const link = page.body.links.next;
      if (!link) throw new Error(`the 30-day window holds only ${depth} contacts; page ${PAGE_DEEP} needs ${(PAGE_DEEP - 1) * PAGE_SIZE}`);
      cursor = new URL(link, server.url).searchParams.get('page[after]');
    }
    const readState = (text: string): CursorState => JSON.parse(Buffer.from(text.split('.')[0]!, 'base64url').toString('utf8')) as CursorState;
    const deepAfter = readState(cursor!).after;
    /** A page-500 cursor for window i: that window's scope, the position found above. */
    const deepCursors = new Map<number, string>();
    const deepCursor = async (i: number): Promise<string> => {
      let made = deepCursors.get(i);
      if (!made) {
        const first = await getJson<{ links: { next: string | null } }>(`/v1/calls?${window(i, 30)}&page[size]=1`);
        const link = first.body.links.next;
        if (!link) throw new Error('no next link on a first page');
        const state = readState(new URL(link, server.url).searchParams.get('page[after]')!);
        made = await encodeCursor({ ...state, after: deepAfter }, vars.SESSION_SECRET);
        deepCursors.set(i, made);
      }
      return made;
    };

    const cases: RouteCase[] = [
      { name: 'calls, page 1', path: (i) => `/v1/calls?${window(i, 30)}&page[size]=${PAGE_SIZE}` },
      { name: `calls, page ${PAGE_DEEP} by cursor`, path: (i) => `/v1/calls?${window(DEEP + i, 30)}&page[size]=${PAGE_SIZE}&page[after]=${encodeURIComponent(deepCursors.get(DEEP + i)!)}` },
      { name: 'call detail', path: (i) => `/v1/calls/${ids[(i * 97) % ids.length]}` },
      { name: 'summary, 30 days', path: (i) => `/v1/analytics/summary?${window(i, 30)}` },
      { name: 'daily series, 90 days', path: (i) => `/v1/analytics/trends?${window(i, 90)}&granularity=day` },
      { name: 'breakdown by channel', path: (i) => `/v1/analytics/breakdowns?${window(i, 30)}&by=channel` },
      { name: 'agents leaderboard', path: (i) => `/v1/agents?${window(i, 30)}` },
    ];
    // Cursors are made before any timing starts.
    for (let i = 0; i <= options.misses + 1; i++) await deepCursor(DEEP + i);

    const rows: AnalyticsBenchRow[] = [];
    const explained: string[] = [];
    for (const route of cases) {
      // The question repeated for hits, asked once; then one more fresh question, whose statements
      // are the raw baseline (a fresh window misses on the list's count too, as every measured miss does).
      const warm = await getJson<unknown>(route.path(0));
      if (warm.status !== 200) throw new Error(`${route.name}: ${warm.status} ${JSON.stringify(warm.body).slice(0, 400)}`);
      const before = await control<{ last: number }>('/databricks/statements', { since: Number.MAX_SAFE_INTEGER });
      await getJson<unknown>(route.path(options.misses + 1));
      const submitted = await control<{ statements: Array<{ request: unknown }> }>('/databricks/statements', { since: before.last });
      const group = submitted.statements.map((s) => s.request);

      let i = 1;
      const miss = await load(`${route.name}: miss`, send(() => route.path(i++)), { requests: options.misses, concurrency: 1, warmup: 0 });
      const hit = await load(`${route.name}: hit, ${options.concurrency} clients`, send(() => route.path(0)), { requests: options.hits, concurrency: options.concurrency, warmup: 5 });
      const hitOne = await load(`${route.name}: hit, one client`, send(() => route.path(0)), { requests: options.hits, concurrency: 1, warmup: 0 });
      const timed = await control<{ latencies: number[] }>('/databricks/time', { statements: group, runs: options.misses });
      if (options.explainTo) {
        const { plans } = await control<{ plans: string[] }>('/databricks/explain', { statements: group });
        explained.push(`## ${route.name}\n\n${plans.map((plan, k) => `${(group[k] as { statement: string }).statement}\n\n${plan}`).join('\n\n')}\n`);
      }
      rows.push({ route: route.name, miss, hit, hitOne, raw: summarize(`${route.name}: raw on the engine`, timed.latencies), statements: group.length });
      log(`measured ${route.name} (${group.length} statement${group.length === 1 ? '' : 's'} on a miss)`);
    }
    const bare = await load('GET /livez (bare route)', async () => (await fetch(`${server.url}/livez`)).ok, { requests: options.hits, concurrency: options.concurrency, warmup: 20 });
    // The floor of any signed-in route (session and sign-out check), for reading the hits against.
    const me = await load('GET /v1/auth/me (signed-in floor)', async () => (await fetch(`${server.url}/v1/auth/me`, { headers })).ok, { requests: options.hits, concurrency: options.concurrency, warmup: 20 });
    const bareOne = await load('GET /livez, one client', async () => (await fetch(`${server.url}/livez`)).ok, { requests: options.hits, concurrency: 1, warmup: 10 });
    if (options.explainTo) {
      await mkdir(path.dirname(options.explainTo), { recursive: true });
      await writeFile(options.explainTo, explained.join('\n'));
      log(`the engine's plans (EXPLAIN ANALYZE) of every route's statements are in ${options.explainTo}`);
    }
    return { rows, bare, report: report(rows, bare, me, bareOne, options) };
  } finally {
    await server.close();
  }
}

function summarize(name: string, latencies: number[]): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const total = sorted.reduce((a, b) => a + b, 0);
  return { name, requests: sorted.length, errors: 0, p50: pct(50), p95: pct(95), p99: pct(99), rps: total > 0 ? (sorted.length * 1000) / total : 0 };
}

function report(rows: AnalyticsBenchRow[], bare: LoadResult, me: LoadResult, bareOne: LoadResult, options: AnalyticsBenchOptions): string {
  const lines: string[] = [];
  lines.push(
    `Analytics over ${options.interactions.toLocaleString('en-US')} interactions: per route ${options.misses} misses (one client) beside the same statements on the engine, ` +
      `${options.hits} hits (${options.concurrency} clients); baseline GET /livez at ${options.concurrency} clients, and at one client for the misses\n`,
  );
  lines.push(table([bare, me, bareOne, ...rows.flatMap((r) => [r.miss, r.raw, r.hit, r.hitOne])], bare));
  lines.push('');
  const head = ['route', 'statements', 'miss p95 / (raw + bare)', 'hit p95 / bare', 'hit p95 / bare, one client', 'hit p95 ms, one client', 'verdict'];
  const cells = rows.map((r) => {
    const missRatio = r.miss.p95 / (r.raw.p95 + bareOne.p95);
    const hitRatio = r.hit.p95 / bare.p95;
    const misses: string[] = [];
    if (missRatio > 1.3) misses.push('miss > 1.3×');
    if (hitRatio > 1.5) misses.push('hit > 1.5×');
    if (r.hitOne.p95 >= HIT_P95_BAR_MS) misses.push(`hit p95 ≥ ${HIT_P95_BAR_MS} ms`);
    if (r.miss.errors + r.hit.errors > 0) misses.push('errors');
    return [
      r.route,
      String(r.statements),
      `${missRatio.toFixed(2)}× (target ≤ 1.3×)`,
      `${hitRatio.toFixed(2)}× (target ≤ 1.5×)`,
      `${(r.hitOne.p95 / bareOne.p95).toFixed(2)}×`,
      r.hitOne.p95.toFixed(1),
      misses.length === 0 ? 'ok' : misses.join(', '),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ');
  lines.push([line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
  const first = rows.find((r) => r.route === 'calls, page 1');
  const deep = rows.find((r) => r.route.startsWith(`calls, page ${PAGE_DEEP}`));
  if (first && deep) {
    lines.push('');
    lines.push(`page ${PAGE_DEEP} / page 1, p95 on a miss: ${(deep.miss.p95 / first.miss.p95).toFixed(2)}×, on the engine: ${(deep.raw.p95 / first.raw.p95).toFixed(2)}× (target ≤ 1.5×)`);
  }
  return lines.join('\n');
}

// `node test/bench/analytics.ts` runs this bench alone, as `node test/bench/run.ts analytics` does.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runAnalyticsBench(analyticsOptionsFromEnv((line) => console.log(line)));
  console.log(`\n${result.report}`);
}
