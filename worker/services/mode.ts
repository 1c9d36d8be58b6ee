/** How a dependency is provided, as /health reports it. */
export type DependencyMode = 'live' | 'local' | 'embedded' | 'offline' | 'disabled';

export interface DependencyProbe {
  mode: DependencyMode;
  /** Who answers in this mode, in words a person reads on /health. */
  provider: string;
  /** `slow`: no answer by the probe's deadline, which says it is struggling, not that it refused. */
  status: 'ok' | 'slow' | 'down' | 'disabled';
  latency_ms: number | null;
  detail: string | null;
}

/** Runs a probe with a deadline so a hung dependency cannot hang /health. */
export async function probe(
  mode: DependencyMode,
  provider: string,
  timeoutMs: number,
  check: () => Promise<string | null>,
): Promise<DependencyProbe> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Error(`no answer within ${timeoutMs} ms`);
  try {
    const detail = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(deadline), timeoutMs);
      }),
    ]);
    return { mode, provider, status: 'ok', latency_ms: Date.now() - started, detail };
  } catch (err) {
    return { mode, provider, status: err === deadline ? 'slow' : 'down', latency_ms: Date.now() - started, detail: describe(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function disabled(provider: string, detail: string): DependencyProbe {
  return { mode: 'disabled', provider, status: 'disabled', latency_ms: null, detail };
}

/** A short, secret-free description of a failure. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 300) || err.name;
  // WebSocket failures arrive as ErrorEvent-like objects, not Errors.
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message) return message.slice(0, 300);
  return String(err).slice(0, 300);
}

/** Rejects when the promise takes longer than ms; the caller maps it to a problem code. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}
