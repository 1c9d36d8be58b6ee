import { signal } from '@preact/signals';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME, ServerFrameSchema } from '../../../durable-objects/protocol.ts';
import type { HubMessageType, PublishedFrame, SnapshotFrame } from '../../../durable-objects/protocol.ts';

/**
 * The one client of the hub's stream (/v1/dashboard/stream, same-origin cookie auth) for every
 * island: reconnects with backoff, resumes from the last applied seq, pings and acks at the
 * protocol's intervals, and validates every frame before anyone sees it.
 */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting';
type Handler<T> = (message: T) => void;
type Messages = { [K in Exclude<HubMessageType, 'snapshot'>]: PublishedFrame & { type: K } } & { snapshot: SnapshotFrame };

/** What the stream needs from its surroundings, so tests can drive it with a fake socket and clock. */
export interface StreamDeps {
  url: (since: number | null) => string;
  socket: (url: string) => Pick<WebSocket, 'send' | 'close' | 'readyState' | 'onopen' | 'onmessage' | 'onclose'>;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
}

const browserDeps = (): StreamDeps => ({
  url: (since) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/dashboard/stream${since === null ? '' : `?since=${since}`}`,
  socket: (url) => new WebSocket(url),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
});

const OPEN = 1;
const MAX_RETRY = 6;

export function createStream(deps: StreamDeps = browserDeps()) {
  const status = signal<StreamStatus>('connecting');
  /** Frames that failed their schema: dropped, never applied. */
  const invalid = signal(0);
  const handlers = new Map<string, Set<Handler<never>>>();
  let ws: ReturnType<StreamDeps['socket']> | null = null;
  let lastSeq: number | null = null;
  let retry = 0;
  let stopped = true;
  let ackMs = ACK_INTERVAL_MS;
  let heartbeatMs = HEARTBEAT_INTERVAL_MS;
  let ping: unknown;
  let ackTimer: unknown;
  let reconnectTimer: unknown;

  const emit = (type: string, message: unknown) => {
    for (const h of handlers.get(type) ?? []) (h as Handler<unknown>)(message);
  };
  // The hub may overlap a resume with live frames: anything at or below lastSeq is already applied.
  const apply = (m: PublishedFrame) => {
    if (lastSeq !== null && m.seq <= lastSeq) return;
    lastSeq = m.seq;
    emit(m.type, m);
  };
  const ack = () => {
    ackTimer = undefined;
    if (lastSeq !== null && ws?.readyState === OPEN) ws.send(JSON.stringify({ type: 'ack', seq: lastSeq }));
  };
  const beat = () => {
    if (ws?.readyState === OPEN) ws.send(PING_FRAME);
    ping = deps.setTimeout(beat, heartbeatMs);
  };

  function receive(raw: unknown) {
    let json: unknown;
    try {
      json = JSON.parse(String(raw));
    } catch {
      json = undefined;
    }
    const parsed = ServerFrameSchema.safeParse(json);
    if (!parsed.success) {
      invalid.value++;
      console.warn('dropped an invalid hub frame', parsed.error.issues[0]?.message);
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case 'pong':
      case 'error':
        return;
      case 'hello':
        lastSeq ??= frame.seq;
        if (frame.ack_ms) ackMs = frame.ack_ms;
        if (frame.heartbeat_ms) heartbeatMs = frame.heartbeat_ms;
        return;
      case 'snapshot':
        // The log no longer covers lastSeq: state is refetched over HTTP and the stream continues here.
        lastSeq = frame.seq;
        emit('snapshot', frame);
        break;
      case 'batch':
        for (const m of frame.messages) apply(m);
        break;
      default:
        apply(frame);
    }
    ackTimer ??= deps.setTimeout(ack, ackMs);
  }

  function connect() {
    const socket = deps.socket(deps.url(lastSeq));
    ws = socket;
    socket.onopen = () => {
      retry = 0;
      status.value = 'live';
      ping = deps.setTimeout(beat, heartbeatMs);
    };
    socket.onmessage = (e) => ws === socket && receive(e.data);
    socket.onclose = () => {
      if (ws !== socket) return;
      deps.clearTimeout(ping);
      deps.clearTimeout(ackTimer);
      ackTimer = undefined;
      ws = null;
      if (stopped) return;
      status.value = 'reconnecting';
      if (typeof navigator !== 'undefined' && navigator.onLine === false) return;
      retry = Math.min(retry + 1, MAX_RETRY);
      reconnectTimer = deps.setTimeout(() => !stopped && !ws && connect(), 250 * 2 ** retry);
    };
  }

  return {
    status,
    invalid,
    /** The last seq applied, or null before the first hello. */
    lastSeq: () => lastSeq,
    subscribe<K extends keyof Messages>(type: K, handler: Handler<Messages[K]>): () => void {
      let set = handlers.get(type);
      if (!set) handlers.set(type, (set = new Set()));
      set.add(handler as Handler<never>);
      return () => set.delete(handler as Handler<never>);
    },
    start() {
      if (!stopped) return;
      stopped = false;
      connect();
    },
    /** Offline, the socket is dropped at once; online() reconnects and resumes from lastSeq. */
    offline() {
      ws?.close();
    },
    online() {
      if (!stopped && !ws) {
        deps.clearTimeout(reconnectTimer);
        connect();
      }
    },
    stop() {
      stopped = true;
      deps.clearTimeout(reconnectTimer);
      ws?.close();
    },
    /** For tests: hand a raw frame in as if it came off the socket. */
    receive,
  };
}

export type Stream = ReturnType<typeof createStream>;
