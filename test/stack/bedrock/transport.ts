import { createServer as createHttp1Server } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface IncomingCall {
  readonly method: string;
  /** Path and query exactly as sent, percent-encoding intact. */
  readonly rawUrl: string;
  /** Lower-case names; over HTTP/2 the pseudo-headers (`:authority`, …) are included. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface OutgoingReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Written one after another: a plain body is a single chunk. */
  readonly chunks: readonly Buffer[];
}

export type CallHandler = (call: IncomingCall) => Promise<OutgoingReply>;

export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

// The Node AWS SDK talks HTTP/2 with prior knowledge to http:// endpoints (h2c), while fetch-based
// clients (the Worker) talk HTTP/1.1; one port serves both by looking at the connection's first bytes.
const HTTP2_PREFACE_START = Buffer.from('PRI');

export async function listenHttp1And2(handler: CallHandler, port: number, host: string): Promise<Listener> {
  const serve = (request: AnyRequest, response: AnyResponse) => {
    void respond(handler, request, response);
  };
  const http1 = createHttp1Server(serve);
  const http2 = createHttp2Server(serve);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const target = first.subarray(0, HTTP2_PREFACE_START.length).equals(HTTP2_PREFACE_START) ? http2 : http1;
      target.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function respond(handler: CallHandler, request: AnyRequest, response: AnyResponse): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
    const reply = await handler({
      method: request.method ?? 'GET',
      rawUrl: request.url ?? '/',
      headers: request.headers,
      body: Buffer.concat(chunks),
    });
    const out = response as ServerResponse;
    out.writeHead(reply.status, reply.headers);
    for (const chunk of reply.chunks) out.write(chunk);
    out.end();
  } catch (error) {
    const out = response as ServerResponse;
    if (out.headersSent) {
      out.destroy();
      return;
    }
    const body = JSON.stringify({ message: `Internal error in the local Bedrock stand-in: ${(error as Error).message}` });
    out.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' });
    out.end(body);
  }
}
