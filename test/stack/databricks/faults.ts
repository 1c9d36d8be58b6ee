// Failure modes tests can switch on through the stand-in's handle (never over HTTP), to exercise a
// client's timeouts, retries, polling and validation against the same server that serves good data.
import { z } from 'zod';

const faultSettings = z.strictObject({
  /** Each statement submitted while set stays RUNNING this long before it executes. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** Every HTTP response is held back this long (a slow network rather than a slow warehouse). */
  responseDelayMs: z.number().int().nonnegative().optional(),
  /** The next submitted statement fails with this error; the fault then clears itself. */
  failNext: z
    .strictObject({ error_code: z.string().min(1), message: z.string().min(1), sql_state: z.string().optional() })
    .optional(),
  /** The next `count` API requests get this status (with Retry-After when given) and nothing else. */
  httpStatus: z
    .strictObject({
      status: z.union([z.literal(429), z.literal(503)]),
      retryAfterSeconds: z.number().int().nonnegative().optional(),
      count: z.number().int().positive(),
    })
    .optional(),
  /** Statements submitted while set never leave PENDING unless canceled. */
  stuckPending: z.boolean().optional(),
  /** Responses that carry result rows (statement and chunk) are cut off mid-JSON. */
  malformedChunk: z.boolean().optional(),
  /** The next job run fails while RUNNING with this message and writes nothing; the fault then clears itself. */
  failNextRun: z.strictObject({ message: z.string().min(1) }).optional(),
  /** Job runs stay RUNNING while set, so a test can act while one is active. */
  holdRuns: z.boolean().optional(),
});

export type FaultSettings = z.infer<typeof faultSettings>;
export type HttpFault = NonNullable<FaultSettings['httpStatus']>;
export type FailNextFault = NonNullable<FaultSettings['failNext']>;
export type FailNextRunFault = NonNullable<FaultSettings['failNextRun']>;

export interface FaultControls {
  /** Adds or replaces the given faults; the others stay as they are. */
  set(faults: FaultSettings): void;
  clear(): void;
  readonly current: Readonly<FaultSettings>;
}

/** The server's side of the faults: one-shot faults are consumed as they fire. */
export interface FaultInjector extends FaultControls {
  takeHttpFault(): { status: 429 | 503; retryAfterSeconds?: number } | null;
  takeFailNext(): FailNextFault | null;
  takeFailNextRun(): FailNextRunFault | null;
}

export function createFaultInjector(): FaultInjector {
  let state: FaultSettings = {};
  return {
    set(faults) {
      const parsed = faultSettings.parse(faults);
      state = { ...state, ...parsed };
    },
    clear() {
      state = {};
    },
    get current() {
      return { ...state };
    },
    takeHttpFault() {
      const fault = state.httpStatus;
      if (!fault) return null;
      const remaining = fault.count - 1;
      const { httpStatus: _spent, ...rest } = state;
      state = remaining > 0 ? { ...rest, httpStatus: { ...fault, count: remaining } } : rest;
      return fault.retryAfterSeconds === undefined
        ? { status: fault.status }
        : { status: fault.status, retryAfterSeconds: fault.retryAfterSeconds };
    },
    takeFailNext() {
      const fault = state.failNext;
      if (!fault) return null;
      const { failNext: _spent, ...rest } = state;
      state = rest;
      return fault;
    },
    takeFailNextRun() {
      const fault = state.failNextRun;
      if (!fault) return null;
      const { failNextRun: _spent, ...rest } = state;
      state = rest;
      return fault;
    },
  };
}
