import {
  BedrockRuntimeClient,
  InternalServerException,
  ModelTimeoutException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Config } from '../../worker/config/env.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { DependencyError } from '../../worker/http/errors.ts';
import type { DependencyKind } from '../../worker/http/errors.ts';
import { toProblem } from '../../worker/http/problem.ts';
import { callTool, classifyError, createBedrockClient, createBedrockClientFromOptions, toToolInputSchema } from '../../worker/llm/bedrock.ts';
import type { BedrockClient, ConverseInput, ConverseResult, StreamEvent } from '../../worker/llm/bedrock.ts';
import { parseConverseRequest } from '../stack/bedrock/converse-schema.ts';
import { bedrockError } from '../stack/bedrock/errors.ts';
import type { BedrockError } from '../stack/bedrock/errors.ts';
import { streamEvents } from '../stack/bedrock/event-stream.ts';
import { answerTurn, converseResponse } from '../stack/bedrock/turns.ts';
import type { ScriptedTurn } from '../stack/bedrock/turns.ts';

function stackConfig(overrides: Partial<Config> = {}): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return { ...loaded.config, ...overrides };
}

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<DependencyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: 'bedrock' });
    return error as DependencyError;
  }
  throw new Error('expected the call to fail');
}

/** Asserts a Bedrock failure of the given kind. */
function expectKind(error: unknown, kind: DependencyKind): void {
  expect(error).toBeInstanceOf(DependencyError);
  expect(error).toMatchObject({ dependency: 'bedrock', kind });
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const ask = (text: string): ConverseInput => ({ messages: [{ role: 'user', content: text }] });

const SqlTool = z.object({
  sql: z.string().min(1).describe('One SELECT statement'),
  tables_used: z.array(z.string()).min(1),
  explanation: z.string(),
});

describe('Bedrock client in workerd, against the signed stand-in', () => {
  it('runs on fetch: the SDK resolved its browser runtime config, not the Node one', () => {
    const probe = new BedrockRuntimeClient({ region: 'us-east-1' });
    expect(probe.config.runtime).toBe('browser');
    probe.destroy();
  });

  it('answers a Converse call (the stand-in echoes the last user message)', async () => {
    const client = createBedrockClient(stackConfig());
    expect(client.available).toBe(true);
    const result = await client.converse({
      system: 'You answer support-operations questions.',
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ text: 'Hi, what do you need?' }] },
        { role: 'user', content: 'What is the SLA today?' },
      ],
      maxTokens: 200,
      temperature: 0,
    });
    expect(result.text).toBe('Echo: What is the SLA today?');
    expect(result.toolUse).toBeNull();
    expect(result.stopReason).toBe('end_turn');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('streams the echo as text deltas, then one stop with usage', async () => {
    const client = createBedrockClient(stackConfig());
    const question = 'Which queues breached their SLA in the last hour, and why?';
    const events = await collect(client.converseStream(ask(question)));
    const texts = events.flatMap((e) => (e.type === 'text' ? [e.delta] : []));
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.join('')).toBe(`Echo: ${question}`);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'stop', stopReason: 'end_turn' });
    if (last?.type !== 'stop') throw new Error('no stop event');
    expect(last.usage.inputTokens).toBeGreaterThan(0);
    expect(last.usage.outputTokens).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'stop')).toHaveLength(1);
  });

  it('lets a stream consumer stop early', async () => {
    const client = createBedrockClient(stackConfig());
    for await (const event of client.converseStream(ask('x'.repeat(200)))) {
      expect(event.type).toBe('text');
      break;
    }
    // The client still works afterwards.
    expect((await client.converse(ask('again'))).text).toBe('Echo: again');
  });

  it('sends a forced tool the stand-in accepts; an answer without the tool call is a protocol error', async () => {
    // Nothing is scripted, so the stand-in validates the request (toolConfig included) and echoes text.
    const client = createBedrockClient(stackConfig());
    const error = await rejection(
      callTool(client, {
        system: 'Write SQL for the metric.',
        messages: [{ role: 'user', content: 'claims by product this week' }],
        tool: { name: 'propose_sql', description: 'Propose one SELECT statement', schema: SqlTool },
      }),
    );
    expectKind(error, 'protocol');
    expect(error.details.output).toMatchObject({ reason: 'no_tool_call', stopReason: 'end_turn', excerpt: 'Echo: claims by product this week' });
    expect(error.message).toMatch(/without calling propose_sql/);
    const problem = toProblem(error);
    expect(problem.code).toBe('llm_unavailable');
    expect(problem.detail).toMatch(/answer was unusable.*\(no_tool_call\)/);
  });

  it('maps a ValidationException from Bedrock to rejected', async () => {
    const client = createBedrockClient(stackConfig());
    const error = await rejection(client.converse({ messages: [{ role: 'assistant', content: 'I speak first' }] }));
    expect(error).toMatchObject({ kind: 'rejected', details: { errorType: 'ValidationException', status: 400 } });
    expect((error as Error).message).toMatch(/must start with a user message/);
  });

  it('refuses a toolChoice naming an unknown tool before any request', async () => {
    const client = createBedrockClient(stackConfig({ BEDROCK_ENDPOINT: 'http://127.0.0.1:9' }));
    const error = await rejection(
      client.converse({
        ...ask('hi'),
        tools: [{ name: 'a', description: 'a', inputSchema: { type: 'object', properties: {} } }],
        toolChoice: { tool: 'b' },
      }),
    );
    expectKind(error, 'rejected');
  });
});

