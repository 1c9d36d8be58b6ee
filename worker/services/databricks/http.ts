// The transport under the client: one JSON request to the workspace with the bearer token, the call's
// deadline, retries for 429/503 that honour Retry-After, and HTTP failures mapped to DependencyErrors.
// Every piece of server or network text passes through `scrub` before it can reach an error message.
import { DependencyError, parseRetryAfter, scrub as scrubSecrets } from '../../http/errors.ts';
import type { DependencyDetails, DependencyKind } from '../../http/errors.ts';
import { wireError } from './wire.ts';

/** A Databricks failure; callers branch on `kind`. */
export function databricksError(kind: DependencyKind, message: string, details: DependencyDetails = {}, retryAfter?: number): DependencyError {
  return new DependencyError('databricks', kind, message, { details, retryAfter });
}

/**
 * One call's deadline: its own timer and the caller's signal, joined, so every request and every
 * wait the call makes stops at whichever fires first; which one did tells a timeout from an abort.
 */
export interface Call {
  readonly signal: AbortSignal;
  /** Epoch milliseconds after which the call has failed. */
  readonly at: number;
  /** The error for a stopped call: `aborted` when the caller's signal fired, otherwise `timeout`. */
  stopped(statementId: string | undefined): DependencyError;
}

export function startCall(timeoutMs: number, callerSignal: AbortSignal | undefined): Call {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive number of milliseconds');
  const timer = AbortSignal.timeout(Math.ceil(timeoutMs));
  return {
    signal: callerSignal ? AbortSignal.any([timer, callerSignal]) : timer,
    at: Date.now() + timeoutMs,
    stopped(statementId) {
      if (callerSignal?.aborted) {
        const what = statementId ? `the caller aborted statement ${statementId}` : 'the caller aborted the statement before it was submitted';
        return databricksError('aborted', what, { statementId });
      }
      const what = statementId
        ? `Databricks statement ${statementId} did not finish within ${timeoutMs} ms`
        : `Databricks did not accept the statement within ${timeoutMs} ms`;
      return databricksError('timeout', what, { statementId, timeoutMs });
    },
  };
}

/** Throws the call's error once its deadline has passed or its signal fired. */
export function checkCall(call: Call, statementId: string | undefined): void {
  if (call.signal.aborted || Date.now() >= call.at) throw call.stopped(statementId);
}

/** Waits `ms`, or throws the call's error as soon as its signal fires. */
export async function pause(ms: number, call: Call, statementId: string | undefined): Promise<void> {
  const wake = AbortSignal.any([call.signal, AbortSignal.timeout(Math.max(0, Math.ceil(ms)))]);
  if (!wake.aborted) await new Promise((resolve) => wake.addEventListener('abort', resolve, { once: true }));
  if (call.signal.aborted) throw call.stopped(statementId);
}

/** Spreads retries and polls of concurrent callers apart: ±20 % around the nominal delay. */
export function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

export interface Transport {
  readonly origin: string;
  /** Resolves a path or an API-provided link against the workspace; links to other origins are refused. */
  url(pathOrLink: string, statementId?: string): URL;
  request(method: 'GET' | 'POST', url: URL, body: unknown, call: Call, statementId?: string): Promise<unknown>;
  /** One best-effort POST with its own short timeout, for cancels after the deadline; never throws. */
  bestEffortPost(url: URL, timeoutMs: number): Promise<boolean>;
  scrub(text: string): string;
}

export interface TransportOptions {
  host: string;
  token: string;
  fetch: typeof fetch | undefined;
  maxAttempts: number;
}

/** Retry delay when a 429/503 carries no Retry-After. */
const RETRY_BASE_MS = 250;

export function normalizeHost(host: string): URL {
  const trimmed = host.trim();
  if (!trimmed) throw new RangeError('Databricks host is empty');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`Databricks host must be an http(s) URL, not ${url.protocol}`);
  return new URL(url.origin);
}

function describeNetworkFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  if (error instanceof Error && error.message) return error.message;
  return 'network error';
}

