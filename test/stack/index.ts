import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '../../scripts/migrations.ts';
import { startAccessStandIn } from './access.ts';
import { startBedrockStandIn } from './bedrock/server.ts';
import { startStackControl } from './control.ts';
import { startDatabricksStandIn } from './databricks/server.ts';
import { startLocalPostgres } from './postgres/index.ts';
import type { LocalPostgres } from './postgres/index.ts';
import { deleteKeysUnder } from './upstash/keys.ts';
import { startUpstashServer } from './upstash/server.ts';
import { ensureStarterTiles } from './starter-tiles.ts';
import { startWebhookReceiver } from './webhook.ts';
import { LOCAL_USERS, ensureUsers } from './users.ts';

export const DICTIONARY_DIR = fileURLToPath(new URL('../../data-dictionary/', import.meta.url));

export interface StackOptions {
  /** dev keeps its data; test and browser start from a fresh database of their own. */
  purpose: 'dev' | 'test' | 'browser' | 'bench';
  /** Log a line per part as it comes up. */
  log?: (line: string) => void;
}

export interface Stack {
  /** Worker variables that point the production clients at the stand-ins. */
  vars: Record<string, string>;
  postgres: LocalPostgres;
  upstash: Awaited<ReturnType<typeof startUpstashServer>>;
  databricks: Awaited<ReturnType<typeof startDatabricksStandIn>>;
  bedrock: Awaited<ReturnType<typeof startBedrockStandIn>> | null;
  close(): Promise<void>;
}

/**
 * Database name and Redis index per purpose, so test runs never touch what a dev server holds.
 * Test databases also carry the stack's pid: two runs at once each get their own.
 */
const DATABASE = {
  dev: 'command_center',
  test: 'command_center_test',
  browser: 'command_center_browser',
  bench: 'command_center_bench',
} as const;
const REDIS_DB = { dev: 0, test: 2, browser: 3, bench: 4 } as const;
/** Incident phase compression per purpose (dev runs the real 15-20 s unless INCIDENT_TIME_SCALE says otherwise). */
const INCIDENT_TIME_SCALE: Partial<Record<StackOptions['purpose'], string>> = { test: '0.01', browser: '0.2' };

function redisUrlFor(purpose: StackOptions['purpose']): string {
  const base = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  if (!process.env.REDIS_URL) base.pathname = `/${REDIS_DB[purpose]}`;
  return base.toString();
}

/**
 * The worker's REDIS_KEY_PREFIX. Test runs each get one of their own and delete exactly those keys
 * when they stop, so two runs (or a run and a dev server) can share a Redis database without
 * clearing or reading each other's keys; dev keeps one stable prefix so its cache survives restarts.
 */
