/**
 * Work many callers ask for at once whose answer does not depend on who asks, done once for all
 * of them: the KPI strip recomputed after ingests (every ingest path), an incident's linked KPIs
 * sampled, incidents' hub publishes. A request joins the next round, which starts only after the
 * round under way ends, so every joiner gets an answer computed after it asked (after its events
 * were committed); alone, a request starts its round at once and waits for nothing. With a
 * hundred ingests at once this turns a hundred recomputations of the strip into two or three.
 *
 * Rounds live in one isolate; a caller in another isolate simply runs its own.
 */

/** Longer than any round takes (a few hundred ms with a hundred incidents at once). */
const ROUND_LIMIT_MS = 15_000;

function within<R>(work: Promise<R>, ms: number): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('a shared round did not settle in time')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Coalescer<T, R> {
  private running: Promise<unknown> | null = null;
  private next: { items: T[]; done: Promise<R> } | null = null;

  private readonly work: (items: readonly T[]) => Promise<R>;

  constructor(work: (items: readonly T[]) => Promise<R>) {
    this.work = work;
  }

  join(item: T): Promise<R> {
    if (!this.next) {
      const round: { items: T[]; done: Promise<R> } = { items: [], done: undefined as never };
      // A round runs on I/O of the request that opened it; should that request's work be cut off,
      // its round would never settle, so the next one waits for it only so long.
      const before = this.running ? within(this.running, ROUND_LIMIT_MS).catch(() => undefined) : Promise.resolve();
      round.done = before
        .catch(() => undefined)
        .then(() => {
          // From here on a new request cannot be part of this round's answer: it opens the next one.
          if (this.next === round) this.next = null;
          return this.work(round.items);
        });
      const settled = round.done.catch(() => undefined);
      this.running = settled;
      void settled.then(() => {
        if (this.running === settled) this.running = null;
      });
      this.next = round;
    }
    this.next.items.push(item);
    // Each joiner bounds its own wait with a timer of its own: a round that never settles fails
    // the step (which the engine retries) instead of holding it.
    return within(this.next.done, 2 * ROUND_LIMIT_MS);
  }
}

/** One coalescer per key (a dashboard), made on first use. */
export class CoalescerMap<T, R> {
  private readonly byKey = new Map<string, Coalescer<T, R>>();

  private readonly work: (key: string, items: readonly T[]) => Promise<R>;

  constructor(work: (key: string, items: readonly T[]) => Promise<R>) {
    this.work = work;
  }

  join(key: string, item: T): Promise<R> {
    let c = this.byKey.get(key);
    if (!c) {
      c = new Coalescer((items) => this.work(key, items));
      this.byKey.set(key, c);
    }
    return c.join(item);
  }
}
