// The typed failures of the Bedrock client. Callers branch on `kind` (stable strings), never on the
// message. Messages name the Bedrock error type and its own short message, never a credential, a
// signature or the raw request; `toJSON` keeps logs to those safe fields.
import { ApiError } from '../http/errors.ts';
import type { ErrorCode } from '../http/errors.ts';

export type LlmErrorKind = 'unavailable' | 'timeout' | 'throttled' | 'auth' | 'request' | 'output' | 'aborted';

export interface LlmErrorDetails {
  /** The Bedrock error type (`x-amzn-ErrorType`), e.g. ThrottlingException. */
  errorType?: string | undefined;
  status?: number | undefined;
  /** SDK attempts made, retries included. */
  attempts?: number | undefined;
  cause?: unknown;
}

export class LlmError extends Error {
  readonly kind: LlmErrorKind;
  readonly errorType: string | undefined;
  readonly status: number | undefined;
  readonly attempts: number | undefined;

  constructor(kind: LlmErrorKind, message: string, details: LlmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LlmError';
    this.kind = kind;
    this.errorType = details.errorType;
    this.status = details.status;
    this.attempts = details.attempts;
  }

  /** Logs serialise errors; this keeps that output to the safe fields (no `cause`, no stack). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, kind: this.kind, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (value !== undefined && !(key in out)) out[key] = value;
    }
    return out;
  }
}

/** Bedrock is not reachable or not answering: network failure, 5xx, model not ready, or a timeout. */
export class LlmUnavailableError extends LlmError {
  constructor(message: string, details: LlmErrorDetails & { timeout?: boolean } = {}) {
    super(details.timeout ? 'timeout' : 'unavailable', message, details);
    this.name = 'LlmUnavailableError';
  }
}

/** Still throttled once the SDK's bounded retries ran out. */
export class LlmThrottledError extends LlmError {
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, details: LlmErrorDetails & { retryAfterSeconds?: number | undefined } = {}) {
    super('throttled', message, details);
    this.name = 'LlmThrottledError';
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** The credentials are unknown, wrong, expired, scoped to another region, or lack model access. */
export class LlmAuthError extends LlmError {
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('auth', message, details);
    this.name = 'LlmAuthError';
  }
}

/** Bedrock refused the request itself (ValidationException, unknown model): a bug on our side. */
export class LlmRequestError extends LlmError {
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('request', message, details);
    this.name = 'LlmRequestError';
  }
}

export type LlmOutputReason = 'no_tool_call' | 'wrong_tool' | 'invalid_input' | 'malformed_json' | 'truncated' | 'filtered';

export interface OutputIssue {
  path: string;
  message: string;
}

const EXCERPT_CHARS = 160;

/** A short, single-line excerpt of model output for diagnostics; never the whole answer. */
export function excerpt(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** The model answered, but the answer cannot be used: no tool call, malformed or invalid tool input. */
export class LlmOutputError extends LlmError {
  readonly reason: LlmOutputReason;
  readonly issues: OutputIssue[];
  readonly stopReason: string | undefined;
  /** At most a short excerpt of what the model said, for logs. */
  readonly excerpt: string | undefined;

  constructor(
    reason: LlmOutputReason,
    message: string,
    details: { issues?: OutputIssue[]; stopReason?: string | undefined; excerpt?: string | undefined } = {},
  ) {
    super('output', message);
    this.name = 'LlmOutputError';
    this.reason = reason;
    this.issues = details.issues ?? [];
    this.stopReason = details.stopReason;
    this.excerpt = details.excerpt;
  }
}

/** The caller's own signal aborted the call; nothing failed on Bedrock's side. */
export class LlmAbortedError extends LlmError {
  constructor(message = 'the caller aborted the Bedrock call') {
    super('aborted', message);
    this.name = 'LlmAbortedError';
  }
}

export function isLlmError(value: unknown): value is LlmError {
  return value instanceof LlmError;
}

// --- Classification of what the SDK (or fetch under it) throws --------------------------------

const AUTH_TYPES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'AccessDeniedException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const UNAVAILABLE_TYPES = new Set([
  'ServiceUnavailableException',
  'ModelNotReadyException',
  'InternalServerException',
  'ModelErrorException',
  'ModelStreamErrorException',
]);
const TIMEOUT_TYPES = new Set(['ModelTimeoutException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const THROTTLED_TYPES = new Set(['ThrottlingException', 'ServiceQuotaExceededException', 'TooManyRequestsException']);

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

function retryAfterSeconds(error: SdkErrorShape): number | undefined {
  const headers = error.$response?.headers;
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'retry-after' || value === undefined) continue;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
    const at = Date.parse(value);
    if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }
  return undefined;
}

