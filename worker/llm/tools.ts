// Forced tool calls with a zod contract: the schema becomes the tool's JSON Schema on the way out
// and validates the model's input on the way back. Bedrock refuses tool schemas whose top level is
// not a plain object (a top-level oneOf/anyOf fails the call), so such schemas are refused here.
import { z } from 'zod';
import { excerpt, outputError } from './errors.ts';
import type { OutputIssue } from './errors.ts';
import type { BedrockClient, ConverseInput, Usage } from './types.ts';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const COMBINATORS = ['oneOf', 'anyOf', 'allOf', 'not', 'if', 'then', 'else', '$ref', 'enum', 'const'] as const;

/**
 * The JSON Schema for a tool's `inputSchema.json`. Throws a TypeError (a programming mistake, not a
 * model failure) when the schema cannot be represented or its top level is not a flat object.
 */
export function toToolInputSchema(schema: z.ZodType): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    // `input`: the model writes what the schema parses, before defaults and transforms apply.
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  } catch (error) {
    throw new TypeError(`the tool input schema cannot be expressed as JSON Schema: ${(error as Error).message}`);
  }
  const { $schema: _dialect, ...rest } = json;
  const combinators = COMBINATORS.filter((key) => key in rest);
  if (combinators.length > 0) {
    throw new TypeError(`a tool input schema must be a flat object; its top level has ${combinators.join(', ')}`);
  }
  if (rest.type !== 'object' || typeof rest.properties !== 'object' || rest.properties === null) {
    throw new TypeError(`a tool input schema must be a flat object; its top level is ${JSON.stringify(rest.type ?? 'untyped')}`);
  }
  return rest;
}

export interface ToolDefinition<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
}

export interface CallToolInput<S extends z.ZodObject> extends Omit<ConverseInput, 'tools' | 'toolChoice'> {
  tool: ToolDefinition<S>;
}

export interface CallToolResult<T> {
  input: T;
  toolUseId: string;
  stopReason: string;
  usage: Usage;
  latencyMs: number;
}

function issuesOf(error: z.ZodError): OutputIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

/**
 * Calls the model with exactly one tool and forces it, then validates the input it produced.
 * Anything but a valid call of that tool is a Bedrock `protocol` error: fail loud, never guess.
 */
export async function callTool<S extends z.ZodObject>(client: BedrockClient, input: CallToolInput<S>): Promise<CallToolResult<z.output<S>>> {
  const { tool, ...rest } = input;
  if (!TOOL_NAME.test(tool.name)) throw new TypeError(`tool name '${tool.name}' must match ${TOOL_NAME.source}`);
  const inputSchema = toToolInputSchema(tool.schema);
  const result = await client.converse({
    ...rest,
    tools: [{ name: tool.name, description: tool.description, inputSchema }],
    toolChoice: { tool: tool.name },
  });
  const { stopReason, toolUse } = result;
  if (stopReason === 'guardrail_intervened' || stopReason === 'content_filtered') {
    throw outputError('filtered', `the model's answer was filtered (stop reason ${stopReason})`, { stopReason });
  }
  if (stopReason === 'max_tokens') {
    throw outputError('truncated', `the model's answer was cut off at the token limit before ${tool.name} was complete`, {
      stopReason,
      excerpt: toolUse ? excerpt(toolUse.input) : result.text ? excerpt(result.text) : undefined,
    });
  }
  if (!toolUse) {
    throw outputError('no_tool_call', `the model answered without calling ${tool.name} (stop reason ${stopReason})`, {
      stopReason,
      excerpt: result.text ? excerpt(result.text) : undefined,
    });
  }
  if (toolUse.name !== tool.name) {
    throw outputError('wrong_tool', `the model called '${excerpt(toolUse.name)}' instead of ${tool.name}`, { stopReason });
  }
  const parsed = tool.schema.safeParse(toolUse.input);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const summary = issues
      .slice(0, 5)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    throw outputError('invalid_input', `the model's ${tool.name} input failed validation: ${summary}${more}`, {
      issues,
      stopReason,
      excerpt: excerpt(toolUse.input),
    });
  }
  return { input: parsed.data, toolUseId: toolUse.toolUseId, stopReason, usage: result.usage, latencyMs: result.latencyMs };
}
