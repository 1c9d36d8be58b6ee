import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import type { BedrockRuntimeClientConfig, ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sha256, startBedrockStandIn } from './bedrock/server.ts';
import type { BedrockStandIn } from './bedrock/server.ts';

const REGION = 'us-east-1';
const ACCESS_KEY_ID = 'AKIASTANDINTEST00001';
const SECRET = 'stand-in-test-secret-0123456789abcdef';
const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

const TOOLS: ConverseCommandInput['toolConfig'] = {
  tools: [
    {
      toolSpec: {
        name: 'propose_widget',
        description: 'Propose a dashboard tile',
        inputSchema: { json: { type: 'object', properties: { metric: { type: 'string' } }, required: ['metric'] } },
      },
    },
  ],
  toolChoice: { tool: { name: 'propose_widget' } },
};

function ask(text: string, extra: Partial<ConverseCommandInput> = {}): ConverseCommand {
  return new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text }] }], ...extra });
}

/** The error an SDK call rejects with, for asserting on its name and status. */
async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('Bedrock Converse stand-in', () => {
  let standIn: BedrockStandIn;
  const clients: BedrockRuntimeClient[] = [];

  function client(overrides: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
    const created = new BedrockRuntimeClient({
      region: REGION,
      endpoint: standIn.url,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      maxAttempts: 1,
      ...overrides,
    });
    clients.push(created);
    return created;
  }

  /** Signs a Converse request by hand (over HTTP/1.1), so that it can be altered after signing. */
  async function signedRequest(body: string, options: { signingDate?: Date; applyChecksum?: boolean } = {}) {
    const url = new URL(`/model/${encodeURIComponent(MODEL_ID)}/converse`, standIn.url);
    const signer = new SignatureV4({
      service: 'bedrock',
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      sha256: Sha256,
      applyChecksum: options.applyChecksum ?? false,
    });
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      },
      options.signingDate ? { signingDate: options.signingDate } : {},
    );
    // fetch sets Host itself, to the same value that was signed.
    const { host: _host, ...headers } = signed.headers;
    return { url: url.toString(), headers: headers as Record<string, string> };
  }

  beforeAll(async () => {
    standIn = await startBedrockStandIn({ region: REGION, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET });
  });
  afterEach(() => {
    standIn.requests.length = 0;
  });
  afterAll(async () => {
    for (const created of clients) created.destroy();
    await standIn?.close();
  });

  it('round-trips a scripted tool-use turn', async () => {
    standIn.script([{ toolUse: { name: 'propose_widget', input: { metric: 'nps_impact', filters: [{ region: 'EMEA' }] } } }]);
    const response = await client().send(ask('Show NPS impact for EMEA', { toolConfig: TOOLS, system: [{ text: 'You build tiles.' }] }));
    expect(response.stopReason).toBe('tool_use');
    const toolUse = response.output?.message?.content?.[0]?.toolUse;
    expect(toolUse?.name).toBe('propose_widget');
    expect(toolUse?.input).toEqual({ metric: 'nps_impact', filters: [{ region: 'EMEA' }] });
    expect(toolUse?.toolUseId).toMatch(/^tooluse_/);
    expect(response.usage?.totalTokens).toBe((response.usage?.inputTokens ?? 0) + (response.usage?.outputTokens ?? 0));

    const [recorded] = standIn.requests;
    expect(recorded?.modelId).toBe(MODEL_ID);
    expect(recorded?.operation).toBe('converse');
    expect(recorded?.body).toMatchObject({ toolConfig: { toolChoice: { tool: { name: 'propose_widget' } } } });
  });

  it('answers a tool result with the next scripted text turn', async () => {
    standIn.script([{ text: 'The tile is ready.', stopReason: 'end_turn' }]);
    const response = await client().send(
      new ConverseCommand({
        modelId: MODEL_ID,
        toolConfig: TOOLS,
        messages: [
          { role: 'user', content: [{ text: 'Show claims' }] },
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'propose_widget', input: { metric: 'claims' } } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ json: { accepted: true } }] } }] },
        ],
      }),
    );
    expect(response.output?.message?.content).toEqual([{ text: 'The tile is ready.' }]);
    expect(response.stopReason).toBe('end_turn');
  });

  it('echoes the last user message when nothing is scripted', async () => {
    const response = await client().send(ask('What is the SLA today?'));
    expect(response.output?.message?.content).toEqual([{ text: 'Echo: What is the SLA today?' }]);
    expect(response.stopReason).toBe('end_turn');

    standIn.script([{ stopReason: 'max_tokens' }]);
    const truncated = await client().send(ask('Cut me short'));
    expect(truncated.output?.message?.content).toEqual([{ text: 'Echo: Cut me short' }]);
    expect(truncated.stopReason).toBe('max_tokens');
  });

  it('accepts model ids that are ARNs (with slashes and colons)', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0';
    const response = await client().send(new ConverseCommand({ modelId: arn, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    expect(response.output?.message?.content?.[0]?.text).toBe('Echo: hi');
    expect(standIn.requests[0]?.modelId).toBe(arn);
  });

  it('streams a scripted turn with ConverseStream', async () => {
    standIn.script([{ text: 'Streaming answers arrive in pieces.' }, { toolUse: { name: 'propose_widget', input: { metric: 'aht' } } }]);
    const texts: string[] = [];
    const text = await client().send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    for await (const event of text.stream ?? []) if (event.contentBlockDelta?.delta?.text) texts.push(event.contentBlockDelta.delta.text);
    expect(texts.join('')).toBe('Streaming answers arrive in pieces.');

    const inputs: string[] = [];
    let stopReason: string | undefined;
    const tool = await client().send(new ConverseStreamCommand({ modelId: MODEL_ID, toolConfig: TOOLS, messages: [{ role: 'user', content: [{ text: 'aht' }] }] }));
    for await (const event of tool.stream ?? []) {
      if (event.contentBlockDelta?.delta?.toolUse?.input) inputs.push(event.contentBlockDelta.delta.toolUse.input);
      if (event.messageStop) stopReason = event.messageStop.stopReason;
    }
    expect(JSON.parse(inputs.join(''))).toEqual({ metric: 'aht' });
    expect(stopReason).toBe('tool_use');
  });

  it('rejects a wrong secret with a signature error', async () => {
    const error = await failure(client({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wrong-secret' } }).send(ask('hi')));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/signature we calculated does not match/);
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  it('rejects an unknown access key', async () => {
    const error = await failure(client({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SECRET } }).send(ask('hi')));
    expect(error.name).toBe('UnrecognizedClientException');
  });

  it('rejects a signature scoped to another region', async () => {
    const error = await failure(client({ region: 'eu-west-1' }).send(ask('hi')));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/scoped to a valid region/);
  });

  it('rejects a stale date, from the SDK and by hand', async () => {
    const fromSdk = await failure(client({ systemClockOffset: -10 * 60 * 1000 }).send(ask('hi')));
    expect(fromSdk.name).toBe('InvalidSignatureException');
    expect(fromSdk.message).toMatch(/Signature expired/);

    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const stale = await signedRequest(body, { signingDate: new Date(Date.now() - 6 * 60 * 1000) });
    const response = await fetch(stale.url, { method: 'POST', headers: stale.headers, body });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
  });

  it('accepts a hand-signed request and rejects it once the body is altered', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'original' }] }] });
    for (const applyChecksum of [false, true]) {
      const request = await signedRequest(body, { applyChecksum });
      const intact = await fetch(request.url, { method: 'POST', headers: request.headers, body });
      expect(intact.status).toBe(200);
      expect(await intact.json()).toMatchObject({ output: { message: { content: [{ text: 'Echo: original' }] } } });

      const tampered = await fetch(request.url, { method: 'POST', headers: request.headers, body: body.replace('original', 'tampered') });
      expect(tampered.status).toBe(403);
      expect(tampered.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
      expect(((await tampered.json()) as { message: string }).message).toMatch(/does not match/);
    }
  });

  it('rejects an unsigned request', async () => {
    const response = await fetch(`${standIn.url}/model/${encodeURIComponent(MODEL_ID)}/converse`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('fails with scripted errors as typed SDK exceptions', async () => {
    standIn.script([
      { errorType: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
      { errorType: 'ModelTimeoutException' },
      { status: 503 },
    ]);
    const throttled = await failure(client().send(ask('hi')));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.message).toBe('Too many requests, please wait before trying again.');
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    expect((await failure(client().send(ask('hi')))).name).toBe('ModelTimeoutException');
    expect((await failure(client().send(ask('hi')))).name).toBe('ServiceUnavailableException');
    // The queue is drained: back to the echo.
    expect((await client().send(ask('again'))).output?.message?.content?.[0]?.text).toBe('Echo: again');
  });

  it('answers malformed requests with ValidationException', async () => {
    const noMessages = await failure(client().send(new ConverseCommand({ modelId: MODEL_ID })));
    expect(noMessages).toBeInstanceOf(ValidationException);
    expect(noMessages.message).toMatch(/messages/);

    const unknownTool = await failure(client().send(ask('hi', { toolConfig: { tools: TOOLS?.tools, toolChoice: { tool: { name: 'no_such_tool' } } } })));
    expect(unknownTool).toBeInstanceOf(ValidationException);
    expect(unknownTool.message).toMatch(/no_such_tool/);

    const assistantFirst = await failure(
      client().send(new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'assistant', content: [{ text: 'hello' }] }] })),
    );
    expect(assistantFirst.message).toMatch(/must start with a user message/);

    const body = '{"messages": [';
    const request = await signedRequest(body);
    const notJson = await fetch(request.url, { method: 'POST', headers: request.headers, body });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('x-amzn-errortype')).toBe('ValidationException');
    // Validation failures do not consume scripted turns.
    expect(standIn.requests.every((recorded) => recorded.errorType === 'ValidationException')).toBe(true);
  });
});

describe('Bedrock Converse stand-in with a session token', () => {
  let standIn: BedrockStandIn;
  beforeAll(async () => {
    standIn = await startBedrockStandIn({ region: REGION, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: 'session-token-1' });
  });
  afterAll(async () => {
    await standIn?.close();
  });

  it('requires the configured token', async () => {
    const make = (sessionToken?: string) =>
      new BedrockRuntimeClient({
        region: REGION,
        endpoint: standIn.url,
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, ...(sessionToken ? { sessionToken } : {}) },
        maxAttempts: 1,
      });
    const good = make('session-token-1');
    const missing = make();
    try {
      expect((await good.send(ask('hi'))).output?.message?.content?.[0]?.text).toBe('Echo: hi');
      expect((await failure(missing.send(ask('hi')))).name).toBe('UnrecognizedClientException');
    } finally {
      good.destroy();
      missing.destroy();
    }
  });
});