function redisKeyPrefix(purpose: StackOptions['purpose']): string {
  return purpose === 'dev' ? 'dev' : `${purpose}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Starts every local stand-in the worker needs, each speaking its production protocol, and
 * applies the migrations. Tests get fresh state; dev keeps its database between runs.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => undefined);
  const test = options.purpose !== 'dev';
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    // Redis detection and the Postgres probe run first: generating the lakehouse keeps the
    // event loop busy, and a probe starved of it would wrongly conclude nothing is there.
    const [postgres, upstash] = await Promise.all([
      startLocalPostgres({
        database: test ? `${DATABASE[options.purpose]}_${process.pid}` : DATABASE[options.purpose],
        reset: test,
        embedded: process.env.LOCAL_POSTGRES === 'pglite',
        pgliteDir: !test && process.env.PGLITE_DIR ? process.env.PGLITE_DIR : undefined,
      }).then((p) => (started.push(p), p)),
      startUpstashServer({
        token: `local-${randomBytes(12).toString('hex')}`,
        redisUrl: redisUrlFor(options.purpose),
        memory: process.env.LOCAL_REDIS === 'memory',
      }).then((u) => (started.push(u), u)),
    ]);
    const keyPrefix = redisKeyPrefix(options.purpose);
    const databricks = await startDatabricksStandIn({
      token: `dapi-local-${randomBytes(12).toString('hex')}`,
      dictionaryDir: DICTIONARY_DIR,
    });
    started.push(databricks);
    log(`postgres   ${postgres.kind === 'server' ? 'local PostgreSQL server' : 'embedded PGlite'} via ${postgres.wsProxy}, HTTP queries at ${postgres.httpEndpoint}`);
    log(`redis      ${upstash.mode === 'redis' ? 'local Redis' : 'in-memory stand-in'} behind Upstash REST at ${upstash.url}`);
    log(`databricks Statement Execution API stand-in at ${databricks.url}`);

    const report = await migrateDatabase(postgres.databaseUrl);
    log(`migrations ${report.applied.length} applied, ${report.skipped.length} already in place`);
    await ensureUsers(postgres.databaseUrl, LOCAL_USERS);
    log(`users      ${LOCAL_USERS.map((u) => `${u.email} (${u.role})`).join(', ')}`);
    if (!test) {
      const starters = await ensureStarterTiles(postgres.databaseUrl, LOCAL_USERS.filter((u) => u.role !== 'viewer').map((u) => u.email));
      if (starters > 0) log(`tiles      ${starters} starter tiles for the local admin and editor`);
    }

    // Tests always exercise the signed Bedrock path; dev uses it only when asked to, and
    // otherwise says plainly that the builder is offline.
    const withBedrock = test || process.env.LOCAL_BEDROCK === '1';
    const bedrockCreds = { region: 'us-east-1', accessKeyId: 'AKIALOCALSTANDIN0001', secretAccessKey: randomBytes(20).toString('hex') };
    const bedrock = withBedrock ? await startBedrockStandIn(bedrockCreds) : null;
    if (bedrock) started.push(bedrock);
    // Access stays off unless a test turns it on; its stand-in only has to be reachable.
    const access = test ? await startAccessStandIn() : null;
    if (access) started.push(access);
    const control = test ? await startStackControl({ postgres, upstash, databricks, bedrock }) : null;
    if (control) started.push(control);
    // The incident notifications' Slack stand-in, unless a real webhook is given.
    const webhook = process.env.INCIDENT_WEBHOOK_URL ? null : await startWebhookReceiver();
    if (webhook) started.push(webhook);
    log(`webhook    ${webhook ? `Slack incoming-webhook stand-in at ${webhook.url} (GET ${webhook.base}/received)` : process.env.INCIDENT_WEBHOOK_URL}`);
    const liveAws = Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
    log(`bedrock    ${bedrock ? `Converse stand-in at ${bedrock.url}` : liveAws ? 'AWS Bedrock with the credentials in the environment' : 'offline builder (no AWS credentials)'}`);

    const vars: Record<string, string> = {
      APP_ENV: test ? 'test' : 'development',
      // Local only, and new on every start: a restart signs everyone out.
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: postgres.databaseUrl,
      NEON_WS_PROXY: postgres.wsProxy,
      NEON_HTTP_ENDPOINT: postgres.httpEndpoint,
      LOCAL_POSTGRES: postgres.kind,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      LOCAL_REDIS: upstash.mode,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_TOKEN: databricks.token,
      DATABRICKS_WAREHOUSE_ID: databricks.warehouseId,
      LOCAL_DATABRICKS: 'duckdb',
      ...(bedrock
        ? {
            BUILDER_MODE: 'live',
            AWS_REGION: bedrockCreds.region,
            AWS_ACCESS_KEY_ID: bedrockCreds.accessKeyId,
            AWS_SECRET_ACCESS_KEY: bedrockCreds.secretAccessKey,
            BEDROCK_ENDPOINT: bedrock.url,
          }
        : process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
          ? {
              // Real credentials in the environment: dev talks to Bedrock itself.
              BUILDER_MODE: 'live',
              AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
              AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
              AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
              ...(process.env.AWS_SESSION_TOKEN ? { AWS_SESSION_TOKEN: process.env.AWS_SESSION_TOKEN } : {}),
            }
          : { BUILDER_MODE: 'offline' }),
      ...(access ? { STACK_ACCESS_URL: access.url } : {}),
      ...(control ? { STACK_CONTROL_URL: control.url, STACK_CONTROL_TOKEN: control.token } : {}),
      INCIDENT_WEBHOOK_URL: webhook?.url ?? process.env.INCIDENT_WEBHOOK_URL!,
      ...(webhook ? { STACK_WEBHOOK_URL: webhook.base } : {}),
      // Incidents run compressed where waiting 15-20 s each would only slow the suite down.
      ...(INCIDENT_TIME_SCALE[options.purpose] ?? process.env.INCIDENT_TIME_SCALE
        ? { INCIDENT_TIME_SCALE: process.env.INCIDENT_TIME_SCALE ?? INCIDENT_TIME_SCALE[options.purpose]! }
        : {}),
    };

    return {
      vars,
      postgres,
      upstash,
      databricks,
      bedrock,
      async close() {
        // The run's keys go first, while the server in front of Redis still answers.
        if (test) await deleteKeysUnder(upstash, keyPrefix).catch((error: unknown) => log(`redis      could not delete the keys under ${keyPrefix}: ${String(error)}`));
        await Promise.allSettled(started.reverse().map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}