/** Removes any configured secret from a server- or runtime-supplied message, and caps its length. */
function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

export interface ClassifyContext {
  /** Values that must never appear in a message: the access key id, secret and session token. */
  secrets: readonly string[];
  /** True when the call's own deadline fired. */
  timedOut: boolean;
  timeoutMs: number;
  /** True when the caller's signal aborted the call. */
  callerAborted: boolean;
}

/** Maps anything the SDK or fetch throws to one typed LlmError. */
export function classifyError(error: unknown, context: ClassifyContext): LlmError {
  if (error instanceof LlmError) return error;
  if (context.callerAborted) return new LlmAbortedError();
  if (context.timedOut) {
    return new LlmUnavailableError(`Bedrock did not answer within ${context.timeoutMs} ms`, { timeout: true, cause: error });
  }
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const type = typeof shape.name === 'string' ? shape.name : 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const attempts = shape.$metadata?.attempts;
  const raw = typeof shape.message === 'string' ? shape.message : String(error);
  const text = scrub(raw, context.secrets);
  const details = { errorType: type, status, attempts, cause: error };
  const said = `Bedrock answered ${type}${status ? ` (${status})` : ''}: ${text}`;

  if (THROTTLED_TYPES.has(type) || (status === 429 && type !== 'ModelNotReadyException')) {
    const after = retryAfterSeconds(shape);
    const tries = attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
    return new LlmThrottledError(`Bedrock is throttling requests${tries}: ${text}`, { ...details, retryAfterSeconds: after });
  }
  if (TIMEOUT_TYPES.has(type)) return new LlmUnavailableError(said, { ...details, timeout: true });
  if (UNAVAILABLE_TYPES.has(type) || (status !== undefined && status >= 500)) return new LlmUnavailableError(said, details);
  if (AUTH_TYPES.has(type) || status === 401 || status === 403) return new LlmAuthError(said, details);
  if (status !== undefined && status >= 400) return new LlmRequestError(said, details);
  if (type === 'AbortError') {
    // An abort nobody asked for (the runtime cancelled the subrequest): treat it as a lost connection.
    return new LlmUnavailableError(`the connection to Bedrock was aborted: ${text}`, details);
  }
  // No HTTP status: the request never got an answer (refused connection, DNS, TLS, reset).
  return new LlmUnavailableError(`Bedrock could not be reached: ${text}`, details);
}

// --- The HTTP face of these errors ------------------------------------------------------------

/** `errorType` of the errors a client without credentials (or in offline mode) throws. */
export const NOT_CONFIGURED = 'NotConfigured';

/** The one code every LLM failure answers with; a dedicated `llm_unavailable` code replaces it here. */
const LLM_UNAVAILABLE_CODE: ErrorCode = 'llm_unavailable';

/**
 * The problem a route answers with when the model cannot help. Details are fixed sentences so no
 * server message, model text or credential reaches the client; the LlmError stays as `cause` for logs.
 */
export function toApiError(error: LlmError): ApiError {
  let detail: string;
  let headers: Record<string, string> | undefined;
  switch (error.kind) {
    case 'output':
      detail = "The model's answer was unusable; try rephrasing the request.";
      break;
    case 'throttled':
      detail = 'Bedrock is throttling requests; try again shortly.';
      if (error instanceof LlmThrottledError && error.retryAfterSeconds !== undefined) {
        headers = { 'retry-after': String(error.retryAfterSeconds) };
      }
      break;
    case 'timeout':
      detail = 'Bedrock did not answer in time.';
      break;
    case 'auth':
      detail = "Bedrock rejected the worker's AWS credentials.";
      break;
    case 'request':
      detail = "Bedrock rejected the worker's request.";
      break;
    case 'aborted':
      detail = 'The model call was aborted.';
      break;
    default:
      // The client's own "not configured" reasons are fixed sentences, safe and useful to show.
      detail = error.errorType === NOT_CONFIGURED ? error.message : 'Bedrock is unavailable.';
  }
  return new ApiError(LLM_UNAVAILABLE_CODE, detail, { cause: error, ...(headers ? { headers } : {}) });
}
