import type { Config } from '../config/env.ts';
import type { DependencyMode, DependencyProbe } from '../services/mode.ts';
import { createBedrockClient } from './bedrock.ts';
import type { BedrockClient } from './types.ts';

/**
 * SDK attempts per model call. Bounded low: a person is waiting (the clarifier, the SQL
 * generator), and a throttled Bedrock is better reported at once than retried into the request's
 * time limit.
 */
export const MODEL_ATTEMPTS = 2;
/** One model call's budget, retries included. */
export const MODEL_TIMEOUT_MS = 20_000;

export interface BedrockService {
  readonly mode: DependencyMode;
  readonly provider: string;
  /** The Converse client; without credentials or in offline mode every call fails `not_configured`. */
  readonly client: BedrockClient;
  health(): DependencyProbe;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * Bedrock is not probed on /health: a Converse call costs tokens. Health reports whether the
 * builder can run live, runs against the local stand-in, or runs in its explicit offline mode.
 */
export function createBedrock(config: Config): BedrockService {
  const hasCredentials = Boolean(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY);
  let mode: DependencyMode;
  let provider: string;
  let status: DependencyProbe['status'] = 'ok';
  let detail: string | null = `model ${config.BEDROCK_MODEL_ID}, not probed`;
  if (config.BUILDER_MODE === 'offline') {
    mode = 'offline';
    provider = 'offline builder: catalog-anchored templates, no model calls';
    detail = 'BUILDER_MODE=offline';
  } else if (!hasCredentials) {
    mode = 'disabled';
    provider = 'none';
    status = 'disabled';
    detail = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set; the widget builder answers llm_unavailable';
  } else if (config.BEDROCK_ENDPOINT && isLoopback(config.BEDROCK_ENDPOINT)) {
    mode = 'local';
    provider = 'local Bedrock Converse stand-in (SigV4 verified)';
  } else {
    mode = 'live';
    provider = `AWS Bedrock (${config.AWS_REGION})`;
  }
  const report: DependencyProbe = { mode, provider, status, latency_ms: null, detail };
  const client = createBedrockClient(config, { maxAttempts: MODEL_ATTEMPTS, timeoutMs: MODEL_TIMEOUT_MS });
  return { mode, provider, client, health: () => report };
}
