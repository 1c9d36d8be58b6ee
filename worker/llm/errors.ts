// How the Bedrock client's failures become the one dependency error. Callers branch on `kind`,
// never on the message. Messages name the Bedrock error type and its own short (scrubbed) message,
// never a credential, a signature or the raw request.
import { DependencyError, parseRetryAfter, scrub } from '../http/errors.ts';
import type { DependencyDetails, DependencyKind } from '../http/errors.ts';

export type OutputDetails = NonNullable<DependencyDetails['output']>;
export type OutputIssue = NonNullable<OutputDetails['issues']>[number];

const EXCERPT_CHARS = 160;

/** A short, single-line excerpt of model output for diagnostics; never the whole answer. */
export function excerpt(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** The model answered, but the answer cannot be used: no tool call, malformed or invalid tool input. */
export function outputError(reason: OutputDetails['reason'], message: string, output: Omit<OutputDetails, 'reason'> = {}): DependencyError {
  return new DependencyError('bedrock', 'protocol', message, { details: { output: { reason, ...output } } });
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
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

function retryAfterHeader(error: SdkErrorShape): string | undefined {
  const headers = error.$response?.headers ?? {};
  return Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
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

/** Maps anything the SDK or fetch throws to one DependencyError. */
export function classifyError(error: unknown, context: ClassifyContext): DependencyError {
  if (error instanceof DependencyError) return error;
  const fail = (kind: DependencyKind, message: string, details: DependencyDetails = {}, retryAfter?: number) =>
    new DependencyError('bedrock', kind, message, { details, retryAfter, cause: error });
  if (context.callerAborted) return fail('aborted', 'the caller aborted the Bedrock call');
  if (context.timedOut) return fail('timeout', `Bedrock did not answer within ${context.timeoutMs} ms`, { timeoutMs: context.timeoutMs });
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const type = typeof shape.name === 'string' ? shape.name : 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const attempts = shape.$metadata?.attempts;
  const text = scrub(typeof shape.message === 'string' ? shape.message : String(error), context.secrets);
  const details = { errorType: type, status, attempts };
  const said = `Bedrock answered ${type}${status ? ` (${status})` : ''}: ${text}`;

  if (THROTTLED_TYPES.has(type) || (status === 429 && type !== 'ModelNotReadyException')) {
    const tries = attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
    return fail('throttled', `Bedrock is throttling requests${tries}: ${text}`, details, parseRetryAfter(retryAfterHeader(shape)));
  }
  if (TIMEOUT_TYPES.has(type)) return fail('timeout', said, details);
  if (UNAVAILABLE_TYPES.has(type) || (status !== undefined && status >= 500)) return fail('unavailable', said, details);
  if (AUTH_TYPES.has(type) || status === 401 || status === 403) return fail('auth', said, details);
  if (status !== undefined && status >= 400) return fail('rejected', said, details);
  // An abort nobody asked for (the runtime cancelled the subrequest): treat it as a lost connection.
  if (type === 'AbortError') return fail('unavailable', `the connection to Bedrock was aborted: ${text}`, details);
  // No HTTP status: the request never got an answer (refused connection, DNS, TLS, reset).
  return fail('unavailable', `Bedrock could not be reached: ${text}`, details);
}
