// zod/mini, like the hub's protocol: the add-tile dialog parses every event with these same
// schemas, and the full zod build would weigh on the site's bundle.
import * as z from 'zod/mini';

/**
 * The Server-Sent Events of POST /v1/widgets/clarify, one schema per event name. The route sends
 * through these types and the site's dialog validates what it receives with them, so neither side
 * can drift from the other.
 */

/** The assistant's turn, in words. */
const MessageEventSchema = z.object({ role: z.literal('assistant'), text: z.string() });

/** What the clarifier needs next, and which spec fields are still missing. */
const QuestionEventSchema = z.object({ text: z.string(), missing: z.array(z.string()) });

/**
 * A spec that passed the same checks as POST /v1/widgets. Its fields pass through unchecked
 * beyond the ones the dialog shows: the client sends the spec back as it came.
 */
const SpecEventSchema = z.object({
  spec: z.looseObject({ title: z.string(), metric: z.string(), visualization: z.string(), time_window: z.unknown() }),
  source: z.enum(['template', 'bedrock']),
  metric: z.object({ name: z.string(), version: z.int(), display_name: z.string(), unit: z.string() }),
});

/** A problem object (RFC 9457 with the API's stable `code`); the stream is already 200 when it is sent. */
const ErrorEventSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string(),
  request_id: z.string(),
  errors: z.optional(z.array(z.object({ pointer: z.string(), message: z.string() }))),
});

/** Always last: the conversation to continue, and whether it holds a finished spec. */
const DoneEventSchema = z.object({ conversation_id: z.string(), status: z.enum(['open', 'complete']) });

export const CLARIFIER_EVENTS = {
  message: MessageEventSchema,
  question: QuestionEventSchema,
  spec: SpecEventSchema,
  error: ErrorEventSchema,
  done: DoneEventSchema,
} as const;

export type ClarifierEventName = keyof typeof CLARIFIER_EVENTS;
/** What the route may send as `event`'s data. */
export type ClarifierEventData<E extends ClarifierEventName> = z.input<(typeof CLARIFIER_EVENTS)[E]>;
/** One event as the client receives it, narrowed by its name. */
export type ClarifierEvent = { [E in ClarifierEventName]: { event: E; data: z.output<(typeof CLARIFIER_EVENTS)[E]> } }[ClarifierEventName];

const isEventName = (name: string): name is ClarifierEventName => Object.hasOwn(CLARIFIER_EVENTS, name);

/** One SSE record checked against its event's schema; null for an unknown name or data that does not fit. */
export function parseClarifierEvent(event: string, data: string): ClarifierEvent | null {
  if (!isEventName(event)) return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = CLARIFIER_EVENTS[event].safeParse(json);
  return parsed.success ? ({ event, data: parsed.data } as ClarifierEvent) : null;
}
