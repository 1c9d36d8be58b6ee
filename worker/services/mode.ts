import { isDependencyError } from '../http/errors.ts';

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

/**
 * Runs a probe with a deadline so a hung dependency cannot hang /health. The check gets the
 * deadline's signal to stop its own work; a probe whose deadline fired, or whose dependency
 * reports a timeout, is `slow`, any other failure `down`.
 */
export async function probe(
  mode: DependencyMode,
  provider: string,
  timeoutMs: number,
  check: (signal: AbortSignal) => Promise<string | null>,
): Promise<DependencyProbe> {
  const started = Date.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  // Not every client takes a signal (Upstash's ping does not), so the deadline also ends the wait.
  const expired = new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(deadline.reason), { once: true }));
  try {
    const detail = await Promise.race([check(deadline), expired]);
    return { mode, provider, status: 'ok', latency_ms: Date.now() - started, detail };
  } catch (err) {
    const slow = deadline.aborted || (isDependencyError(err) && err.kind === 'timeout');
    const detail = slow ? `no answer within ${timeoutMs} ms` : describe(err);
    return { mode, provider, status: slow ? 'slow' : 'down', latency_ms: Date.now() - started, detail };
  }
}

export function disabled(provider: string, detail: string): DependencyProbe {
  return { mode: 'disabled', provider, status: 'disabled', latency_ms: null, detail };
}

/** A short description of a failure, for logs and health details (messages are already scrubbed). */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 300) || err.name;
  // WebSocket failures arrive as ErrorEvent-like objects, not Errors.
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message) return message.slice(0, 300);
  return String(err).slice(0, 300);
}
