import { crc32 } from 'node:zlib';
import type { AssistantTurn } from './turns.ts';

// The AWS event-stream framing ConverseStream answers with (application/vnd.amazon.eventstream):
// total length, headers length, prelude CRC32, headers, payload, message CRC32, all big-endian.

const STRING_HEADER = 7;

function encodeHeaders(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(1 + nameBytes.length + 1 + 2);
    head.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(head, 1);
    head.writeUInt8(STRING_HEADER, 1 + nameBytes.length);
    head.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    parts.push(head, valueBytes);
  }
  return Buffer.concat(parts);
}

export function encodeMessage(headers: Readonly<Record<string, string>>, payload: Buffer): Buffer {
  const headerBytes = encodeHeaders(headers);
  const total = 12 + headerBytes.length + payload.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  payload.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

export function encodeEvent(eventType: string, body: unknown): Buffer {
  return encodeMessage(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify(body), 'utf8'),
  );
}

// Text arrives in a few deltas, as a model streams it, so clients that concatenate are exercised.
function chunks(text: string, size = 16): string[] {
  if (text.length <= size) return [text];
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/** The ConverseStream events that carry one assistant turn. */
export function streamEvents(turn: AssistantTurn, latencyMs: number): Buffer[] {
  const events: Buffer[] = [encodeEvent('messageStart', { role: 'assistant' })];
  turn.content.forEach((block, contentBlockIndex) => {
    if ('text' in block) {
      for (const text of chunks(block.text)) events.push(encodeEvent('contentBlockDelta', { delta: { text }, contentBlockIndex }));
    } else {
      const { toolUseId, name, input } = block.toolUse;
      events.push(encodeEvent('contentBlockStart', { start: { toolUse: { toolUseId, name } }, contentBlockIndex }));
      for (const piece of chunks(JSON.stringify(input))) {
        events.push(encodeEvent('contentBlockDelta', { delta: { toolUse: { input: piece } }, contentBlockIndex }));
      }
    }
    events.push(encodeEvent('contentBlockStop', { contentBlockIndex }));
  });
  events.push(encodeEvent('messageStop', { stopReason: turn.stopReason }));
  events.push(encodeEvent('metadata', { usage: turn.usage, metrics: { latencyMs } }));
  return events;
}
