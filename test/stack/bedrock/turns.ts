import type { ConverseRequest, Message } from './converse-schema.ts';
import { scriptedError } from './errors.ts';
import type { BedrockError } from './errors.ts';

export type StopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered';

/**
 * What the stand-in answers to the next Converse call. A turn with `errorType` or an error `status`
 * fails the call; otherwise it answers with its text and/or tool use.
 */
export interface ScriptedTurn {
  text?: string;
  toolUse?: { name: string; input: unknown; toolUseId?: string };
  /** Defaults to `tool_use` when the turn uses a tool, `end_turn` otherwise. */
  stopReason?: StopReason;
  status?: number;
  /** e.g. ThrottlingException, ValidationException, ModelTimeoutException. */
  errorType?: string;
  /** The error message of a failing turn. */
  message?: string;
  /** Holds the answer back, for timeouts and ordering tests. */
  delayMs?: number;
}

export type OutputBlock = { text: string } | { toolUse: { toolUseId: string; name: string; input: unknown } };

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface AssistantTurn {
  readonly content: OutputBlock[];
  readonly stopReason: StopReason;
  readonly usage: TokenUsage;
}

export type TurnResult = { ok: true; turn: AssistantTurn } | { ok: false; error: BedrockError };

// A rough, deterministic stand-in for a tokenizer: about four characters a token.
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function messageText(message: Message): string {
  return message.content
    .map((block) => {
      if ('text' in block) return block.text;
      if ('toolUse' in block) return JSON.stringify(block.toolUse.input ?? null);
      if ('toolResult' in block) {
        return block.toolResult.content.map((item) => ('text' in item ? item.text : JSON.stringify(Object.values(item)[0]))).join('\n');
      }
      return '';
    })
    .filter((text) => text !== '')
    .join('\n');
}

function inputTokens(request: ConverseRequest): number {
  const system = (request.system ?? []).map((block) => ('text' in block ? block.text : '')).join('\n');
  const tools = request.toolConfig ? JSON.stringify(request.toolConfig.tools) : '';
  return tokens([system, tools, ...request.messages.map(messageText)].join('\n'));
}

function outputTokens(content: OutputBlock[]): number {
  return tokens(content.map((block) => ('text' in block ? block.text : JSON.stringify(block.toolUse.input))).join('\n'));
}

/** The default answer: the last user message, echoed, so tests without a script still see their input. */
export function echoText(request: ConverseRequest): string {
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  return `Echo: ${lastUser ? messageText(lastUser) : ''}`;
}

/** Answers one validated request from the scripted turn, echoing the user when it gives no content. */
export function answerTurn(scripted: ScriptedTurn | undefined, request: ConverseRequest, nextToolUseId: () => string): TurnResult {
  if (scripted && (scripted.errorType !== undefined || (scripted.status !== undefined && scripted.status >= 400))) {
    return { ok: false, error: scriptedError(scripted.errorType, scripted.status, scripted.message) };
  }
  const content: OutputBlock[] = [];
  if (scripted?.text !== undefined) content.push({ text: scripted.text });
  if (scripted?.toolUse) {
    const { name, input, toolUseId } = scripted.toolUse;
    content.push({ toolUse: { toolUseId: toolUseId ?? nextToolUseId(), name, input } });
  }
  // A turn that only sets a stop reason (say, max_tokens) still needs something to say.
  if (content.length === 0) content.push({ text: echoText(request) });
  const stopReason = scripted?.stopReason ?? (scripted?.toolUse ? 'tool_use' : 'end_turn');
  const input = inputTokens(request);
  const output = outputTokens(content);
  return { ok: true, turn: { content, stopReason, usage: { inputTokens: input, outputTokens: output, totalTokens: input + output } } };
}

/** The Converse response body for a turn. */
export function converseResponse(turn: AssistantTurn, latencyMs: number) {
  return {
    output: { message: { role: 'assistant', content: turn.content } },
    stopReason: turn.stopReason,
    usage: turn.usage,
    metrics: { latencyMs },
  };
}
