import { signal } from '@preact/signals';
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, PING_FRAME, ServerFrameSchema, ackDelayMs } from '../../../durable-objects/protocol.ts';
import type { ClientMessage, HubMessageType, PublishedFrame, SnapshotFrame } from '../../../durable-objects/protocol.ts';

/**
 * The one client of the hub's stream (/v1/dashboard/stream, same-origin cookie auth) for every
 * island: reconnects with backoff, resumes from the last applied seq, pings and acks at the
 * protocol's intervals, and validates every frame before anyone sees it. Islands reach it through
 * the page's store (store.ts), never directly.
 *
 * Reconnection is these few lines rather than `partysocket`: that library (8.6 KiB minified,
 * 2.9 KiB gzipped, plus an EventTarget polyfill) would roughly double this module on the
 * dashboard's first view, and the parts that matter here (the `?since=` of the last applied seq
 * on every attempt, going quiet while the browser is offline, acks and resumes) are the hub's
 * protocol, which it would not know anyway.
 */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting';
type Handler<T> = (message: T) => void;
export type Messages = { [K in Exclude<HubMessageType, 'snapshot'>]: PublishedFrame & { type: K } } & { snapshot: SnapshotFrame };

/** What the stream needs from its surroundings, so tests can drive it with a fake socket and clock. */
export interface StreamDeps {
  url: (since: number | null) => string;
  socket: (url: string) => Pick<WebSocket, 'send' | 'close' | 'readyState' | 'onopen' | 'onmessage' | 'onclose'>;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
  /** 0 to 1: where in the ack interval this connection acks (protocol.ts `ackDelayMs`). */
  random?: () => number;
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
  /** The last seq applied, or null before the first hello. */
  const seq = signal<number | null>(null);
  const handlers = new Map<string, Set<Handler<never>>>();
  let ws: ReturnType<StreamDeps['socket']> | null = null;
  /** A resume is under way: frames past the gap wait for its replay instead of asking again. */
  let resuming = false;
  let retry = 0;
  let stopped = true;
  let ackMs = ACK_INTERVAL_MS;
  /** This connection's place in the ack interval, drawn when it opens. */
  let ackSpread = 1;
  let heartbeatMs = HEARTBEAT_INTERVAL_MS;
  let ping: unknown;
  let ackTimer: unknown;
  let reconnectTimer: unknown;

  const emit = (type: string, message: unknown) => {
    for (const h of handlers.get(type) ?? []) (h as Handler<unknown>)(message);
  };
  const send = (message: ClientMessage) => ws?.readyState === OPEN && ws.send(JSON.stringify(message));
  // The hub may overlap a resume with live frames: anything at or below the last seq is already
  // applied. A jump past last+1 means frames were missed: ask for them once, and skip what comes
  // past the gap until the replay (which carries it too) arrives.
  const apply = (m: PublishedFrame) => {
    const last = seq.peek();
    if (last !== null && m.seq <= last) return;
    if (last !== null && m.seq > last + 1) {
      if (!resuming) send({ type: 'resume', since: last });
      resuming = true;
      return;
    }
    resuming = false;
    seq.value = m.seq;
    emit(m.type, m);
  };
  const ack = () => {
    ackTimer = undefined;
    const last = seq.peek();
    if (last !== null) send({ type: 'ack', seq: last });
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
        if (seq.peek() === null) seq.value = frame.seq;
        if (frame.ack_ms) ackMs = frame.ack_ms;
        if (frame.heartbeat_ms) heartbeatMs = frame.heartbeat_ms;
        return;
      case 'snapshot':
        // The log no longer covers the last seq: state is refetched over HTTP and the stream continues here.
        resuming = false;
        seq.value = frame.seq;
        emit('snapshot', frame);
        break;
      case 'batch':
        for (const m of frame.messages) apply(m);
        break;
      default:
        apply(frame);
    }
    ackTimer ??= deps.setTimeout(ack, ackDelayMs(ackMs, ackSpread));
  }

  function connect() {
    const socket = deps.socket(deps.url(seq.peek()));
    ws = socket;
    ackSpread = (deps.random ?? Math.random)();
    resuming = false;
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
    seq,
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
    /** Offline, the socket is dropped at once; online() reconnects and resumes from the last seq. */
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
