import type { Logger } from '../lib/log.ts';

/**
 * A time budget shared by several pieces of work that started together: each is either ready
 * by the deadline or reported as pending. Pending work is not abandoned: it is handed to
 * `keepAlive` (the request's waitUntil), so it finishes after the response and warms the cache
 * for the client that asks for it next.
 */
export type Budgeted<T> = { ready: true; value: T } | { ready: false };

export interface Budget {
  /** The work's value if it settles before the deadline; its rejection propagates the same way. */
  race<T>(work: Promise<T>): Promise<Budgeted<T>>;
  /** Clears the deadline timer once every piece of work has been raced. */
  release(): void;
}

const LATE = Symbol('late');

/** Without a budget every piece of work is awaited in full, as if the deadline never came. */
export function startBudget(ms: number | undefined, keepAlive: (work: Promise<unknown>) => void, log: Logger): Budget {
  if (ms === undefined) {
    return { race: async (work) => ({ ready: true, value: await work }), release: () => undefined };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  return {
    async race<T>(work: Promise<T>): Promise<Budgeted<T>> {
      const first = await Promise.race([work, expired]);
      if (first !== LATE) return { ready: true, value: first as T };
      // Its failure is the later request's to report; here it must not become an unhandled rejection.
      keepAlive(
        work.then(
          () => undefined,
          (err: unknown) => log.warn('background dashboard work failed', { error: err }),
        ),
      );
      return { ready: false };
    },
    release: () => clearTimeout(timer),
  };
}
