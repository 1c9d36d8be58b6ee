import { createParser } from 'eventsource-parser';
import { parseClarifierEvent } from '../../../worker/clarifier/events.ts';
import type { ClarifierEvent } from '../../../worker/clarifier/events.ts';

/** An event that did not fit its schema (or had no name the clarifier sends): shown, never applied. */
export interface UnreadableEvent {
  event: 'unreadable';
  name: string;
}

/**
 * The clarifier's Server-Sent Events as they arrive, each checked against the schema the route
 * sends it with (worker/clarifier/events.ts). The stream's own framing (split lines, comments,
 * multi-line data) is eventsource-parser's.
 */
export async function* clarifierEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ClarifierEvent | UnreadableEvent> {
  const parsed: Array<ClarifierEvent | UnreadableEvent> = [];
  // The SSE default name is `message`; the parser leaves an unnamed event's name undefined.
  const parser = createParser({
    onEvent: ({ event = 'message', data }) => parsed.push(parseClarifierEvent(event, data) ?? { event: 'unreadable', name: event }),
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(decoder.decode(value, { stream: true }));
    yield* parsed.splice(0);
  }
}
