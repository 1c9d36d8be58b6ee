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
  not_implemented: 501,
  postgres_unavailable: 503,
  redis_unavailable: 503,
  databricks_unavailable: 503,
  bedrock_unavailable: 503,
  llm_unavailable: 503,
  routing_invalid: 503,
  dependency_timeout: 504,
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
  not_implemented: 'Not implemented',
  postgres_unavailable: 'Postgres is unavailable',
  redis_unavailable: 'Redis is unavailable',
  databricks_unavailable: 'Databricks is unavailable',
  bedrock_unavailable: 'Bedrock is unavailable',
  llm_unavailable: 'The language model is unavailable',
  routing_invalid: 'Metric routing configuration is invalid',
  dependency_timeout: 'A dependency timed out',
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
  /** It could not be reached or answered 5xx. */
  | 'unavailable'
  /** It did not answer within the caller's deadline. */
  | 'timeout'
  /** It asked us to slow down (429 / throttling). */
  | 'throttled'
  /** It refused our credentials. */
  | 'auth'
  /** It refused the request itself (bad SQL, a 4xx other than auth or throttling). */
  | 'rejected'
  /** It answered something we cannot read. */
  | 'protocol'
  /** The caller gave up (its signal aborted) before the dependency answered. */
  | 'aborted'
  /** It is not configured on this server. */
  | 'not_configured';

/**
 * The one error a dependency adapter throws. `message` is for logs and may carry the dependency's
 * own (already scrubbed) text; what a client sees is decided in one place, `problemFor` in
 * problem.ts, from `dependency` and `kind` alone.
 */
export class DependencyError extends Error {
  readonly dependency: DependencyName;
  readonly kind: DependencyKind;
  /** Seconds the dependency asked us to wait, when it said. */
  readonly retryAfter: number | undefined;

  constructor(
    dependency: DependencyName,
    kind: DependencyKind,
    message: string,
    options: { retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DependencyError';
    this.dependency = dependency;
    this.kind = kind;
    this.retryAfter = options.retryAfter;
  }

  /** Logs serialise errors; this keeps that output to the safe fields. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, dependency: this.dependency, kind: this.kind, message: this.message, retry_after: this.retryAfter };
  }
}

export function isDependencyError(value: unknown, dependency?: DependencyName): value is DependencyError {
  return value instanceof DependencyError && (dependency === undefined || value.dependency === dependency);
}
