import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { ApiError, DependencyError, codeToStatus, titleFor } from './errors.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import type { DependencyName, ErrorCode, FieldProblem } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  errors?: FieldProblem[];
}

export function problemBody(code: ErrorCode, detail: string, requestId: string, errors?: FieldProblem[]): Problem {
  return {
    type: `https://command-center.dev/problems/${code.replaceAll('_', '-')}`,
    title: titleFor(code),
    status: codeToStatus(code),
    detail,
    code,
    request_id: requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  code: ErrorCode,
  detail: string,
  requestId: string,
  options: { errors?: FieldProblem[] | undefined; headers?: Record<string, string> | undefined } = {},
): Response {
  const body = problemBody(code, detail, requestId, options.errors);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId, ...options.headers },
  });
}

export function zodProblems(error: ZodError, part: string): FieldProblem[] {
  return explain(error.issues, []).map((issue) => ({
    pointer: [part, ...issue.path.map(String)].join('/'),
    message: issue.message,
  }));
}

type Issue = ZodError['issues'][number];

/**
 * A union that matched no branch says only "Invalid input". The branch that got furthest into
 * the value (its deepest issue; then the fewest issues) is the one the client meant, so its
 * issues are reported instead, with their full paths.
 */
function explain(issues: readonly Issue[], prefix: PropertyKey[]): Array<{ path: PropertyKey[]; message: string }> {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return [{ path, message: issue.message }];
    const depth = (branch: readonly Issue[]) => Math.max(...branch.map((i) => i.path.length));
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
    return explain(best, path);
  });
}

/** Hono's built-in middlewares throw HTTPException with a status; map each to our closed list. */
function codeForHttpException(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

const NAMES: Record<DependencyName, string> = { postgres: 'Postgres', redis: 'Redis', databricks: 'Databricks', bedrock: 'Bedrock' };
const WORK: Record<DependencyName, string> = { postgres: 'statement', redis: 'command', databricks: 'statement', bedrock: 'request' };

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * The fixed sentence a person is shown for a dependency failure, from its dependency, kind and
 * safe details only; never the dependency's own text. A tile's `reason` is this sentence too.
 */
export function dependencySentence(err: DependencyError): string {
  const name = NAMES[err.dependency];
  const { timeoutMs, output } = err.details;
  if (err.dependency === 'bedrock') {
    switch (err.kind) {
      case 'protocol':
        return `The model's answer was unusable; try rephrasing the request.${output ? ` (${output.reason})` : ''}`;
      case 'throttled':
        return 'Bedrock is throttling requests; try again shortly.';
      case 'timeout':
        return 'Bedrock did not answer in time.';
      case 'auth':
        return "Bedrock rejected the worker's AWS credentials.";
      case 'rejected':
        return "Bedrock rejected the worker's request.";
      case 'aborted':
        return 'The model call was aborted.';
      case 'not_configured':
        return 'The model is not configured on this server: its AWS credentials are not set, or BUILDER_MODE is offline.';
      default:
        return 'Bedrock is unavailable.';
    }
  }
  switch (err.kind) {
    case 'timeout':
      return timeoutMs === undefined ? `${name} did not answer in time.` : `${name} did not answer within its ${seconds(timeoutMs)} timeout.`;
    case 'throttled':
      return `${name} is throttling requests; try again shortly.`;
    case 'auth':
      return `${name} refused this server's credentials.`;
    case 'rejected':
      return `${name} refused the ${WORK[err.dependency]}.`;
    case 'protocol':
      return `${name} answered something this server cannot read.`;
    case 'aborted':
      return `The ${name} ${WORK[err.dependency]} was cancelled before it finished.`;
    case 'not_configured':
      return `${name} is not configured on this server.`;
    default:
      return `${name} is unavailable; try again shortly.`;
  }
}

/** The code for a dependency failure: one code for "the model cannot help", a timeout, or that dependency's outage. */
function dependencyCode(err: DependencyError): ErrorCode {
  if (err.dependency === 'bedrock') return 'llm_unavailable';
  if (err.kind === 'timeout') return 'dependency_timeout';
  return `${err.dependency}_unavailable`;
}

export interface PublicProblem {
  code: ErrorCode;
  detail: string;
  errors?: FieldProblem[] | undefined;
  headers?: Record<string, string> | undefined;
}

const INTERNAL_DETAIL = 'An unexpected error occurred; quote the request id when reporting it.';

/**
 * What a client may see of any failure: the one place an error becomes a code and a sentence.
 * ApiError details are written for clients; everything else is described by its kind alone.
 */
export function toProblem(err: unknown): PublicProblem {
  if (err instanceof ApiError) return { code: err.code, detail: err.message, errors: err.errors, headers: err.headers };
  if (err instanceof DependencyError) {
    return {
      code: dependencyCode(err),
      detail: dependencySentence(err),
      ...(err.retryAfter !== undefined ? { headers: { 'retry-after': String(err.retryAfter) } } : {}),
    };
  }
  if (err instanceof ZodError) return { code: 'validation_failed', detail: 'The request did not match the schema.', errors: zodProblems(err, 'body') };
  if (err instanceof HTTPException) {
    // Hono's JSON validator reports an unparsable body as a plain 400.
    const code = err.status === 400 && /malformed json/i.test(err.message) ? 'malformed_json' : codeForHttpException(err.status);
    const detail = err.status === 413 ? 'The request body exceeds the size limit.' : code === 'internal_error' ? INTERNAL_DETAIL : err.message || titleFor(code);
    return { code, detail };
  }
  return { code: 'internal_error', detail: INTERNAL_DETAIL };
}

/** The single error handler: every failure leaves as problem+json, never with a stack; 5xx are logged. */
export function handleError(err: unknown, c: Context): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  const problem = toProblem(err);
  if (codeToStatus(problem.code) >= 500) logFailure(c, err);
  return problemResponse(problem.code, problem.detail, requestId, problem);
}

/** Logs a server-side failure with the request's logger (its request id and route are bound). */
export function logFailure(c: Context, err: unknown, msg = 'request failed'): void {
  const log = (c.get('log') as Logger | undefined) ?? rootLogger.child({ request_id: c.get('requestId'), route: c.req.path });
  log.error(msg, { error: err, cause: err instanceof Error ? err.cause : undefined });
}
