import { z } from 'zod';
import type { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
import type { DashboardHubEdge } from '../../durable-objects/dashboard-hub-edge.ts';
import type { DeadLetter, QueuedEvents } from '../queues/events.ts';
import { DASHBOARD_NAME } from '../../durable-objects/dashboards.ts';
import type { UserSpace } from '../../durable-objects/user-space.ts';
import type { Identity } from '../auth/roles.ts';
import type { Logger } from '../lib/log.ts';
import type { Services } from '../services/index.ts';

/** Raw bindings as wrangler hands them to the worker: vars, secrets and Durable Objects. */
export interface Bindings {
  DASHBOARD_HUB: DurableObjectNamespace<DashboardHub>;
  DASHBOARD_HUB_EDGE: DurableObjectNamespace<DashboardHubEdge>;
  /** High-volume ingest (worker/queues/events.ts) and where its consumer sets poison aside. */
  EVENTS_QUEUE: Queue<QueuedEvents>;
  EVENTS_DLQ: Queue<DeadLetter>;
  USER_SPACE: DurableObjectNamespace<UserSpace>;
  [key: string]: unknown;
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const optionalUrl = optionalString.pipe(z.url().optional());

/**
 * Everything the worker reads from its environment, validated once at the entry. The LOCAL_*
 * variables are set only by the local stack so /health can name the stand-in behind an URL.
 */
export const ConfigSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('production'),
  DATABASE_URL: optionalUrl,
  NEON_WS_PROXY: optionalString,
  /** Where single statements go over HTTP; unset means Neon's own `https://<host>/sql`. */
  NEON_HTTP_ENDPOINT: optionalUrl,
  LOCAL_POSTGRES: z.enum(['server', 'pglite']).optional(),
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalString,
  LOCAL_REDIS: z.enum(['redis', 'memory']).optional(),
  /**
   * Put before every Redis key (`<prefix>:cc:...`), so several deployments or test runs can share one
   * Redis database without reading or clearing each other's keys. No glob characters: the local stack
   * deletes its keys with SCAN MATCH `<prefix>:*`.
   */
  REDIS_KEY_PREFIX: optionalString.pipe(
    z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -').optional(),
  ),
  DATABRICKS_HOST: optionalUrl,
  DATABRICKS_TOKEN: optionalString,
  DATABRICKS_WAREHOUSE_ID: optionalString,
  DATABRICKS_CATALOG: z.string().default('workspace'),
  DATABRICKS_SCHEMA: z.string().default('support_l3'),
  LOCAL_DATABRICKS: z.enum(['duckdb']).optional(),
  /** The lakehouse refresh job: its id when known, else it is looked up by name through the Jobs API. */
  DATABRICKS_REFRESH_JOB_ID: optionalString.pipe(z.string().regex(/^\d{1,18}$/, 'must be a Databricks job id').optional()),
  DATABRICKS_REFRESH_JOB_NAME: z.string().min(1).default('support_l3_refresh'),
  /** How long the lakehouse tables' Delta versions (part of every analytics cache key) are shared before being read again. */
  TABLE_VERSIONS_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  BEDROCK_MODEL_ID: z.string().default('anthropic.claude-haiku-4-5-20251001-v1:0'),
  BEDROCK_ENDPOINT: optionalUrl,
  BUILDER_MODE: z.enum(['live', 'offline']).default('live'),
  SESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3_600),
  SIGNIN_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).max(1_000).default(5),
  SIGNIN_LIMIT_PER_IP: z.coerce.number().int().min(1).max(10_000).default(30),
  USER_RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  ACCESS_TEAM_DOMAIN: optionalString,
  ACCESS_AUD: optionalString,
  ACCESS_CERTS_URL: optionalUrl,
  CORS_ORIGINS: optionalString.transform((v) => (v ? v.split(',').map((o) => o.trim()).filter(Boolean) : [])),
  MAX_BODY_BYTES: z.coerce.number().int().positive().max(10_485_760).default(1_048_576),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().max(30_000).default(2_000),
  /** The dashboards (hubs) this deployment serves, comma-separated; see durable-objects/dashboards.ts. */
  DASHBOARDS: z
    .string()
    .default('default')
    .transform((v) => [...new Set(v.split(',').map((d) => d.trim()).filter(Boolean))])
    .pipe(
      z
        .array(z.string().regex(DASHBOARD_NAME, 'each dashboard name: a-z, 0-9, _ and -, up to 63 characters'))
        .max(50)
        // The site's dashboard and layout updates use `default`.
        .refine((names) => names.includes('default'), 'must include default, the dashboard the site shows'),
    ),
});

export type Config = z.infer<typeof ConfigSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

const cache = new WeakMap<object, ConfigResult>();

/** Parse the environment once per isolate; the bindings object is stable for its lifetime. */
export function loadConfig(env: object): ConfigResult {
  const cached = cache.get(env);
  if (cached) return cached;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = (env as Record<string, unknown>)[key];
    if (value !== undefined) raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // A local WebSocket bridge stands in for Neon's proxy; its HTTP query endpoint must be local too,
  // or single statements would go to https://127.0.0.1/sql.
  if (parsed.success && parsed.data.NEON_WS_PROXY && !parsed.data.NEON_HTTP_ENDPOINT) {
    problems.push('NEON_HTTP_ENDPOINT: required when NEON_WS_PROXY points at a local bridge');
  }
  const result: ConfigResult = parsed.success && problems.length === 0 ? { ok: true, config: parsed.data } : { ok: false, problems };
  cache.set(env, result);
  return result;
}

/** The one Hono environment type every route and middleware shares. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    /** The request's logger: every line carries request_id, method and route. */
    log: Logger;
    config: Config;
    services: Services;
    /** Set by the authorize middleware; null on public routes without a caller. */
    identity: Identity | null;
    /** config/metric_routing.yaml as this app instance was built with it. */
    routingText: string;
  };
}
