// zod/mini: the site parses every frame with these same schemas, and the full zod build would
// more than double the dashboard's first-view JavaScript.
import * as z from 'zod/mini';

/** Message types the hub fans out (DESIGN.md, WebSocket contract). */
export const HUB_MESSAGE_TYPES = [
  'snapshot',
  'kpi_update',
  'event',
  'widget_data',
  'agent_action',
  'incident_status',
  'performance_metrics',
  'signal_update',
  'layout_update',
] as const;

export type HubMessageType = (typeof HUB_MESSAGE_TYPES)[number];

/** What a publisher hands the hub; seq and ts are the hub's to assign. */
/** Published by the hub itself, never by a publisher. */
export const PUBLISHABLE_TYPES = HUB_MESSAGE_TYPES.filter((t): t is Exclude<HubMessageType, 'snapshot'> => t !== 'snapshot');

export const PublishSchema = z.strictObject({
  type: z.enum(PUBLISHABLE_TYPES),
  data: z.record(z.string(), z.unknown()),
});
export type PublishInput = z.infer<typeof PublishSchema>;

/**
 * Every frame the hub sends is one JSON object `{type, seq, ts, ...}`:
 * - `hello` on connect: `seq` is the hub's latest; also carries `heartbeat_ms` and `ack_ms`.
 * - a published message (`event`, `kpi_update`, …): `seq` is its own, strictly increasing per hub.
 * - `batch`: `{type:'batch', seq, ts, messages:[…]}` carries consecutive published messages, each
 *   with its own `seq`; the frame's `seq` is the last one. Apply `messages` in order, exactly as
 *   if they had arrived one frame each. Replays after `resume`/`?since=` always come one frame per
 *   message, so a client may resume from any `seq`, including one inside a batch.
 * - `snapshot`: the log no longer covers the client's `since` (or it is ahead of the hub); refetch
 *   state over HTTP and continue from this frame's `seq`.
 * - `pong`, `error`.
 * A client keeps the last `seq` it applied and ignores any message at or below it: a `resume` over
 * an open socket may overlap what is still arriving live. A jump past last+1 means something was
 * missed; send `resume` with the last applied seq.
 */
export interface HubMessage {
  type: HubMessageType | 'hello' | 'error' | 'pong' | 'batch';
  seq: number;
  ts: string;
  [key: string]: unknown;
}

const Seq = z.int().check(z.minimum(0));
const Ts = z.string();

/**
 * Types whose latest message is current state rather than news: the hub keeps the last one of
 * each and hands it to every client in its `hello`, so a client that connects has the running
 * incident figures at once (the seed's "initial metrics" on connect).
 */
export const RETAINED_TYPES = ['performance_metrics'] as const satisfies readonly HubMessageType[];

/** One published message; `data` is whatever its publisher validated (PublishSchema). */
export const PublishedFrameSchema = z.object({
  type: z.enum(PUBLISHABLE_TYPES),
  seq: Seq,
  ts: Ts,
  data: z.record(z.string(), z.unknown()),
});

/**
 * First frame on every connection: where the hub stands and the intervals it asks the client to
 * keep. `retained` carries the last message of each RETAINED_TYPES type, with the seq it was
 * published at (at or below the hello's): apply them as current state, whatever their seq.
 */
export const HelloFrameSchema = z.object({
  type: z.literal('hello'),
  seq: Seq,
  ts: Ts,
  heartbeat_ms: z.optional(z.int().check(z.positive())),
  ack_ms: z.optional(z.int().check(z.positive())),
  retained: z.optional(z.array(PublishedFrameSchema)),
});

export const BatchFrameSchema = z.object({ type: z.literal('batch'), seq: Seq, ts: Ts, messages: z.array(PublishedFrameSchema) });
export const SnapshotFrameSchema = z.object({ type: z.literal('snapshot'), seq: Seq, ts: Ts, reason: z.optional(z.string()) });
/** The runtime's own answer to PING_FRAME carries no seq; the hub's answer to other pings does. */
export const PongFrameSchema = z.object({ type: z.literal('pong'), seq: z.optional(Seq), ts: z.optional(Ts) });
export const ErrorFrameSchema = z.object({ type: z.literal('error'), seq: Seq, ts: Ts, code: z.optional(z.string()) });

