import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME, PONG_FRAME } from '../../durable-objects/protocol.ts';

/**
 * The plain Node `ws` broadcast server the hub is measured against. It speaks the hub's frames
 * (hello, one frame per message or one `batch` frame, pong) but keeps no log and checks nothing,
 * so it is the floor for fan-out on this machine. It runs in its own process, as workerd does,
 * and the bench drives it over IPC the way it drives the hub over RPC.
 */

export interface BaselineMessage {
  type: string;
  data: Record<string, unknown>;
}

export interface WsBaseline {
  url: string;
  /** Publishes messages as one frame each, or as one `batch` frame. */
  publish(messages: BaselineMessage[], batch: boolean): Promise<{ seq: number; delivered: number }>;
  close(): Promise<void>;
}

type Request = { id: number; messages: BaselineMessage[]; batch: boolean };
type Reply = { id: number; seq: number; delivered: number };

export async function startWsBaseline(options: { timeoutMs?: number } = {}): Promise<WsBaseline> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execPath: process.execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ws baseline did not start')), options.timeoutMs ?? 10_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ws baseline exited with ${code}`));
    });
  });
  const pending = new Map<number, (reply: Reply) => void>();
  child.on('message', (m) => {
    const reply = m as Reply;
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  let nextId = 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    publish(messages, batch) {
      const id = ++nextId;
      return new Promise((resolve) => {
        pending.set(id, (r) => resolve({ seq: r.seq, delivered: r.delivered }));
        child.send({ id, messages, batch } satisfies Request);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.disconnect();
      });
    },
  };
}

function serve(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4_096 });
  let seq = 0;
  // Where each client says it stands: the server reads every ack as the hub does.
  const acked = new WeakMap<object, number>();
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'hello', seq, ts: new Date().toISOString(), heartbeat_ms: HEARTBEAT_INTERVAL_MS, ack_ms: ACK_INTERVAL_MS }));
    ws.on('message', (data) => {
      const text = String(data);
      if (text === PING_FRAME) return void ws.send(PONG_FRAME);
      const ack = /^\{"type":"ack","seq":(\d{1,15})\}$/.exec(text);
      if (ack && Number(ack[1]) <= seq) acked.set(ws, Math.max(acked.get(ws) ?? 0, Number(ack[1])));
    });
  });
  wss.on('listening', () => process.send?.({ port: (wss.address() as { port: number }).port }));
  process.on('message', (m) => {
    const { id, messages, batch } = m as Request;
    const ts = new Date().toISOString();
    const first = seq + 1;
    const bodies = messages.map((msg, i) => `{"type":"${msg.type}","seq":${first + i},"ts":"${ts}","data":${JSON.stringify(msg.data)}}`);
    seq += messages.length;
    // Encoded once: ws would otherwise turn the same string into bytes for every client.
    const frames = (batch && bodies.length > 1 ? [`{"type":"batch","seq":${seq},"ts":"${ts}","messages":[${bodies.join(',')}]}`] : bodies).map((b) =>
      Buffer.from(b),
    );
    let delivered = 0;
    for (const client of wss.clients) {
      if (client.readyState !== client.OPEN) continue;
      for (const frame of frames) client.send(frame, { binary: false });
      delivered++;
    }
    process.send?.({ id, seq, delivered } satisfies Reply);
  });
  // The bench owns this process: when it goes, so do we.
  process.on('disconnect', () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  });
}

if (process.argv.includes('--serve') && process.send) serve();
