import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Backend, BackendMode } from './backend.ts';
import { DEFAULT_REDIS_URL, detectRedis } from './detect.ts';
import { encodeOutcome } from './encoding.ts';
import type { ResultEncoding } from './encoding.ts';
import { createMemoryBackend } from './memory-backend.ts';
import { createRedisBackend } from './redis-backend.ts';
import { parseRequest } from './request.ts';

export { detectRedis } from './detect.ts';

export interface UpstashServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** The bearer token clients must present. */
  token: string;
  /** The Redis to front, e.g. redis://127.0.0.1:6379/9 (the path is the DB index); defaults to the local one. */
  redisUrl?: string;
  /** Use the in-memory store even when a Redis answers. */
  memory?: boolean;
}

export interface UpstashServer {
  /** Base URL for `new Redis({ url, token })`. */
  readonly url: string;
  readonly port: number;
  /** `redis` when fronting a real Redis, `memory` when standing in with the in-memory store. */
  readonly mode: BackendMode;
  readonly token: string;
  close(): Promise<void>;
  /** Whether the Redis behind the server answers PING; always false in memory mode. */
  redisReachable(): Promise<boolean>;
  /** Stops accepting connections (and drops open ones) until `resume`; the port stays ours to reuse. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
}

const REDIS_PROBE_MS = 500;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

async function chooseBackend(options: UpstashServerOptions): Promise<Backend> {
  if (options.memory) return createMemoryBackend();
  const url = options.redisUrl ?? DEFAULT_REDIS_URL;
  if (!(await detectRedis(url, REDIS_PROBE_MS))) return createMemoryBackend();
  return createRedisBackend(url);
}

/** Starts an HTTP server speaking the Upstash Redis REST protocol in front of Redis (or the in-memory store). */
export async function startUpstashServer(options: UpstashServerOptions): Promise<UpstashServer> {
  const host = options.host ?? '127.0.0.1';
  const backend = await chooseBackend(options);
  const server = createServer((request, response) => {
    handle(backend, options.token, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: `ERR internal error: ${(error as Error).message}` });
      else response.destroy();
    });
  });
  let port: number;
  try {
    port = await listen(server, options.port ?? 0, host);
  } catch (error) {
    await backend.close();
    throw error;
  }
  let listening = true;

  async function pause(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections would otherwise go on serving requests while "down".
    server.closeAllConnections();
    await closed;
  }

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    mode: backend.mode,
    token: options.token,
    redisReachable: () => backend.redisReachable(REDIS_PROBE_MS),
    pause,
    async resume() {
      if (listening) return;
      await listen(server, port, host);
      listening = true;
    },
    async close() {
      await pause();
      await backend.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function tokenMatches(presented: string, expected: string): boolean {
  // Hashing first gives equal lengths, which the constant-time comparison needs.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function presentedToken(request: IncomingMessage, url: URL): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1] ?? null;
  }
  return url.searchParams.get('_token');
}

async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown, withBody = true): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(withBody ? text : undefined);
}

async function handle(backend: Backend, token: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? 'GET';
  const withBody = method !== 'HEAD';
  const url = new URL(request.url ?? '/', 'http://upstash.local');
  const presented = presentedToken(request, url);
  if (presented === null || !tokenMatches(presented, token)) {
    request.resume();
    return send(response, 401, { error: 'Unauthorized' }, withBody);
  }
  const body = await readBody(request);
  if (body === null) return send(response, 400, { error: 'ERR max request size exceeded' }, withBody);

  const parsed = parseRequest(method, url, body);
  const encodingHeader = request.headers['upstash-encoding'];
  const encoding: ResultEncoding = String(encodingHeader ?? '').toLowerCase() === 'base64' ? 'base64' : 'text';

  switch (parsed.kind) {
    case 'invalid':
      return send(response, parsed.status, { error: parsed.error }, withBody);
    case 'single': {
      const outcome = await backend.run(parsed.command);
      const status = outcome.ok ? 200 : outcome.unavailable ? 503 : 400;
      return send(response, status, encodeOutcome(outcome, encoding), withBody);
    }
    case 'pipeline': {
      const outcomes = await backend.pipeline(parsed.commands);
      return send(response, 200, outcomes.map((outcome) => encodeOutcome(outcome, encoding)), withBody);
    }
    case 'transaction': {
      const result = await backend.transaction(parsed.commands);
      if (!result.committed) return send(response, result.unavailable ? 503 : 400, { error: result.error }, withBody);
      return send(response, 200, result.outcomes.map((outcome) => encodeOutcome(outcome, encoding)), withBody);
    }
  }
}
