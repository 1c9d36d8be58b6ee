import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConverseRequest } from './converse-schema.ts';
import { bedrockError } from './errors.ts';
import type { BedrockError } from './errors.ts';
import { streamEvents } from './event-stream.ts';
import { verifySigV4 } from './sigv4.ts';
import { listenHttp1And2 } from './transport.ts';
import type { IncomingCall, OutgoingReply } from './transport.ts';
import { answerTurn, converseResponse } from './turns.ts';
import type { ScriptedTurn } from './turns.ts';

export type { ScriptedTurn, StopReason } from './turns.ts';
export { Sha256 } from './sha256.ts';

export interface BedrockStandInOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** The only region a signature may be scoped to. */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry (and sign) exactly this X-Amz-Security-Token. */
  sessionToken?: string;
}

export type Operation = 'converse' | 'converse-stream';

/** Every request the stand-in received, in order, whatever became of it. */
export interface RecordedRequest {
  readonly operation: Operation | null;
  readonly modelId: string | null;
  readonly method: string;
  /** As sent, percent-encoding intact. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly body: unknown;
  readonly status: number;
  /** The `x-amzn-ErrorType` answered, or null on success. */
  readonly errorType: string | null;
  readonly receivedAt: Date;
}

export interface BedrockStandIn {
  /** Endpoint for `new BedrockRuntimeClient({ endpoint })`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly requests: RecordedRequest[];
  /**
   * Queues answers for the next Converse calls, first in first out, after any still queued. With the
   * queue empty, a call is answered with an echo of its last user message.
   */
  script(turns: ScriptedTurn[]): void;
  close(): Promise<void>;
}

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

function route(rawPath: string): { operation: Operation; modelId: string } | null {
  const match = ROUTE.exec(rawPath);
  if (!match) return null;
  try {
    return { operation: match[2] as Operation, modelId: decodeURIComponent(match[1] ?? '') };
  } catch {
    return null;
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function jsonReply(status: number, body: unknown, extra: Record<string, string> = {}): OutgoingReply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...extra },
    chunks: [Buffer.from(JSON.stringify(body), 'utf8')],
  };
}

function errorReply(error: BedrockError): OutgoingReply {
  return jsonReply(error.status, { message: error.message }, { 'x-amzn-errortype': error.type });
}

/** Starts a local Bedrock Runtime endpoint that verifies SigV4 and answers Converse from a script. */
export async function startBedrockStandIn(options: BedrockStandInOptions): Promise<BedrockStandIn> {
  const host = options.host ?? '127.0.0.1';
  const credentials = {
    region: options.region,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
  };
  const queue: ScriptedTurn[] = [];
  const requests: RecordedRequest[] = [];
  let toolUses = 0;
  const nextToolUseId = () => `tooluse_standin${String(++toolUses).padStart(6, '0')}`;

  async function answer(call: IncomingCall, rawPath: string, rawQuery: string): Promise<OutgoingReply> {
    const started = Date.now();
    const rejected = await verifySigV4({ method: call.method, rawPath, rawQuery, headers: call.headers, body: call.body }, credentials);
    if (rejected) return errorReply(rejected);

    const target = route(rawPath);
    if (!target || call.method !== 'POST') {
      return errorReply(bedrockError('UnknownOperationException', `No operation at ${call.method} ${rawPath}.`, 404));
    }
    if (target.modelId === '' || target.modelId.length > 2048) {
      return errorReply(bedrockError('ValidationException', "1 validation error detected: Value at 'modelId' failed to satisfy constraint: Member must have length between 1 and 2048"));
    }
    const json = parseJson(call.body);
    if (json === undefined) return errorReply(bedrockError('ValidationException', 'The request body is not valid JSON.'));
    const parsed = parseConverseRequest(json);
    if (!parsed.ok) return errorReply(bedrockError('ValidationException', parsed.message));

    const scripted = queue.shift();
    if (scripted?.delayMs) await sleep(scripted.delayMs);
    const result = answerTurn(scripted, parsed.request, nextToolUseId);
    if (!result.ok) return errorReply(result.error);
    const latencyMs = Date.now() - started;
    if (target.operation === 'converse') return jsonReply(200, converseResponse(result.turn, latencyMs));
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() },
      chunks: streamEvents(result.turn, latencyMs),
    };
  }

  const listener = await listenHttp1And2(
    async (call) => {
      const receivedAt = new Date();
      const queryStart = call.rawUrl.indexOf('?');
      const rawPath = queryStart === -1 ? call.rawUrl : call.rawUrl.slice(0, queryStart);
      const rawQuery = queryStart === -1 ? '' : call.rawUrl.slice(queryStart + 1);
      const reply = await answer(call, rawPath, rawQuery);
      const target = route(rawPath);
      requests.push({
        operation: target?.operation ?? null,
        modelId: target?.modelId ?? null,
        method: call.method,
        path: rawPath,
        headers: call.headers,
        rawBody: call.body.toString('utf8'),
        body: parseJson(call.body),
        status: reply.status,
        errorType: reply.headers['x-amzn-errortype'] ?? null,
        receivedAt,
      });
      return reply;
    },
    options.port ?? 0,
    host,
  );

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}`,
    port: listener.port,
    region: options.region,
    requests,
    script(turns) {
      queue.push(...turns);
    },
    close: () => listener.close(),
  };
}
