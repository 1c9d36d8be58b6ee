import { z } from 'zod';

// The Converse request body (the model id travels in the path). Unknown members are refused, as
// Bedrock refuses them: a typo in a request must fail here, not pass unnoticed.

const anyObject = z.record(z.string(), z.unknown());
const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'Member must match [a-zA-Z0-9_-]{1,64}');

const toolResultContent = z.union([
  z.strictObject({ text: z.string() }),
  z.strictObject({ json: z.unknown() }),
  z.strictObject({ image: anyObject }),
  z.strictObject({ document: anyObject }),
  z.strictObject({ video: anyObject }),
  z.strictObject({ searchResult: anyObject }),
]);

const toolUseBlock = z.strictObject({
  toolUseId: z.string().min(1).max(64),
  name: toolName,
  input: z.unknown(),
  type: z.string().optional(),
});

const toolResultBlock = z.strictObject({
  toolUseId: z.string().min(1).max(64),
  content: z.array(toolResultContent),
  status: z.enum(['success', 'error']).optional(),
  type: z.string().optional(),
});

const contentBlock = z
  .union([
    z.strictObject({ text: z.string() }),
    z.strictObject({ toolUse: toolUseBlock }),
    z.strictObject({ toolResult: toolResultBlock }),
    z.strictObject({ image: anyObject }),
    z.strictObject({ document: anyObject }),
    z.strictObject({ video: anyObject }),
    z.strictObject({ audio: anyObject }),
    z.strictObject({ cachePoint: anyObject }),
    z.strictObject({ guardContent: anyObject }),
    z.strictObject({ reasoningContent: anyObject }),
    z.strictObject({ citationsContent: anyObject }),
    z.strictObject({ searchResult: anyObject }),
  ])
  .refine((block) => Object.keys(block).length === 1, 'A content block must have exactly one member');

const message = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.array(contentBlock).min(1),
});

const systemBlock = z.union([
  z.strictObject({ text: z.string().min(1) }),
  z.strictObject({ guardContent: anyObject }),
  z.strictObject({ cachePoint: anyObject }),
]);

const inferenceConfig = z.strictObject({
  maxTokens: z.int().min(1).optional(),
  temperature: z.number().min(0).max(1).optional(),
  topP: z.number().min(0).max(1).optional(),
  stopSequences: z.array(z.string().min(1)).max(2500).optional(),
});

const toolSpec = z.strictObject({
  name: toolName,
  description: z.string().min(1).optional(),
  inputSchema: z.strictObject({ json: anyObject }),
  strict: z.boolean().optional(),
});

const tool = z.union([
  z.strictObject({ toolSpec }),
  z.strictObject({ systemTool: anyObject }),
  z.strictObject({ cachePoint: anyObject }),
]);

const toolChoice = z.union([
  z.strictObject({ auto: z.strictObject({}) }),
  z.strictObject({ any: z.strictObject({}) }),
  z.strictObject({ tool: z.strictObject({ name: toolName }) }),
]);

export const converseRequestSchema = z.strictObject({
  messages: z.array(message).min(1),
  system: z.array(systemBlock).optional(),
  inferenceConfig: inferenceConfig.optional(),
  toolConfig: z.strictObject({ tools: z.array(tool).min(1), toolChoice: toolChoice.optional() }).optional(),
  guardrailConfig: anyObject.optional(),
  additionalModelRequestFields: z.unknown().optional(),
  promptVariables: z.record(z.string(), anyObject).optional(),
  additionalModelResponseFieldPaths: z.array(z.string()).optional(),
  requestMetadata: z.record(z.string(), z.string()).optional(),
  performanceConfig: anyObject.optional(),
  serviceTier: anyObject.optional(),
  outputConfig: anyObject.optional(),
});

export type ConverseRequest = z.infer<typeof converseRequestSchema>;
export type Message = ConverseRequest['messages'][number];

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.map((issue) => `Value at '${issue.path.join('.') || 'body'}' failed to satisfy constraint: ${issue.message}`);
  return `${parts.length} validation error${parts.length === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}

/** Rules Bedrock applies across the request, beyond the shape of each member. */
function conversationProblems(request: ConverseRequest): string[] {
  const problems: string[] = [];
  const { messages, toolConfig } = request;
  if (messages[0]?.role !== 'user') {
    problems.push('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  messages.forEach((current, index) => {
    if (index > 0 && messages[index - 1]?.role === current.role) {
      problems.push('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    }
  });

  const usesTools = messages.some((m) => m.content.some((block) => 'toolUse' in block || 'toolResult' in block));
  if (usesTools && !toolConfig) {
    problems.push('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  }

  const toolNames = (toolConfig?.tools ?? []).flatMap((t) => ('toolSpec' in t ? [t.toolSpec.name] : []));
  const seen = new Set<string>();
  for (const name of toolNames) {
    if (seen.has(name)) problems.push(`The toolConfig.tools field has a duplicate tool name: ${name}.`);
    seen.add(name);
  }
  const chosen = toolConfig?.toolChoice && 'tool' in toolConfig.toolChoice ? toolConfig.toolChoice.tool.name : null;
  if (chosen !== null && !seen.has(chosen)) {
    problems.push(`The tool '${chosen}' named in toolConfig.toolChoice is not among toolConfig.tools.`);
  }

  // Every tool result answers a tool use of the assistant turn just before it.
  messages.forEach((current, index) => {
    if (current.role !== 'user') return;
    const previous = messages[index - 1];
    const asked = new Set(previous?.content.flatMap((block) => ('toolUse' in block ? [block.toolUse.toolUseId] : [])) ?? []);
    const answered = current.content.flatMap((block) => ('toolResult' in block ? [block.toolResult.toolUseId] : []));
    for (const id of answered) {
      if (!asked.has(id)) problems.push(`messages.${index}.content has a toolResult for '${id}', which the previous assistant turn did not ask for.`);
    }
    const missing = [...asked].filter((id) => !answered.includes(id));
    if (missing.length > 0) {
      problems.push(`Expected toolResult blocks at messages.${index}.content for the following Ids: ${missing.join(', ')}`);
    }
  });
  return problems;
}

export type ParsedConverseRequest = { ok: true; request: ConverseRequest } | { ok: false; message: string };

export function parseConverseRequest(body: unknown): ParsedConverseRequest {
  const parsed = converseRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues) };
  const problems = conversationProblems(parsed.data);
  return problems.length === 0 ? { ok: true, request: parsed.data } : { ok: false, message: problems.join(' ') };
}
