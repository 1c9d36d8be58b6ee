import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { WebSocketServer as WSServer, WebSocket as WSocket } from 'ws';

// Loaded through require so vitest's workers plugin can never swap in its browser stub.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface PgBridge {
  /** Value for neonConfig.wsProxy: host:port/path, without protocol (the driver appends ?address=). */
  wsProxy: string;
  port: number;
  close(): Promise<void>;
}

export interface PgBridgeOptions {
  port?: number;
  host?: string;
  /** host:port pairs the bridge may connect to; anything else is refused. */
  allow: string[];
}

/**
 * What Neon's own proxy does: one WebSocket carries one Postgres wire-protocol connection.
 * The target comes from ?address=host:port and must be allowlisted, so the bridge is not an
 * open relay.
 */
export async function startPgBridge(options: PgBridgeOptions): Promise<PgBridge> {
  const host = options.host ?? '127.0.0.1';
  const allowed = new Set(options.allow);
  const wss: WSServer = new WebSocketServer({ host, port: options.port ?? 0, path: '/v2' });
  const sockets = new Set<net.Socket>();

  wss.on('connection', (ws: WSocket, req) => {
    const address = new URL(req.url ?? '/', 'http://bridge').searchParams.get('address') ?? '';
    if (!allowed.has(address)) {
      ws.close(1008, 'address not allowed');
      return;
    }
    const [targetHost, targetPort] = splitAddress(address);
    const tcp = net.connect({ host: targetHost, port: targetPort, noDelay: true });
    sockets.add(tcp);
    const framer = new TerminateDetector();
    const pending: Buffer[] = [];
    let connected = false;

    tcp.on('connect', () => {
      connected = true;
      for (const chunk of pending) tcp.write(chunk);
      pending.length = 0;
    });
    tcp.on('data', (data) => {
      if (ws.readyState === ws.OPEN) ws.send(data);
    });
    tcp.on('error', () => ws.close(1011, 'upstream error'));
    tcp.on('close', () => {
      sockets.delete(tcp);
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });

    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = toBuffer(data);
      if (connected) tcp.write(chunk);
      else pending.push(chunk);
      // Embedded servers ignore the Terminate message, so end the TCP side ourselves.
      if (framer.push(chunk)) tcp.end();
    });
    ws.on('close', () => tcp.end());
    ws.on('error', () => tcp.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    port,
    wsProxy: `${host}:${port}/v2`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data as Buffer;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Follows the frontend message framing (an untyped startup packet, then type byte + int32
 * length) just far enough to notice a Terminate ('X') message.
 */
export class TerminateDetector {
  private buffer = Buffer.alloc(0);
  private startupDone = false;

  push(chunk: Buffer): boolean {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (!this.startupDone) {
        if (this.buffer.length < 8) return false;
        const len = this.buffer.readInt32BE(0);
        if (this.buffer.length < len) return false;
        const code = this.buffer.readInt32BE(4);
        this.buffer = this.buffer.subarray(len);
        // SSLRequest (80877103) and GSSENCRequest (80877104) precede the real startup packet.
        if (code !== 80877103 && code !== 80877104) this.startupDone = true;
        continue;
      }
      if (this.buffer.length < 5) return false;
      const type = this.buffer[0];
      const len = this.buffer.readInt32BE(1);
      if (this.buffer.length < len + 1) return false;
      this.buffer = this.buffer.subarray(len + 1);
      if (type === 0x58) return true;
    }
  }
}
