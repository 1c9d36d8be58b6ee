// The Bedrock Converse client as it runs inside workerd: the AWS SDK with fetch underneath (the
// SDK's Node handler needs sockets workerd does not have), SigV4 with the static credentials of the
// config, a deadline per call and a bounded number of attempts. Without credentials, or in offline
// mode, it does not pretend: every call fails with a `not_configured` DependencyError saying why.
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import type { Config } from '../config/env.ts';
import { DependencyError } from '../http/errors.ts';
import { classifyError } from './errors.ts';
import { readConverseStream } from './stream.ts';
import type { BedrockClient, ConverseInput, ConverseResult, StreamEvent } from './types.ts';
import { fromConverseResponse, toConverseRequest } from './wire.ts';

export * from './errors.ts';
export type * from './types.ts';
export { callTool, toToolInputSchema } from './tools.ts';
export type { CallToolInput, CallToolResult, ToolDefinition } from './tools.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Retries multiply latency and spend; more than this is never what a request handler wants. */
export const MAX_ATTEMPTS_LIMIT = 5;
export const DEFAULT_MAX_TOKENS = 1_024;

export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Knobs a caller may turn; everything else comes from the config. */
export interface BedrockClientTuning {
  /** Budget of one call, retries included. Defaults to 30 s. */
  timeoutMs?: number;
  /** SDK attempts per call (1 = no retry), 1..5. Defaults to 3. */
  maxAttempts?: number;
  /** `maxTokens` when a call does not set it. */
  defaultMaxTokens?: number;
}

export interface BedrockClientOptions extends BedrockClientTuning {
  region: string;
  modelId: string;
  credentials: BedrockCredentials;
  /** Overrides the regional endpoint, e.g. the local stand-in. */
  endpoint?: string | undefined;
  /** The fetch the SDK sends with; the global one unless a test or a binding provides another. */
  fetch?: typeof fetch | undefined;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/** A client whose every call fails with the given reason. */
export function createUnavailableBedrockClient(modelId: string, reason: string): BedrockClient {
  const fail = (): DependencyError => new DependencyError('bedrock', 'not_configured', reason);
  return {
    modelId,
    available: false,
    converse: () => Promise.reject(fail()),
    converseStream: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(fail()) }),
    }),
  };
}

export function createBedrockClientFromOptions(options: BedrockClientOptions): BedrockClient {
  const { region, modelId, credentials } = options;
  if (!region) throw new RangeError('a region is required');
  if (!modelId) throw new RangeError('a model id is required');
  if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new RangeError('an access key id and secret are required');
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const defaultMaxTokens = positive('defaultMaxTokens', options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new RangeError(`maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  const secrets = [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ''];

  // Built on the first call: a service set is made per request, and most requests never ask the model.
  let sdk: BedrockRuntimeClient | undefined;
  const runtime = (): BedrockRuntimeClient =>
    (sdk ??= new BedrockRuntimeClient({
      region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      },
      requestHandler: new FetchHttpHandler({ requestTimeout: timeoutMs, ...(options.fetch ? { customFetch: options.fetch } : {}) }),
      maxAttempts,
      retryMode: 'standard',
      // Given outright so no setting is looked up in process.env or ~/.aws, whichever runtime
      // config (browser or Node) the bundler resolved.
      defaultsMode: 'standard',
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
    }));

  /**
   * One signal per call: the call's own deadline, the caller's signal, and `done`, which releases
   * whatever the call still holds (a stream its consumer left early). Which one fired tells a
   * timeout from the caller's abort.
   */
  const startCall = (input: ConverseInput) => {
    const budgetMs = positive('timeoutMs', input.timeoutMs ?? timeoutMs);
    const deadline = AbortSignal.timeout(Math.ceil(budgetMs));
    const done = new AbortController();
    const signal = AbortSignal.any([deadline, done.signal, ...(input.signal ? [input.signal] : [])]);
    return {
      signal,
      budgetMs,
      failure: (error: unknown) =>
        classifyError(error, { secrets, timeoutMs: budgetMs, callerAborted: input.signal?.aborted === true, timedOut: deadline.aborted }),
      end: () => done.abort(),
    };
  };

  async function converse(input: ConverseInput): Promise<ConverseResult> {
    const request = toConverseRequest(modelId, input, defaultMaxTokens);
    const call = startCall(input);
    const started = Date.now();
    try {
      const output = await runtime().send(new ConverseCommand(request), { abortSignal: call.signal, requestTimeout: call.budgetMs });
      return fromConverseResponse(output, Date.now() - started);
    } catch (error) {
      throw call.failure(error);
    } finally {
      call.end();
    }
  }

  async function* converseStream(input: ConverseInput): AsyncGenerator<StreamEvent> {
    const request = toConverseRequest(modelId, input, defaultMaxTokens);
    const call = startCall(input);
    try {
      const output = await runtime().send(new ConverseStreamCommand(request), { abortSignal: call.signal, requestTimeout: call.budgetMs });
      if (!output.stream) throw new DependencyError('bedrock', 'protocol', 'Bedrock answered ConverseStream without an event stream');
      yield* readConverseStream(output.stream);
    } catch (error) {
      throw call.failure(error);
    } finally {
      // Also reached when the consumer stops early: the abort releases the connection.
      call.end();
    }
  }

  return { modelId, available: true, converse, converseStream };
}

/**
 * The client for this worker's configuration. BUILDER_MODE=offline and missing credentials both
 * give a client that refuses every call; callers that have an offline path check `available`.
 */
export function createBedrockClient(config: Config, tuning: BedrockClientTuning = {}): BedrockClient {
  const modelId = config.BEDROCK_MODEL_ID;
  if (config.BUILDER_MODE === 'offline') {
    return createUnavailableBedrockClient(modelId, 'BUILDER_MODE is offline: this worker makes no model calls.');
  }
  if (!config.AWS_ACCESS_KEY_ID || !config.AWS_SECRET_ACCESS_KEY) {
    return createUnavailableBedrockClient(modelId, 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set: the model is not configured.');
  }
  return createBedrockClientFromOptions({
    ...tuning,
    region: config.AWS_REGION,
    modelId,
    endpoint: config.BEDROCK_ENDPOINT,
    credentials: {
      accessKeyId: config.AWS_ACCESS_KEY_ID,
      secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
      sessionToken: config.AWS_SESSION_TOKEN,
    },
  });
}
