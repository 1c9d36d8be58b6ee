import { describe, expect, it } from 'vitest';
import { clarifierEvents } from '../../site/src/lib/clarifier-events.ts';

/** A response body that arrives in the given pieces, as a network would split it. */
function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function read(stream: ReadableStream<Uint8Array>) {
  const out = [];
  for await (const e of clarifierEvents(stream)) out.push(e);
  return out;
}

const spec = {
  spec: { title: 'Claims by product', metric: 'claims_by_product', visualization: 'bar', time_window: { preset: '7d' }, filters: [], group_by: 'product' },
  source: 'template',
  metric: { name: 'claims_by_product', version: 1, display_name: 'Claims by product', unit: 'count' },
};

describe('clarifier events', () => {
  it('reads events split anywhere by the network, each checked against its schema', async () => {
    const text = [
      'event: message\ndata: {"role":"assistant","text":"Here is a tile."}\n\n',
      `event: spec\ndata: ${JSON.stringify(spec)}\n\n`,
      ': a comment line\n\n',
      'event: done\ndata: {"conversation_id":"c1","status":"complete"}\n\n',
    ].join('');
    const events = await read(body(text.slice(0, 7), text.slice(7, 60), text.slice(60, 61), text.slice(61)));
    expect(events.map((e) => e.event)).toEqual(['message', 'spec', 'done']);
    // Fields the dialog does not show still pass through, so the spec goes back to POST /v1/widgets whole.
    expect(events[1]).toEqual({ event: 'spec', data: spec });
  });

  it('marks an event that does not fit its schema, or that the clarifier never sends, as unreadable', async () => {
    const events = await read(
      body(
        'event: question\ndata: {"text":42}\n\n',
        'event: spec\ndata: not json\n\n',
        'event: surprise\ndata: {}\n\n',
        'data: {"role":"assistant","text":"unnamed is a message"}\n\n',
      ),
    );
    expect(events).toEqual([
      { event: 'unreadable', name: 'question' },
      { event: 'unreadable', name: 'spec' },
      { event: 'unreadable', name: 'surprise' },
      { event: 'message', data: { role: 'assistant', text: 'unnamed is a message' } },
    ]);
  });
});
