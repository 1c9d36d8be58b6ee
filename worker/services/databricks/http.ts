// The transport under the client: one JSON request to the workspace with the bearer token, the call's
// deadline, retries for 429/503 that honour Retry-After, and HTTP failures mapped to typed errors.
// Every piece of server or network text passes through `scrub` before it can reach an error message.
import { jitter, sleepUntil } from './deadline.ts';
import type { Deadline } from './deadline.ts';
import {
  DatabricksAuthError,
  DatabricksHttpError,
  DatabricksProtocolError,
  DatabricksUnavailableError,
} from './errors.ts';
import { wireError } from './wire.ts';

export interface Transport {
  readonly origin: string;
  /** Resolves a path or an API-provided link against the workspace; links to other origins are refused. */
  url(pathOrLink: string, statementId?: string): URL;
  request(method: 'GET' | 'POST', url: URL, body: unknown, deadline: Deadline, statementId?: string): Promise<unknown>;
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

const MAX_MESSAGE = 500;
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

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
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

  const scrub = (text: string): string => {
    let out = token.length >= 4 ? text.split(token).join('[REDACTED]') : text;
    out = out.replace(/(bearer\s+)\S+/gi, '$1[REDACTED]');
    return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
  };

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
    return { errorCode: undefined, message: scrub(text.replace(/\s+/g, ' ').trim()) };
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
        throw new DatabricksProtocolError(`the API pointed at another origin (${scrub(url.origin)})`, { statementId });
      }
      return url;
    },
    async request(method, url, body, deadline, statementId) {
      const what = `${method} ${url.pathname}`;
      for (let attempt = 1; ; attempt++) {
        deadline.check(statementId);
        let response: Response;
        try {
          response = await doFetch(url, {
            method,
            headers: headers(body !== undefined),
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            signal: deadline.signal,
          });
        } catch (error) {
          if (deadline.signal.aborted) throw deadline.abortError(statementId);
          // A refused or reset connection on a read is retried; a submit is not, as it may have arrived.
          const wait = jitter(RETRY_BASE_MS * 2 ** (attempt - 1));
          if (method === 'GET' && attempt < options.maxAttempts && wait < deadline.remaining()) {
            await sleepUntil(wait, deadline, statementId);
            continue;
          }
          throw new DatabricksUnavailableError(`could not reach Databricks at ${origin} (${scrub(describeNetworkFailure(error))})`, { statementId });
        }

        if (response.status === 429 || response.status === 503) {
          const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
          const error = await readError(response);
          const wait = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : jitter(RETRY_BASE_MS * 2 ** (attempt - 1));
          if (attempt < options.maxAttempts && wait < deadline.remaining()) {
            await sleepUntil(wait, deadline, statementId);
            continue;
          }
          const why = attempt < options.maxAttempts ? 'retrying would pass the deadline' : `gave up after ${attempt} attempts`;
          throw new DatabricksUnavailableError(`Databricks is unavailable: ${what} answered ${summary(response.status, error)} (${why})`, {
            statementId,
            status: response.status,
            retryAfterSeconds,
          });
        }
        if (response.status === 401 || response.status === 403) {
          const error = await readError(response);
          throw new DatabricksAuthError(`Databricks refused the credentials: ${what} answered ${summary(response.status, error)}`, {
            statementId,
            status: response.status,
            errorCode: error.errorCode,
          });
        }
        if (!response.ok) {
          const error = await readError(response);
          throw new DatabricksHttpError(`${what} answered ${summary(response.status, error)}`, {
            statementId,
            status: response.status,
            errorCode: error.errorCode,
          });
        }

        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          if (deadline.signal.aborted) throw deadline.abortError(statementId);
          throw new DatabricksUnavailableError(`the connection to Databricks broke while reading ${what} (${scrub(describeNetworkFailure(error))})`, {
            statementId,
          });
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new DatabricksProtocolError(`${what} answered with a body that is not valid JSON (${text.length} bytes)`, { statementId });
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

