import { startBenchWorker } from './bench-worker.ts';
import { load } from './load.ts';
import type { LoadResult } from './load.ts';

/**
 * Widget data against its baselines: a cache hit against the bare route, a Postgres-routed miss
 * against the same SQL run by a worker that does only that (test/bench/raw-query-worker.ts), and
 * a Databricks-routed miss through the stand-in.
 * Misses are forced by giving each widget a window no other widget asks about.
 */
export async function benchWidgetData(
  url: string,
  vars: Record<string, string>,
  token: string,
  opts: { requests: number; concurrency: number },
): Promise<LoadResult[]> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const base = Date.UTC(2026, 9, 1);
  let n = 0;
  const createWidget = async (metric: string, window?: { start: string; end: string }) => {
    const res = await fetch(`${url}/v1/widgets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: `bench ${metric}`, metric, visualization: 'table', time_window: window ?? { preset: '30d' } }),
    });
    if (res.status !== 201) throw new Error(`widget create failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const uniqueWindow = () => {
    const end = base - ++n * 60_000;
    return { start: new Date(end - 7 * 86_400_000).toISOString(), end: new Date(end).toISOString() };
  };
  const data = (id: string) => async () => {
    const res = await fetch(`${url}/v1/widgets/${id}/data`, { method: 'POST', headers, signal: AbortSignal.timeout(15_000) });
    const body = (await res.json()) as { live_data_unavailable?: boolean };
    return res.ok && !body.live_data_unavailable;
  };

  const results: LoadResult[] = [];
  const hitWidget = await createWidget('claims_by_product');
  results.push(await load('widget data, cache hit', data(hitWidget), { ...opts, warmup: 20 }));

  const missCount = Math.min(opts.requests, 200);
  const createMany = async (metric: string) => {
    const ids: string[] = [];
    for (let i = 0; i < missCount; i++) ids.push(await createWidget(metric, uniqueWindow()));
    return ids;
  };
  const pgWidgets = await createMany('nps_impact');
  let i = 0;
  results.push(await load('widget data, Postgres miss', () => data(pgWidgets[i++ % pgWidgets.length]!)(), { requests: missCount, concurrency: opts.concurrency, warmup: 0 }));

  // The same statement from a worker that does nothing else, under its own wrangler dev.
  const raw = await startBenchWorker('raw-query', { DATABASE_URL: vars.DATABASE_URL!, NEON_WS_PROXY: vars.NEON_WS_PROXY!, NEON_HTTP_ENDPOINT: vars.NEON_HTTP_ENDPOINT! });
  try {
    results.push(await load('bare worker (raw-query process)', async () => (await fetch(`${raw.url}/bare`)).ok, { requests: missCount, concurrency: opts.concurrency, warmup: 20 }));
    for (const [name, path] of [
      ['same SQL on a pool, in a worker', '/raw'],
      ['same SQL over HTTP, in a worker', '/raw-http'],
    ] as const) {
      results.push(
        await load(
          name,
          async () => {
            const w = uniqueWindow();
            const res = await fetch(`${raw.url}${path}?start=${encodeURIComponent(w.start)}&end=${encodeURIComponent(w.end)}`, { signal: AbortSignal.timeout(15_000) });
            await res.arrayBuffer();
            return res.ok;
          },
          { requests: missCount, concurrency: opts.concurrency, warmup: 10 },
        ),
      );
    }
  } finally {
    await raw.close();
  }

  const dbxWidgets = await createMany('claims_by_product');
  let k = 0;
  results.push(await load('widget data, Databricks miss', () => data(dbxWidgets[k++ % dbxWidgets.length]!)(), { requests: missCount, concurrency: opts.concurrency, warmup: 0 }));
  return results;
}