export function createTransport(options: TransportOptions): Transport {
  const base = normalizeHost(options.host);
  const origin = base.origin;
  const token = options.token;
  const custom = options.fetch;
  // workerd rejects a fetch called without its global as `this`, so an injected one is bound here.
  const doFetch = (url: URL, init: RequestInit): Promise<Response> => (custom ? custom.call(globalThis, url, init) : fetch(url, init));

  const scrub = (text: string): string => scrubSecrets(text, [token]);

  const headers = (withBody: boolean): Record<string, string> => ({
    authorization: `Bearer ${token}`,
    accept: 'application/json',
    ...(withBody ? { 'content-type': 'application/json' } : {}),
  });

  /** The API's error_code and message from an error answer, whatever shape the body has. */
  const readError = async (response: Response): Promise<{ errorCode: string | undefined; message: string }> => {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The body is optional context; the status alone still classifies the failure.
    }
    try {
      const parsed = wireError.safeParse(JSON.parse(text));
      if (parsed.success) {
        return { errorCode: parsed.data.error_code, message: scrub(parsed.data.message ?? '') };
      }
    } catch {
      // Not JSON (a proxy's HTML page, say): fall through to the raw text.
    }
    return { errorCode: undefined, message: scrub(text) };
  };

  const summary = (status: number, error: { errorCode: string | undefined; message: string }): string =>
    `HTTP ${status}${error.errorCode ? ` ${error.errorCode}` : ''}${error.message ? `: ${error.message}` : ''}`;

  return {
    origin,
    scrub,
    url(pathOrLink, statementId) {
      const url = new URL(pathOrLink, base);
      if (url.origin !== origin) {
        // Following it would hand the bearer token to another host.
        throw databricksError('protocol', `the API pointed at another origin (${scrub(url.origin)})`, { statementId });
      }
      return url;
    },
    async request(method, url, body, call, statementId) {
      const what = `${method} ${url.pathname}`;
      for (let attempt = 1; ; attempt++) {
        checkCall(call, statementId);
        let response: Response;
        try {
          response = await doFetch(url, {
            method,
            headers: headers(body !== undefined),
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            signal: call.signal,
          });
        } catch (error) {
          if (call.signal.aborted) throw call.stopped(statementId);
          // A refused or reset connection on a read is retried; a submit is not, as it may have arrived.
          const wait = jitter(RETRY_BASE_MS * 2 ** (attempt - 1));
          if (method === 'GET' && attempt < options.maxAttempts && wait < call.at - Date.now()) {
            await pause(wait, call, statementId);
            continue;
          }
          throw databricksError('unavailable', `could not reach Databricks at ${origin} (${scrub(describeNetworkFailure(error))})`, { statementId });
        }

        if (response.status === 429 || response.status === 503) {
          const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
          const error = await readError(response);
          const wait = retryAfter !== undefined ? retryAfter * 1000 : jitter(RETRY_BASE_MS * 2 ** (attempt - 1));
          if (attempt < options.maxAttempts && wait < call.at - Date.now()) {
            await pause(wait, call, statementId);
            continue;
          }
          const why = attempt < options.maxAttempts ? 'retrying would pass the deadline' : `gave up after ${attempt} attempts`;
          throw databricksError(
            response.status === 429 ? 'throttled' : 'unavailable',
            `Databricks is unavailable: ${what} answered ${summary(response.status, error)} (${why})`,
            { statementId, status: response.status, errorType: error.errorCode, attempts: attempt },
            retryAfter,
          );
        }
        if (response.status === 401 || response.status === 403) {
          const error = await readError(response);
          throw databricksError('auth', `Databricks refused the credentials: ${what} answered ${summary(response.status, error)}`, {
            statementId,
            status: response.status,
            errorType: error.errorCode,
          });
        }
        if (!response.ok) {
          const error = await readError(response);
          throw databricksError(response.status >= 500 ? 'unavailable' : 'rejected', `${what} answered ${summary(response.status, error)}`, {
            statementId,
            status: response.status,
            errorType: error.errorCode,
          });
        }

        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          if (call.signal.aborted) throw call.stopped(statementId);
          throw databricksError('unavailable', `the connection to Databricks broke while reading ${what} (${scrub(describeNetworkFailure(error))})`, {
            statementId,
          });
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw databricksError('protocol', `${what} answered with a body that is not valid JSON (${text.length} bytes)`, { statementId });
        }
      }
    },
    async bestEffortPost(url, timeoutMs) {
      try {
        const response = await doFetch(url, { method: 'POST', headers: headers(false), signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel().catch(() => undefined);
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}

