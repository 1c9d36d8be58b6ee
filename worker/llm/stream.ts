// Turns the ConverseStream event union into the client's StreamEvents: text deltas as they come,
// a tool use once its JSON fragments are complete, and one closing `stop` with the usage that
// Bedrock sends after messageStop.
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { DependencyError } from '../http/errors.ts';
import { excerpt, outputError } from './errors.ts';
import type { StreamEvent, Usage } from './types.ts';
import { toUsage } from './wire.ts';

/** Error members an event may carry in place of data; each is named after its exception type. */
const ERROR_MEMBERS = {
  internalServerException: 'InternalServerException',
  modelStreamErrorException: 'ModelStreamErrorException',
  validationException: 'ValidationException',
  throttlingException: 'ThrottlingException',
  serviceUnavailableException: 'ServiceUnavailableException',
} as const;

function streamedError(event: ConverseStreamOutput): Error | null {
  for (const [member, type] of Object.entries(ERROR_MEMBERS)) {
    const value = (event as unknown as Record<string, unknown>)[member];
    if (value === undefined) continue;
    if (value instanceof Error) return value;
    const message = typeof value === 'object' && value !== null && 'message' in value ? String(value.message) : type;
    const error = new Error(message);
    error.name = type;
    return error;
  }
  return null;
}

function parseToolInput(name: string, json: string): unknown {
  // A tool without parameters streams no input fragments at all.
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw outputError('malformed_json', `the model's streamed input for tool ${name} is not valid JSON`, { excerpt: excerpt(json) });
  }
}

export async function* readConverseStream(events: AsyncIterable<ConverseStreamOutput>): AsyncGenerator<StreamEvent> {
  let tool: { name: string; toolUseId: string; fragments: string[] } | null = null;
  let stopReason: string | null = null;
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  for await (const event of events) {
    const failure = streamedError(event);
    if (failure) throw failure;
    const started = event.contentBlockStart?.start?.toolUse;
    if (started) {
      tool = { name: started.name ?? '', toolUseId: started.toolUseId ?? '', fragments: [] };
      continue;
    }
    const delta = event.contentBlockDelta?.delta;
    if (delta) {
      if (delta.text !== undefined) yield { type: 'text', delta: delta.text };
      else if (delta.toolUse?.input !== undefined) {
        if (!tool) throw outputError('malformed_json', 'the stream sent tool input before it named the tool');
        tool.fragments.push(delta.toolUse.input);
      }
      continue;
    }
    if (event.contentBlockStop && tool) {
      const input = parseToolInput(tool.name, tool.fragments.join(''));
      yield { type: 'tool_use', name: tool.name, input, toolUseId: tool.toolUseId };
      tool = null;
      continue;
    }
    if (event.messageStop) stopReason = event.messageStop.stopReason ?? 'unknown';
    if (event.metadata) usage = toUsage(event.metadata.usage);
  }
  if (stopReason === null) throw new DependencyError('bedrock', 'unavailable', 'the Bedrock stream ended before the model finished its answer');
  yield { type: 'stop', stopReason, usage };
}