/** Every frame the hub sends. Unknown keys are allowed so the hub can add fields without breaking clients. */
export const ServerFrameSchema = z.discriminatedUnion('type', [
  HelloFrameSchema,
  PublishedFrameSchema,
  BatchFrameSchema,
  SnapshotFrameSchema,
  PongFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type PublishedFrame = z.infer<typeof PublishedFrameSchema>;
export type HelloFrame = z.infer<typeof HelloFrameSchema>;
export type SnapshotFrame = z.infer<typeof SnapshotFrameSchema>;

/**
 * What a client may send over its socket.
 * - `ping`: liveness (see HEARTBEAT_INTERVAL_MS). Send exactly PING_FRAME: the runtime answers
 *   PONG_FRAME itself without waking the hub; any other spelling works but costs a wake-up.
 * - `ack`: the last `seq` the client has applied (see ACK_INTERVAL_MS).
 * - `resume`: replay what came after `since` over the open socket.
 */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('ack'), seq: z.int().check(z.minimum(0)) }),
  z.strictObject({ type: z.literal('resume'), since: z.int().check(z.minimum(0)) }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

export const MAX_CLIENT_MESSAGE_BYTES = 4_096;

/**
 * Heartbeats. Clients send PING_FRAME every HEARTBEAT_INTERVAL_MS; the hub's alarm sweeps every
 * HEARTBEAT_SWEEP_MS and closes, with CLOSE_CODES.heartbeatTimeout, any socket that has neither
 * pinged nor sent anything else for HEARTBEAT_TIMEOUT_MS (three missed pings), so a dead socket
 * goes within 90–120 s. The sweep runs only while sockets are connected, so an empty hub sleeps.
 */
export const HEARTBEAT_INTERVAL_MS = 30_000;
export const HEARTBEAT_TIMEOUT_MS = 90_000;
export const HEARTBEAT_SWEEP_MS = 30_000;

/**
 * Slow consumers. Hibernatable server sockets in workerd expose no `bufferedAmount` and `send()`
 * never blocks or fails for a peer that stops reading: the runtime queues the frames in the hub's
 * memory. A socket that never reads cannot stall the others (every send is fire-and-forget), but
 * it would grow the hub until the whole object is reset. So the hub asks clients to acknowledge:
 * after applying messages a client sends `{"type":"ack","seq":<last applied>}`, at most once per
 * ACK_INTERVAL_MS and within that interval of receiving anything new (an idle stream sends no
 * acks, so hibernation is unaffected). Each client waits its own share of the interval
 * (`ackDelayMs`, a spread it draws once per connection), because every socket receives a fan-out
 * at the same moment: acks due a fixed time after it would all arrive together, and every ack is
 * an event on the edge's one thread (a burst of a thousand holds up whatever shares it). The
 * interval is long for the same reason: a client that keeps up costs the edge one event per ack.
 * A socket whose oldest unacknowledged message is older than SLOW_CLIENT_LAG_MS, or that holds
 * more than MAX_UNACKED_BYTES unacknowledged, is closed with CLOSE_CODES.slowConsumer; it
 * reconnects with `?since=<last applied>` and catches up from the replay log. Where the runtime
 * does report `bufferedAmount`, MAX_BUFFERED_BYTES applies too.
 */
export const ACK_INTERVAL_MS = 5_000;
/**
 * How long after receiving something new a client sends its ack: between half of `ackMs` and all
 * of it, by `spread` (0 to 1, drawn once per connection), so a fan-out's acks spread over half the
 * interval instead of landing together.
 */
export function ackDelayMs(ackMs: number, spread: number): number {
  return Math.round(ackMs * (0.5 + Math.min(1, Math.max(0, spread)) / 2));
}
export const SLOW_CLIENT_LAG_MS = 15_000;
export const MAX_UNACKED_BYTES = 8 * 1_048_576;
export const MAX_BUFFERED_BYTES = 4 * 1_048_576;

/** Limits on what a publisher may hand the hub; larger input is refused and nothing is stored. */
export const MAX_PUBLISH_BYTES = 64 * 1_024;
export const MAX_BATCH_MESSAGES = 500;
export const MAX_BATCH_BYTES = 1_048_576;

/**
 * What one socket may ask of the hub. Replays are the costly request (up to REPLAY_LOG_LIMIT
 * messages each), so `resume` has its own budget: RESUME_BUDGET per RESUME_WINDOW_MS, refilled
 * evenly. Every frame the hub itself reads (acks, resumes, pings other than PING_FRAME, which the
 * runtime answers without waking the hub) counts toward CLIENT_MESSAGES_PER_SECOND, with bursts up
 * to CLIENT_MESSAGE_BURST. A client keeping to the intervals above uses a small fraction of
 * either; going over closes the socket with CLOSE_CODES.rateLimited.
 *
 * Replayed bytes count toward MAX_UNACKED_BYTES like live ones until the client acknowledges
 * them, and an `ack` above the last seq the hub has sent is ignored (the socket keeps its
 * backlog), so a client cannot look caught up by claiming more than it was sent.
 */
export const RESUME_BUDGET = 5;
export const RESUME_WINDOW_MS = 60_000;
export const CLIENT_MESSAGES_PER_SECOND = 10;
export const CLIENT_MESSAGE_BURST = 30;

/**
 * Close codes the hub uses. On slowConsumer, heartbeatTimeout and sendFailed the client should
 * reconnect (with backoff) using `?since=<last applied seq>`; tooLarge means the client sent a
 * frame over MAX_CLIENT_MESSAGE_BYTES; rateLimited means it went over the resume or message budget
 * (reconnect after a backoff of at least a few seconds). credentialExpired: the session or token
 * the socket was opened with has expired; reconnect (a browser whose session was renewed gets in
 * again; otherwise the upgrade answers 401 and the user signs in). accessEnded: the session was
 * signed out, or the account was disabled or changed; do not reconnect, sign in again.
 */
export const CLOSE_CODES = {
  tooLarge: 1009,
  sendFailed: 1011,
  slowConsumer: 4001,
  heartbeatTimeout: 4002,
  rateLimited: 4003,
  credentialExpired: 4004,
  accessEnded: 4005,
} as const;
