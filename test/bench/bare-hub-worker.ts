import { DurableObject } from 'cloudflare:workers';
import { PING_FRAME, PONG_FRAME } from '../../durable-objects/protocol.ts';

/**
 * The least a Durable Object can do to fan a message out: the same runtime, Hibernation API and
 * frames as DashboardHub, with nothing else (no replay log, no auth, no acks, no coalescing).
 * The fan-out bench measures it beside the hub and the plain `ws` server, so the report separates
 * what the runtime costs per frame from what the hub adds on top. Used by `npm run bench` only.
 *   GET /bare                   → "ok"
 *   GET /livez                  → {"live":true}, as the app answers (user-worker.ts looks for it)
 *   GET /stream?hub=<name>      → a WebSocket on that hub (hello, then every published message)
 *   RPC publish / publishBatch  → stamped with a seq and sent to every socket at once
 */
interface Env {
  BARE_HUB: DurableObjectNamespace<BareHub>;
}

interface Message {
  type: string;
  data: unknown;
}

export class BareHub extends DurableObject<Env> {
  private seq = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

  override async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    server.send(`{"type":"hello","seq":${this.seq},"ts":"${new Date().toISOString()}"}`);
    return new Response(null, { status: 101, webSocket: client });
  }

  async publish(message: Message): Promise<{ ok: true; seq: number; delivered: number }> {
    const seq = ++this.seq;
    return { ok: true, seq, delivered: this.send(`{"type":"${message.type}","seq":${seq},"ts":"${new Date().toISOString()}","data":${JSON.stringify(message.data)}}`) };
  }

  async publishBatch(messages: Message[]): Promise<{ ok: true; seq: number; delivered: number }> {
    const ts = new Date().toISOString();
    const bodies = messages.map((m) => `{"type":"${m.type}","seq":${++this.seq},"ts":"${ts}","data":${JSON.stringify(m.data)}}`);
    return { ok: true, seq: this.seq, delivered: this.send(`{"type":"batch","seq":${this.seq},"ts":"${ts}","messages":[${bodies.join(',')}]}`) };
  }

  private send(frame: string): number {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.send(frame);
    return sockets.length;
  }

  override webSocketMessage(): void {
    // Acks and the like are read and ignored: the cost of the event, nothing more.
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code);
    } catch {
      // Already closed.
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const hub = env.BARE_HUB.get(env.BARE_HUB.idFromName(url.searchParams.get('hub') ?? 'bench'));
    if (url.pathname === '/bare') return new Response('ok');
    if (url.pathname === '/livez') return Response.json({ live: true });
    if (url.pathname === '/stream' && request.headers.get('upgrade') === 'websocket') return hub.fetch(request);
    return new Response('not found', { status: 404 });
  },
};
