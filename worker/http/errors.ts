import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The closed list of problem codes. Clients branch on `code`, never on `title` or `detail`,
 * so a code, once shipped, keeps its meaning and status.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  malformed_json: 400,
  validation_failed: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  internal_error: 500,
  config_invalid: 500,
  postgres_unavailable: 503,
  redis_unavailable: 503,
  databricks_unavailable: 503,
  llm_unavailable: 503,
  routing_invalid: 503,
  dependency_timeout: 504,
  incident_limit: 429,
  incident_state: 409,
  workflow_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

const TITLES: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  malformed_json: 'Malformed JSON body',
  validation_failed: 'Request validation failed',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  upgrade_required: 'WebSocket upgrade required',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  config_invalid: 'The worker configuration is invalid',
  postgres_unavailable: 'Postgres is unavailable',
  redis_unavailable: 'Redis is unavailable',
  databricks_unavailable: 'Databricks is unavailable',
  llm_unavailable: 'The language model is unavailable',
  routing_invalid: 'Metric routing configuration is invalid',
  dependency_timeout: 'A dependency timed out',
  incident_limit: 'Too many incidents are running',
  incident_state: 'The incident is not in a state that allows this',
  workflow_unavailable: 'The incident workflow is unavailable',
};

export function codeToStatus(code: ErrorCode): ContentfulStatusCode {
  return ERROR_STATUS[code];
}

export function titleFor(code: ErrorCode): string {
  return TITLES[code];
}

export interface FieldProblem {
  /** JSON-pointer-like path into the request part, e.g. "body/name". */
  pointer: string;
  message: string;
}

/** The one error type handlers throw; onError turns it into problem+json. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldProblem[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { errors?: FieldProblem[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.errors = options.errors;
    this.headers = options.headers;
  }

  get status(): ContentfulStatusCode {
    return codeToStatus(this.code);
  }
}

/** What a dependency did wrong, as callers branch on it. */
export type DependencyName = 'postgres' | 'redis' | 'databricks' | 'bedrock';
export type DependencyKind =
  /** It could not be reached, answered 5xx, or a connection hung past our own deadline. */
  | 'unavailable'
  /** It gave up on the work at the deadline we set (a statement timeout, a model timeout). */
  | 'timeout'
  /** It asked us to slow down (429 / throttling) and kept asking after our retries. */
  | 'throttled'
  /** It refused our credentials. */
  | 'auth'
  /** It refused the request itself (bad SQL, a 4xx other than auth or throttling). */
  | 'rejected'
  /** It answered something we cannot use: a broken result, or a model answer that fails its contract. */
  | 'protocol'
  /** The caller gave up (its signal aborted) before the dependency answered. */
  | 'aborted'
  /** It is not configured on this server. */
  | 'not_configured';

/**
 * Safe diagnostics an adapter may attach: identifiers and the dependency's own error names, never
 * its free text (that, scrubbed, is in `message`, which only logs see).
 */
export interface DependencyDetails {
  /** The HTTP status the dependency answered with. */
  status?: number | undefined;
  /** The dependency's name for the failure: a Bedrock exception type, a Databricks error_code. */
  errorType?: string | undefined;
  /** The SQLSTATE of a failed statement. */
  sqlState?: string | undefined;
  /** The Databricks statement the failure belongs to. */
  statementId?: string | undefined;
  /** Attempts made, retries included. */
  attempts?: number | undefined;
  /** The deadline that ran out, for `timeout`. */
  timeoutMs?: number | undefined;
  /** A model answer that broke its contract: why, which fields, how the model stopped, a short excerpt. */
  output?: {
    reason: 'no_tool_call' | 'wrong_tool' | 'invalid_input' | 'malformed_json' | 'truncated' | 'filtered';
    issues?: Array<{ path: string; message: string }>;
    stopReason?: string | undefined;
    excerpt?: string | undefined;
  };
}

/**
 * The one error a dependency adapter throws. `message` is for logs and may carry the dependency's
 * own (scrubbed) text; what a client sees is decided in one place, `toProblem` in problem.ts,
 * from `dependency`, `kind` and the safe details alone.
 */
export class DependencyError extends Error {
  readonly dependency: DependencyName;
  readonly kind: DependencyKind;
  /** Seconds the dependency asked us to wait, when it said. */
  readonly retryAfter: number | undefined;
  readonly details: DependencyDetails;

  constructor(
    dependency: DependencyName,
    kind: DependencyKind,
    message: string,
    options: { retryAfter?: number | undefined; details?: DependencyDetails; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DependencyError';
    this.dependency = dependency;
    this.kind = kind;
    this.retryAfter = options.retryAfter;
    this.details = options.details ?? {};
  }

  /** Logs serialise errors; this keeps that output to the safe fields (no cause, no stack). */
  toJSON(): Record<string, unknown> {
    return { name: this.name, dependency: this.dependency, kind: this.kind, message: this.message, retry_after: this.retryAfter, ...this.details };
  }
}

export function isDependencyError(value: unknown, dependency?: DependencyName): value is DependencyError {
  return value instanceof DependencyError && (dependency === undefined || value.dependency === dependency);
}

/** Seconds from a Retry-After value: delta-seconds (fractions round up) or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text));
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const MAX_DEPENDENCY_TEXT = 500;

/**
 * Makes a dependency's or the runtime's text fit for an error message: every given secret (a
 * token, a key, a password) and anything after "Bearer" is replaced, whitespace is flattened, and
 * the result is capped. Secrets shorter than 4 characters are not searched for (they would match
 * ordinary text).
 */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  out = out.replace(/(bearer\s+)\S+/gi, '$1[REDACTED]').replace(/\s+/g, ' ').trim();
  return out.length > MAX_DEPENDENCY_TEXT ? `${out.slice(0, MAX_DEPENDENCY_TEXT)}…` : out;
}
