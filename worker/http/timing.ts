/**
 * Where a request's time went, per dependency, for the Server-Timing header (hono/timing writes
 * it). Services record into this; the header shows total milliseconds and call counts, so a slow
 * tile can be diagnosed from the browser's network panel without server logs.
 */
export class Timings {
  readonly #entries = new Map<string, { ms: number; count: number }>();

  record(name: string, ms: number): void {
    const entry = this.#entries.get(name) ?? { ms: 0, count: 0 };
    entry.ms += ms;
    entry.count += 1;
    this.#entries.set(name, entry);
  }

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.record(name, performance.now() - started);
    }
  }

  entries(): Array<[name: string, ms: number, count: number]> {
    return [...this.#entries].map(([name, e]) => [name, e.ms, e.count]);
  }
}
