// Converts between the client's own shapes and the Converse API's, in one place, so the rest of the
// code never touches SDK types.
import type {
  ContentBlock as SdkContentBlock,
  ConverseCommandInput,
  ConverseCommandOutput,
  Message as SdkMessage,
  Tool as SdkTool,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { DependencyError } from '../http/errors.ts';
import type { ContentBlock, ConverseInput, ConverseResult, Message, ToolChoice, Usage } from './types.ts';

type SdkDocument = NonNullable<NonNullable<Extract<SdkContentBlock, { toolUse: unknown }>['toolUse']>['input']>;

function toSdkBlock(block: ContentBlock): SdkContentBlock {
  if ('text' in block) return { text: block.text };
  if ('toolUse' in block) {
    const { toolUseId, name, input } = block.toolUse;
    return { toolUse: { toolUseId, name, input: input as SdkDocument } };
  }
  const { toolUseId, content, status } = block.toolResult;
  const items = content.map(
    (item): ToolResultContentBlock => ('text' in item ? { text: item.text } : { json: item.json as SdkDocument }),
  );
  return { toolResult: { toolUseId, content: items, ...(status ? { status } : {}) } };
}

function toSdkMessage(message: Message): SdkMessage {
  const blocks = typeof message.content === 'string' ? [{ text: message.content }] : message.content;
  return { role: message.role, content: blocks.map(toSdkBlock) };
}

function toSdkToolChoice(choice: ToolChoice): NonNullable<ConverseCommandInput['toolConfig']>['toolChoice'] {
  if (choice === 'auto') return { auto: {} };
  if (choice === 'any') return { any: {} };
  return { tool: { name: choice.tool } };
}

/**
 * The Converse request for one call. Mistakes Bedrock would answer with ValidationException are
 * caught here first, so they fail without a round trip and without spending a retry.
 */
/** A request Bedrock would refuse, refused before it is sent. */
const refused = (message: string) => new DependencyError('bedrock', 'rejected', message);

export function toConverseRequest(modelId: string, input: ConverseInput, defaultMaxTokens: number): ConverseCommandInput {
  if (input.messages.length === 0) throw refused('a Converse call needs at least one message');
  const tools = input.tools ?? [];
  if (input.toolChoice !== undefined && tools.length === 0) {
    throw refused('toolChoice is set but no tools are given');
  }
  if (input.toolChoice !== undefined && typeof input.toolChoice === 'object') {
    const wanted = input.toolChoice.tool;
    if (!tools.some((t) => t.name === wanted)) throw refused(`toolChoice names '${wanted}', which is not among the tools`);
  }
  const request: ConverseCommandInput = {
    modelId,
    messages: input.messages.map(toSdkMessage),
    inferenceConfig: {
      maxTokens: input.maxTokens ?? defaultMaxTokens,
      ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
    },
  };
  if (input.system !== undefined && input.system.trim() !== '') request.system = [{ text: input.system }];
  if (tools.length > 0) {
    request.toolConfig = {
      tools: tools.map(
        (t): SdkTool => ({
          toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.inputSchema as SdkDocument } },
        }),
      ),
      ...(input.toolChoice !== undefined ? { toolChoice: toSdkToolChoice(input.toolChoice) } : {}),
    };
  }
  return request;
}

export function toUsage(usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined): Usage {
  return { inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 };
}

/** The answer of a Converse call, reduced to its text, its first tool use and its accounting. */
export function fromConverseResponse(output: ConverseCommandOutput, latencyMs: number): ConverseResult {
  const blocks = output.output?.message?.content ?? [];
  const texts: string[] = [];
  let toolUse: ConverseResult['toolUse'] = null;
  for (const block of blocks) {
    if (block.text !== undefined) texts.push(block.text);
    else if (block.toolUse && toolUse === null) {
      toolUse = { name: block.toolUse.name ?? '', input: block.toolUse.input, toolUseId: block.toolUse.toolUseId ?? '' };
    }
  }
  return {
    text: texts.length > 0 ? texts.join('') : null,
    toolUse,
    stopReason: output.stopReason ?? 'unknown',
    usage: toUsage(output.usage),
    latencyMs,
  };
}
