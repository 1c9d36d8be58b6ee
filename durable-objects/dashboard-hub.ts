import { DurableObject } from 'cloudflare:workers';
import { ClientMessageSchema, MAX_CLIENT_MESSAGE_BYTES, PublishSchema } from './protocol.ts';
import type { HubMessage, PublishInput } from './protocol.ts';
import type { Bindings } from '../worker/env.ts';

/** How many messages the hub keeps for reconnecting clients. */
export const REPLAY_LOG_LIMIT = 1_000;

interface SocketAttachment {
  subject: string;
  connectedAt: string;
}

export interface HubStats {
  connections: number;
  lastSeq: number;
  oldestSeq: number | null;
}

/** RPC results carry refusals as values: a thrown error would cross the RPC boundary twice. */
export type PublishResult =
  | { ok: true; seq: number; delivered: number }
  | { ok: false; reason: 'invalid_message'; issues: string[] };

/**
 * One hub per dashboard: accepts sockets with the Hibernation API (so idle dashboards cost
 * nothing), assigns `seq`, keeps a bounded replay log in SQLite and fans messages out.
 */
export class DashboardHub extends DurableObject<Bindings> {
  private lastSeq = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    // Schema and the sequence counter are ready before the first request or socket event.
    void ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS replay_log (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        body TEXT NOT NULL
      )`);
      const row = sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM replay_log').one();
      this.lastSeq = row.seq ?? 0;
    });
  }

  /** WebSocket upgrade, forwarded by the worker after it has authenticated the caller. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const url = new URL(request.url);
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;
    const subject = request.headers.get('x-hub-subject') ?? 'anonymous';

    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [subject]);
    server.serializeAttachment({ subject, connectedAt: new Date().toISOString() } satisfies SocketAttachment);
    this.send(server, { type: 'hello', seq: this.lastSeq, ts: new Date().toISOString() });
    this.catchUp(server, since);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Typed RPC: persist, assign the next seq, fan out. Invalid input is refused, never stored. */
  async publish(input: PublishInput): Promise<PublishResult> {
    const result = PublishSchema.safeParse(input);
    if (!result.success) {
      return { ok: false, reason: 'invalid_message', issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
    }
    const parsed = result.data;
    const seq = ++this.lastSeq;
    const ts = new Date().toISOString();
    const message: HubMessage = { type: parsed.type, seq, ts, data: parsed.data };
    // Serialise once; every socket gets the same bytes.
    const body = JSON.stringify(message);
    const sql = this.ctx.storage.sql;
    sql.exec('INSERT INTO replay_log (seq, type, ts, body) VALUES (?, ?, ?, ?)', seq, parsed.type, ts, body);
    sql.exec('DELETE FROM replay_log WHERE seq <= ?', seq - REPLAY_LOG_LIMIT);
    return { ok: true, seq, delivered: this.broadcast(body) };
  }

  async stats(): Promise<HubStats> {
    const row = this.ctx.storage.sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one();
    return { connections: this.ctx.getWebSockets().length, lastSeq: this.lastSeq, oldestSeq: row.oldest };
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const size = typeof raw === 'string' ? raw.length : raw.byteLength;
      if (size > MAX_CLIENT_MESSAGE_BYTES) {
        ws.close(1009, 'message too large');
        return;
      }
      const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
      const parsed = ClientMessageSchema.safeParse(safeJson(text));
      if (!parsed.success) {
        this.send(ws, { type: 'error', seq: this.lastSeq, ts: new Date().toISOString(), code: 'bad_message' });
        return;
      }
      if (parsed.data.type === 'ping') {
        this.send(ws, { type: 'pong', seq: this.lastSeq, ts: new Date().toISOString() });
      } else {
        this.catchUp(ws, parsed.data.since);
      }
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', msg: 'hub message handler failed', error: String(err) }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Answer the close frame so the client's close handshake completes.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.warn(JSON.stringify({ level: 'warn', msg: 'hub socket error', error: String(error) }));
    try {
      ws.close(1011, 'socket error');
    } catch {
      // Already closed.
    }
  }

  /** Sends what a client missed after `since`, or a snapshot marker when the log no longer covers it. */
  private catchUp(ws: WebSocket, since: number | null): void {
    if (since === null) return;
    const sql = this.ctx.storage.sql;
    const oldest = sql.exec<{ oldest: number | null }>('SELECT MIN(seq) AS oldest FROM replay_log').one().oldest;
    const coverable = since >= this.lastSeq || (oldest !== null && since >= oldest - 1);
    if (since > this.lastSeq || !coverable) {
      // A future seq (hub storage was reset) or a gap older than the log: start over from a snapshot.
      this.send(ws, { type: 'snapshot', seq: this.lastSeq, ts: new Date().toISOString(), reason: since > this.lastSeq ? 'ahead' : 'gap_too_old' });
      return;
    }
    for (const row of sql.exec<{ body: string }>('SELECT body FROM replay_log WHERE seq > ? ORDER BY seq', since)) {
      ws.send(row.body);
    }
  }

  private broadcast(body: string): number {
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(body);
        delivered++;
      } catch {
        // A socket that cannot take a message is gone; drop it rather than stall the rest.
        try {
          ws.close(1011, 'send failed');
        } catch {
          // Already closed.
        }
      }
    }
    return delivered;
  }

  private send(ws: WebSocket, message: HubMessage): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed between accept and send; its close handler cleans up.
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
