/** A small closed-loop load generator: `concurrency` clients, each sending back to back. */
export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
}

export async function load(
  name: string,
  send: () => Promise<boolean>,
  options: { requests: number; concurrency: number; warmup: number },
): Promise<LoadResult> {
  for (let i = 0; i < options.warmup; i++) await send();
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < options.requests) {
      next++;
      const t = performance.now();
      const ok = await send().catch(() => false);
      latencies.push(performance.now() - t);
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { name, requests: latencies.length, errors, p50: pct(50), p95: pct(95), p99: pct(99), rps: latencies.length / elapsed };
}

export function table(results: LoadResult[], baseline: LoadResult): string {
  const rows = results.map((r) => [
    r.name,
    String(r.requests),
    String(r.errors),
    r.p50.toFixed(2),
    r.p95.toFixed(2),
    r.p99.toFixed(2),
    r.rps.toFixed(0),
    `${(r.p95 / baseline.p95).toFixed(2)}×`,
  ]);
  const head = ['route', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s', 'p95 vs baseline'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