describe('Bedrock client failures', () => {
  function expectNoSecrets(error: unknown, config: Config): void {
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    for (const secret of [config.AWS_SECRET_ACCESS_KEY, config.AWS_ACCESS_KEY_ID]) {
      if (secret) expect(text).not.toContain(secret);
    }
  }

  it('a tampered secret is an auth error (InvalidSignatureException), with no credential in the message', async () => {
    const config = stackConfig();
    const tampered = { ...config, AWS_SECRET_ACCESS_KEY: `${config.AWS_SECRET_ACCESS_KEY}x` };
    const error = await rejection(createBedrockClient(tampered).converse(ask('hi')));
    expect(error).toMatchObject({ kind: 'auth', details: { errorType: 'InvalidSignatureException', status: 403 } });
    expect(error.message).toMatch(/signature we calculated does not match/);
    expectNoSecrets(error, tampered);
    expect(toProblem(error).code).toBe('llm_unavailable');
    expect(toProblem(error).detail).not.toMatch(/signature/);
  });

  it('an unknown access key is an auth error (UnrecognizedClientException)', async () => {
    const error = await rejection(createBedrockClient(stackConfig({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000' })).converse(ask('hi')));
    expect(error).toMatchObject({ kind: 'auth', details: { errorType: 'UnrecognizedClientException' } });
  });

  it('a signature scoped to the wrong region is an auth error', async () => {
    const error = await rejection(createBedrockClient(stackConfig({ AWS_REGION: 'eu-west-1' })).converse(ask('hi')));
    expectKind(error, 'auth');
    expect(error.message).toMatch(/region/);
  });

  it('a streamed call with a tampered secret fails the same way', async () => {
    const config = stackConfig();
    const client = createBedrockClient({ ...config, AWS_SECRET_ACCESS_KEY: 'not-the-secret-at-all' });
    const error = await rejection(collect(client.converseStream(ask('hi'))));
    expectKind(error, 'auth');
  });

  it('nothing listening is unavailable, quickly', async () => {
    const client = createBedrockClient(stackConfig({ BEDROCK_ENDPOINT: 'http://127.0.0.1:9' }));
    const started = Date.now();
    const error = await rejection(client.converse(ask('hi')));
    expectKind(error, 'unavailable');
    expect(error.message).toMatch(/could not be reached|aborted/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(toProblem(error)).toMatchObject({ code: 'llm_unavailable', detail: 'Bedrock is unavailable.' });

    const streamed = await rejection(collect(client.converseStream(ask('hi'))));
    expectKind(streamed, 'unavailable');
  });

  it('a call that outlives its timeoutMs has kind timeout', async () => {
    // A 2 MB question takes the stand-in far longer than 5 ms to receive, verify and answer.
    const client = createBedrockClient(stackConfig());
    const started = Date.now();
    const error = await rejection(client.converse({ ...ask('y'.repeat(2_000_000)), timeoutMs: 5 }));
    expect(error).toMatchObject({ kind: 'timeout', details: { timeoutMs: 5 } });
    expect(error.message).toMatch(/within 5 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(toProblem(error)).toMatchObject({ code: 'llm_unavailable', detail: 'Bedrock did not answer in time.' });
  });

  it("the caller's abort is kind aborted, not a Bedrock failure", async () => {
    const client = createBedrockClient(stackConfig());
    const error = await rejection(client.converse({ ...ask('hi'), signal: AbortSignal.abort() }));
    expectKind(error, 'aborted');

    // An abort in flight, well inside the call's own deadline, is still the caller's.
    const controller = new AbortController();
    const pending = rejection(client.converse({ ...ask('y'.repeat(2_000_000)), signal: controller.signal, timeoutMs: 10_000 }));
    controller.abort();
    expectKind(await pending, 'aborted');
  });

  it('offline mode does not pretend: every call is not_configured, naming the mode', async () => {
    const client = createBedrockClient(stackConfig({ BUILDER_MODE: 'offline' }));
    expect(client.available).toBe(false);
    const error = await rejection(client.converse(ask('hi')));
    expectKind(error, 'not_configured');
    expect(error.message).toMatch(/BUILDER_MODE is offline/);
    expect(toProblem(error).detail).toMatch(/BUILDER_MODE is offline/);
    expectKind(await rejection(collect(client.converseStream(ask('hi')))), 'not_configured');
    expectKind(await rejection(callTool(client, { ...ask('hi'), tool: { name: 'propose_sql', description: 'd', schema: SqlTool } })), 'not_configured');
  });

  it('missing credentials give the same refusing client', async () => {
    const client = createBedrockClient(stackConfig({ AWS_SECRET_ACCESS_KEY: undefined }));
    expect(client.available).toBe(false);
    const error = await rejection(client.converse(ask('hi')));
    expectKind(error, 'not_configured');
    expect(error.message).toMatch(/AWS_SECRET_ACCESS_KEY are not set/);
  });

  it('refuses unbounded or nonsensical retry settings', () => {
    const base = { region: 'us-east-1', modelId: 'm', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
    expect(() => createBedrockClientFromOptions({ ...base, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => createBedrockClientFromOptions({ ...base, maxAttempts: 50 })).toThrow(RangeError);
    expect(() => createBedrockClientFromOptions({ ...base, maxAttempts: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => createBedrockClientFromOptions({ ...base, timeoutMs: 0 })).toThrow(RangeError);
    expect(createBedrockClientFromOptions({ ...base, maxAttempts: 5 }).available).toBe(true);
  });
});

describe('error classification of SDK exceptions', () => {
  const context = { secrets: ['AKIASECRETKEYID00001', 'super-secret-value'], timedOut: false, callerAborted: false, timeoutMs: 1_000 };
  const metadata = (httpStatusCode: number, attempts = 1) => ({ httpStatusCode, attempts, totalRetryDelay: 0 });

  it('ThrottlingException after the retries is throttled with Retry-After', () => {
    const sdkError = new ThrottlingException({ message: 'Too many requests, please wait.', $metadata: metadata(429, 3) });
    Object.defineProperty(sdkError, '$response', { value: { statusCode: 429, headers: { 'Retry-After': '7' } } });
    const error = classifyError(sdkError, context);
    expect(error).toMatchObject({ kind: 'throttled', retryAfter: 7, details: { attempts: 3, status: 429 } });
    expect(error.message).toMatch(/after 3 attempts/);
    expect(toProblem(error)).toMatchObject({ code: 'llm_unavailable', headers: { 'retry-after': '7' } });
  });

  it('server faults are unavailable; a model timeout has kind timeout', () => {
    const internal = classifyError(new InternalServerException({ message: 'boom', $metadata: metadata(500, 3) }), context);
    expect(internal.kind).toBe('unavailable');
    const modelTimeout = classifyError(new ModelTimeoutException({ message: 'slow', $metadata: metadata(408) }), context);
    expect(modelTimeout).toMatchObject({ kind: 'timeout' });
    const bare503 = classifyError(Object.assign(new Error('x'), { name: 'Unknown', $metadata: metadata(503) }), context);
    expect(bare503.kind).toBe('unavailable');
    const notReady = classifyError(Object.assign(new Error('warming'), { name: 'ModelNotReadyException', $metadata: metadata(429) }), context);
    expect(notReady.kind).toBe('unavailable');
  });

  it('auth and request failures keep their kinds, and messages are scrubbed of credentials', () => {
    const expired = classifyError(
      Object.assign(new Error('The token for AKIASECRETKEYID00001 expired'), { name: 'ExpiredTokenException', $metadata: metadata(403) }),
      context,
    );
    expect(expired.kind).toBe('auth');
    expect(expired.message).not.toContain('AKIASECRETKEYID00001');
    expect(expired.message).toContain('[REDACTED]');
    const invalid = classifyError(new ValidationException({ message: 'bad', $metadata: metadata(400) }), context);
    expect(invalid.kind).toBe('rejected');
    expect(JSON.stringify(invalid)).not.toContain('cause');
  });

  it('every kind maps to llm_unavailable in one place, with a fixed sentence', () => {
    const kinds: DependencyKind[] = ['unavailable', 'timeout', 'throttled', 'auth', 'rejected', 'protocol', 'aborted', 'not_configured'];
    for (const kind of kinds) {
      const problem = toProblem(new DependencyError('bedrock', kind, 'server text AKIASECRETKEYID00001'));
      expect(problem.code).toBe('llm_unavailable');
      expect(problem.detail).not.toContain('server text');
    }
  });
});

describe('tool schemas and callTool', () => {
  it('converts a zod object to a flat JSON Schema object with its required fields', () => {
    const schema = toToolInputSchema(SqlTool.extend({ limit: z.number().int().max(1000).default(100), note: z.string().optional() }));
    expect(schema.type).toBe('object');
    expect(schema).not.toHaveProperty('$schema');
    for (const key of ['oneOf', 'anyOf', 'allOf']) expect(schema).not.toHaveProperty(key);
    expect(schema.required).toEqual(['sql', 'tables_used', 'explanation']);
    expect(schema.properties).toMatchObject({
      sql: { type: 'string', minLength: 1, description: 'One SELECT statement' },
      tables_used: { type: 'array', items: { type: 'string' }, minItems: 1 },
      explanation: { type: 'string' },
      limit: { type: 'integer', default: 100 },
    });
  });

  it('rejects a top-level union, a non-object and an unrepresentable schema', () => {
    const a = z.object({ kind: z.literal('a'), sql: z.string() });
    const b = z.object({ kind: z.literal('b'), text: z.string() });
    expect(() => toToolInputSchema(z.union([a, b]))).toThrow(/flat object; its top level has anyOf/);
    expect(() => toToolInputSchema(z.discriminatedUnion('kind', [a, b]))).toThrow(/top level has oneOf/);
    expect(() => toToolInputSchema(z.string())).toThrow(/flat object/);
    expect(() => toToolInputSchema(z.object({ at: z.date() }))).toThrow(/cannot be expressed as JSON Schema/);
  });

  /** A client that answers from a list, to exercise callTool's checks without the network. */
  function fakeClient(answers: Partial<ConverseResult>[]): BedrockClient & { calls: ConverseInput[] } {
    const calls: ConverseInput[] = [];
    return {
      modelId: 'fake',
      available: true,
      calls,
      converse(input) {
        calls.push(input);
        const next = answers.shift() ?? {};
        return Promise.resolve({
          text: null,
          toolUse: null,
          stopReason: 'tool_use',
          usage: { inputTokens: 10, outputTokens: 5 },
          latencyMs: 3,
          ...next,
        });
      },
      converseStream: () => {
        throw new Error('not used');
      },
    };
  }

  const tool = { name: 'propose_sql', description: 'Propose one SELECT statement', schema: SqlTool };
  const good = { sql: 'SELECT 1', tables_used: ['claims'], explanation: 'counts' };

  it('forces the tool, sends its schema and returns the validated input', async () => {
    const client = fakeClient([{ toolUse: { name: 'propose_sql', input: good, toolUseId: 'tooluse_1' } }]);
    const result = await callTool(client, { ...ask('claims'), tool });
    expect(result.input).toEqual(good);
    expect(result).toMatchObject({ toolUseId: 'tooluse_1', usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 3 });
    const sent = client.calls[0];
    expect(sent?.toolChoice).toEqual({ tool: 'propose_sql' });
    expect(sent?.tools?.[0]?.inputSchema).toEqual(toToolInputSchema(SqlTool));
  });

  it('invalid tool input is a protocol error with the zod issues and only a short excerpt', async () => {
    const long = 'DROP TABLE claims; '.repeat(100);
    const client = fakeClient([{ toolUse: { name: 'propose_sql', input: { sql: 42, tables_used: [], note: long }, toolUseId: 't' } }]);
    const error = await rejection(callTool(client, { ...ask('claims'), tool }));
    expectKind(error, 'protocol');
    const output = error.details.output;
    expect(output?.reason).toBe('invalid_input');
    expect(output?.issues?.map((i) => i.path).sort()).toEqual(['explanation', 'sql', 'tables_used']);
    expect(error.message).toMatch(/^the model's propose_sql input failed validation: /);
    expect(error.message).not.toContain('DROP TABLE');
    expect(output?.excerpt?.length).toBeLessThanOrEqual(161);
  });

  it('a missing, wrong or truncated tool call is a protocol error', async () => {
    const client = fakeClient([
      { text: 'I would rather chat.', stopReason: 'end_turn' },
      { toolUse: { name: 'other_tool', input: good, toolUseId: 't' } },
      { toolUse: { name: 'propose_sql', input: { sql: 'SELECT' }, toolUseId: 't' }, stopReason: 'max_tokens' },
      { stopReason: 'guardrail_intervened' },
    ]);
    const reasons: string[] = [];
    for (let i = 0; i < 4; i++) {
      const error = await rejection(callTool(client, { ...ask('claims'), tool }));
      expectKind(error, 'protocol');
      reasons.push(error.details.output?.reason ?? '');
    }
    expect(reasons).toEqual(['no_tool_call', 'wrong_tool', 'truncated', 'filtered']);
  });

  it('rejects a tool name Bedrock would refuse', async () => {
    await expect(callTool(fakeClient([]), { ...ask('x'), tool: { ...tool, name: 'propose sql' } })).rejects.toThrow(TypeError);
  });
});

type FakeTurn = ScriptedTurn & { retryAfter?: string };

/**
 * A fetch that answers Converse in-process with the stand-in's own request validation, turn logic
 * and event-stream framing (but no SigV4: the signed path is covered against the stand-in above).
 * The stand-in process cannot be scripted from workerd, so this is how scripted turns reach the
 * real SDK stack here: its retry middleware, error deserialisation and event-stream decoding.
 */
function scriptedFetch(turns: FakeTurn[]): typeof fetch & { bodies: unknown[] } {
  const bodies: unknown[] = [];
  let ids = 0;
  const errorResponse = (error: BedrockError, retryAfter?: string) =>
    Response.json(
      { message: error.message },
      { status: error.status, headers: { 'x-amzn-errortype': error.type, ...(retryAfter ? { 'retry-after': retryAfter } : {}) } },
    );
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const body: unknown = JSON.parse(await request.text());
    bodies.push(body);
    const parsed = parseConverseRequest(body);
    if (!parsed.ok) return errorResponse(bedrockError('ValidationException', parsed.message));
    const turn = turns.shift();
    const result = answerTurn(turn, parsed.request, () => `tooluse_fake${String(++ids).padStart(6, '0')}`);
    if (!result.ok) return errorResponse(result.error, turn?.retryAfter);
    if (!new URL(request.url).pathname.endsWith('/converse-stream')) return Response.json(converseResponse(result.turn, 1));
    return new Response(new Blob(streamEvents(result.turn, 1).map((chunk) => new Uint8Array(chunk))), { headers: { 'content-type': 'application/vnd.amazon.eventstream' } });
  };
  return Object.assign(impl as typeof fetch, { bodies });
}

function scriptedClient(turns: FakeTurn[], maxAttempts?: number) {
  const fetch = scriptedFetch(turns);
  const client = createBedrockClientFromOptions({
    region: 'us-east-1',
    modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    endpoint: 'http://bedrock.fake',
    credentials: { accessKeyId: 'AKIAFAKE000000000001', secretAccessKey: 'fake-secret' },
    fetch,
    ...(maxAttempts ? { maxAttempts } : {}),
  });
  return { client, bodies: fetch.bodies };
}

describe('scripted turns through the real SDK stack (in-process transport)', () => {
  const tool = { name: 'propose_sql', description: 'Propose one SELECT statement', schema: SqlTool };
  const good = { sql: 'SELECT product, count(*) FROM claims GROUP BY product', tables_used: ['claims'], explanation: 'claims per product' };

  it('a scripted tool-use turn is parsed and validated by callTool', async () => {
    const { client, bodies } = scriptedClient([{ toolUse: { name: 'propose_sql', input: good } }]);
    const result = await callTool(client, { system: 'Write SQL.', ...ask('claims by product'), tool, maxTokens: 512 });
    expect(result.input).toEqual(good);
    expect(result.toolUseId).toBe('tooluse_fake000001');
    expect(result.stopReason).toBe('tool_use');
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(bodies[0]).toMatchObject({
      system: [{ text: 'Write SQL.' }],
      inferenceConfig: { maxTokens: 512 },
      toolConfig: { toolChoice: { tool: { name: 'propose_sql' } }, tools: [{ toolSpec: { name: 'propose_sql', inputSchema: { json: { type: 'object' } } } }] },
    });
  });

  it('malformed tool input is a protocol error', async () => {
    const { client } = scriptedClient([
      { toolUse: { name: 'propose_sql', input: { sql: ['SELECT 1'], tables_used: 'claims' } } },
      { toolUse: { name: 'propose_sql', input: 'SELECT 1' } },
    ]);
    const first = await rejection(callTool(client, { ...ask('claims'), tool }));
    expect(first).toMatchObject({ kind: 'protocol', details: { output: { reason: 'invalid_input' } } });
    expect(first.details.output?.issues?.map((i) => i.path).sort()).toEqual(['explanation', 'sql', 'tables_used']);
    const second = await rejection(callTool(client, { ...ask('claims'), tool }));
    expect(second).toMatchObject({ kind: 'protocol', details: { output: { reason: 'invalid_input' } } });
  });

  it('ThrottlingException is retried a bounded number of times, then throttled', async () => {
    const throttled: FakeTurn = { errorType: 'ThrottlingException', message: 'Too many requests, please wait.', retryAfter: '1' };
    const { client, bodies } = scriptedClient([throttled, throttled, throttled, throttled, throttled]);
    const error = await rejection(client.converse(ask('hi')));
    expect(error).toMatchObject({ kind: 'throttled', retryAfter: 1, details: { attempts: 3, status: 429 } });
    expect(bodies).toHaveLength(3);
    expect(toProblem(error).headers).toEqual({ 'retry-after': '1' });
  });

  it('a throttled call that recovers within its attempts succeeds', async () => {
    const { client, bodies } = scriptedClient([{ errorType: 'ThrottlingException' }, { text: 'fine now' }]);
    expect((await client.converse(ask('hi'))).text).toBe('fine now');
    expect(bodies).toHaveLength(2);
  });

  it('500 is unavailable after the retries; with maxAttempts 1 there is one request', async () => {
    const { client, bodies } = scriptedClient([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const error = await rejection(client.converse(ask('hi')));
    expect(error).toMatchObject({ kind: 'unavailable', details: { errorType: 'InternalServerException', status: 500, attempts: 3 } });
    expect(bodies).toHaveLength(3);

    const single = scriptedClient([{ errorType: 'ServiceUnavailableException' }], 1);
    expectKind(await rejection(single.client.converse(ask('hi'))), 'unavailable');
    expect(single.bodies).toHaveLength(1);
  });

  it('auth and model errors from the wire keep their kinds', async () => {
    const { client } = scriptedClient([
      { errorType: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
      { errorType: 'AccessDeniedException', message: 'You do not have access to the model with the specified model ID.' },
      { errorType: 'ModelTimeoutException' },
    ], 1);
    expect(await rejection(client.converse(ask('a')))).toMatchObject({ kind: 'auth', details: { errorType: 'ExpiredTokenException' } });
    expect(await rejection(client.converse(ask('b')))).toMatchObject({ kind: 'auth', details: { errorType: 'AccessDeniedException' } });
    expect(await rejection(client.converse(ask('c')))).toMatchObject({ kind: 'timeout', details: { errorType: 'ModelTimeoutException' } });
  });

  it('streams a tool use assembled from its JSON fragments', async () => {
    const { client } = scriptedClient([{ text: 'Here is the query.', toolUse: { name: 'propose_sql', input: good } }]);
    const events = await collect(
      client.converseStream({ ...ask('claims by product'), tools: [{ name: 'propose_sql', description: 'd', inputSchema: toToolInputSchema(SqlTool) }] }),
    );
    expect(events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.delta : '')).join('')).toBe('Here is the query.');
    expect(events.filter((e) => e.type === 'tool_use')).toEqual([{ type: 'tool_use', name: 'propose_sql', input: good, toolUseId: 'tooluse_fake000001' }]);
    expect(events.at(-1)).toMatchObject({ type: 'stop', stopReason: 'tool_use' });
  });

  it('a throttled stream fails as throttled', async () => {
    const { client } = scriptedClient([{ errorType: 'ThrottlingException' }], 1);
    expectKind(await rejection(collect(client.converseStream(ask('hi')))), 'throttled');
  });
});
