// The client's own vocabulary: small, SDK-free shapes so callers never import the AWS SDK.

export type ContentBlock =
  | { text: string }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | {
      toolResult: {
        toolUseId: string;
        content: Array<{ text: string } | { json: unknown }>;
        status?: 'success' | 'error';
      };
    };

export interface Message {
  role: 'user' | 'assistant';
  /** A plain string is one text block. */
  content: string | ContentBlock[];
}

export interface ToolSpec {
  /** [a-zA-Z0-9_-]{1,64}, as Bedrock requires. */
  name: string;
  description: string;
  /** A JSON Schema whose top level is a flat `type: object`. */
  inputSchema: Record<string, unknown>;
}

export type ToolChoice = { tool: string } | 'auto' | 'any';

export interface ConverseInput {
  system?: string;
  messages: Message[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  /** Aborts the call; the client then throws a Bedrock DependencyError of kind `aborted`. */
  signal?: AbortSignal;
  /** The whole call's budget, retries included; overrides the client default. */
  timeoutMs?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ToolUse {
  name: string;
  input: unknown;
  toolUseId: string;
}

export interface ConverseResult {
  /** All text blocks of the answer joined, or null when it has none. */
  text: string | null;
  /** The first tool use of the answer, or null. */
  toolUse: ToolUse | null;
  stopReason: string;
  usage: Usage;
  /** Wall-clock time of the call as the worker saw it, retries included. */
  latencyMs: number;
}

export type StreamEvent =
  | { type: 'text'; delta: string }
  | { type: 'tool_use'; name: string; input: unknown; toolUseId: string }
  | { type: 'stop'; stopReason: string; usage: Usage };

export interface BedrockClient {
  readonly modelId: string;
  /** False when the client was built without credentials or in offline mode: every call throws. */
  readonly available: boolean;
  converse(input: ConverseInput): Promise<ConverseResult>;
  converseStream(input: ConverseInput): AsyncIterable<StreamEvent>;
}
