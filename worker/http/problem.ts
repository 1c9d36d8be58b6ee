import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { ApiError, codeToStatus, titleFor } from './errors.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import type { ErrorCode, FieldProblem } from './errors.ts';

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
  options: { errors?: FieldProblem[]; headers?: Record<string, string> } = {},
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
    case 503:
      return 'postgres_unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

/** The single error handler: every failure leaves as problem+json, never with a stack. */
export function handleError(err: unknown, c: Context): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  if (err instanceof ApiError) {
    if (err.status >= 500) logFailure(c, err);
    return problemResponse(err.code, err.message, requestId, { errors: err.errors, headers: err.headers });
  }
  if (err instanceof ZodError) {
    return problemResponse('validation_failed', 'The request did not match the schema.', requestId, {
      errors: zodProblems(err, 'body'),
    });
  }
  if (err instanceof HTTPException) {
    // Hono's JSON validator reports an unparsable body as a plain 400.
    const code = err.status === 400 && /malformed json/i.test(err.message) ? 'malformed_json' : codeForHttpException(err.status);
    const detail = err.status === 413 ? 'The request body exceeds the size limit.' : err.message || titleFor(code);
    return problemResponse(code, detail, requestId);
  }
  logFailure(c, err);
  return problemResponse('internal_error', 'An unexpected error occurred; quote the request id when reporting it.', requestId);
}

function logFailure(c: Context, err: unknown): void {
  const log = (c.get('log') as Logger | undefined) ?? rootLogger.child({ request_id: c.get('requestId'), route: c.req.path });
  log.error('request failed', { error: err, cause: err instanceof Error ? err.cause : undefined });
}
