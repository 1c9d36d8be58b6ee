import type { Outcome, Reply } from './backend.ts';

export type ResultEncoding = 'text' | 'base64';

export type JsonReply = string | number | null | JsonReply[];

/**
 * Shapes a reply for the JSON body. With base64 every string is base64 of its exact bytes, except a
 * plain "OK", which Upstash leaves as it is (its client relies on that); with text, bytes are decoded
 * as UTF-8, invalid sequences becoming U+FFFD.
 */
export function encodeReply(reply: Reply, encoding: ResultEncoding): JsonReply {
  if (reply === null || typeof reply === 'number') return reply;
  if (reply instanceof Error) return encodeReply(reply.message, encoding);
  if (Array.isArray(reply)) return reply.map((item: Reply) => encodeReply(item, encoding));
  const bytes = typeof reply === 'string' ? Buffer.from(reply, 'utf8') : (reply as Buffer);
  if (encoding === 'text') return bytes.toString('utf8');
  return bytes.length === 2 && bytes.toString('latin1') === 'OK' ? 'OK' : bytes.toString('base64');
}

export function encodeOutcome(outcome: Outcome, encoding: ResultEncoding): { result: JsonReply } | { error: string } {
  return outcome.ok ? { result: encodeReply(outcome.reply, encoding) } : { error: outcome.error };
}
