// One deadline per model call: a single AbortSignal that fires when the budget runs out or the caller
// aborts, remembering which came first so the error can say timeout or aborted truthfully.

export interface CallDeadline {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  timedOut(): boolean;
  callerAborted(): boolean;
  /**
   * Clears the timer and the listener on the caller's signal, and aborts whatever the call may
   * still hold open (a stream its consumer left early). Call once the call is over.
   */
  dispose(): void;
}

export function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): CallDeadline {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive number of milliseconds');
  const controller = new AbortController();
  let cause: 'timeout' | 'caller' | null = null;
  const onCallerAbort = (): void => {
    if (cause === null) cause = 'caller';
    controller.abort(callerSignal?.reason);
  };
  const timer = setTimeout(() => {
    if (cause === null) cause = 'timeout';
    controller.abort(new Error(`the model call exceeded its ${timeoutMs} ms budget`));
  }, Math.ceil(timeoutMs));
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timeoutMs,
    timedOut: () => cause === 'timeout',
    callerAborted: () => cause === 'caller',
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      if (!controller.signal.aborted) controller.abort(new Error('the model call is over'));
    },
  };
}
