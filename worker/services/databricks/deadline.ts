// One deadline per call: a single AbortSignal that fires when the time budget runs out or the caller
// aborts, carried by every request and every wait so nothing the call started outlives it.
import { DatabricksCanceledError, DatabricksTimeoutError } from './errors.ts';
import type { DatabricksError } from './errors.ts';

export interface Deadline {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Epoch milliseconds after which the call has failed. */
  readonly at: number;
  remaining(): number;
  /** The typed error for an aborted call: canceled when the caller aborted, otherwise a timeout. */
  abortError(statementId: string | undefined): DatabricksError;
  /** Throws abortError when the signal has fired. */
  check(statementId: string | undefined): void;
}

export function createDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive number of milliseconds');
  const at = Date.now() + timeoutMs;
  const timer = AbortSignal.timeout(Math.ceil(timeoutMs));
  const signal = callerSignal ? AbortSignal.any([timer, callerSignal]) : timer;
  const deadline: Deadline = {
    signal,
    timeoutMs,
    at,
    remaining: () => at - Date.now(),
    abortError(statementId) {
      if (callerSignal?.aborted) {
        return new DatabricksCanceledError(
          statementId ? `the caller aborted statement ${statementId}` : 'the caller aborted the statement before it was submitted',
          { statementId },
        );
      }
      return new DatabricksTimeoutError(
        statementId
          ? `Databricks statement ${statementId} did not finish within ${timeoutMs} ms`
          : `Databricks did not accept the statement within ${timeoutMs} ms`,
        { statementId, timeoutMs },
      );
    },
    check(statementId) {
      if (signal.aborted || Date.now() >= at) throw deadline.abortError(statementId);
    },
  };
  return deadline;
}

/** Waits `ms`, or rejects with the deadline's error as soon as it fires. */
export function sleepUntil(ms: number, deadline: Deadline, statementId: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (deadline.signal.aborted) {
      reject(deadline.abortError(statementId));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(deadline.abortError(statementId));
    };
    const timer = setTimeout(() => {
      deadline.signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Spreads retries and polls of concurrent callers apart: ±20 % around the nominal delay. */
export function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
