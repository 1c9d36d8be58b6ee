import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startDatabricksStandIn } from './databricks/server.ts';
import type { DatabricksStandIn } from './databricks/server.ts';
import type { Stack } from './index.ts';
import { startLocalPostgres } from './postgres/index.ts';
import type { LocalPostgres } from './postgres/index.ts';
import { LOCAL_USERS, ensureUsers } from './users.ts';
import { migrateDatabase } from '../../scripts/migrations.ts';

const DICTIONARY_DIR = fileURLToPath(new URL('../../data-dictionary/', import.meta.url));

/**
 * Fault control for tests that run inside workerd and so cannot call the stand-ins' handles:
 * a loopback HTTP server, guarded by a random token, that stops and starts the lakehouse,
 * sets its faults, stalls Postgres's HTTP endpoint, pauses Redis and scripts Bedrock turns. Only the test stacks run it.
 *
 * It also starts private lakehouses (`POST /lakehouses`, answering their worker variables): a test
 * that changes the lakehouse's data, as a refresh run does, works on one of its own and leaves the
 * shared one, and every other test's numbers and cache, alone.
 */
export interface StackControl {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startStackControl(stack: Omit<Stack, 'close' | 'vars'>): Promise<StackControl> {
  const token = randomBytes(16).toString('hex');
  const actions: Record<string, (body: unknown) => Promise<unknown>> = {
    '/databricks/stop': async () => stack.databricks.stop(),
    '/databricks/start': async () => stack.databricks.start(),
    '/databricks/faults': async (body) => stack.databricks.faults.set(body as never),
    '/databricks/clear': async () => stack.databricks.faults.clear(),
    // The benchmark's raw baseline: what the app submitted, and those statements timed on the engine.
    '/databricks/statements': async (body) => stack.databricks.statementsSince((body as { since?: number } | undefined)?.since ?? 0),
    '/databricks/time': async (body) => {
      const { statements, runs } = body as { statements: Parameters<typeof stack.databricks.timeOnEngine>[0]; runs: number };
      return { latencies: await stack.databricks.timeOnEngine(statements, Math.min(Math.max(1, runs), 1000)) };
    },
    '/databricks/explain': async (body) => ({
      plans: await stack.databricks.explainOnEngine((body as { statements: Parameters<typeof stack.databricks.explainOnEngine>[0] }).statements),
    }),
    '/postgres/http/stall': async () => stack.postgres.stallHttp(),
    '/postgres/http/release': async () => stack.postgres.releaseHttp(),
    '/redis/pause': async () => stack.upstash.pause(),
    '/redis/resume': async () => stack.upstash.resume(),
    '/bedrock/script': async (body) => {
      if (!stack.bedrock) throw new Error('no Bedrock stand-in in this stack');
      stack.bedrock.script(body as never);
    },
  };
  const lakehouses = new Map<string, DatabricksStandIn>();
  actions['/lakehouses'] = async (body) => {
    const { jobPhaseMs, chunkRows } = (body ?? {}) as { jobPhaseMs?: number; chunkRows?: number };
    const lakehouse = await startDatabricksStandIn({
      token: `dapi-private-${randomBytes(12).toString('hex')}`,
      dictionaryDir: DICTIONARY_DIR,
      ...(jobPhaseMs === undefined ? {} : { jobPhaseMs }),
      ...(chunkRows === undefined ? {} : { chunkRows }),
    });
    const id = randomBytes(8).toString('hex');
    lakehouses.set(id, lakehouse);
    return {
      id,
      now: lakehouse.now.toISOString(),
      vars: { DATABRICKS_HOST: lakehouse.url, DATABRICKS_TOKEN: lakehouse.token, DATABRICKS_WAREHOUSE_ID: lakehouse.warehouseId },
    };
  };
  // Private databases (`POST /postgres/databases`, answering their worker variables): migrated, with
  // the local users, for a test that needs a whole table to itself (signal hydration marks every
  // signal the marts lack as stale). `/postgres/databases/<id>/drop` drops one.
  const databases = new Map<string, LocalPostgres>();
  actions['/postgres/databases'] = async () => {
    const id = randomBytes(6).toString('hex');
    const pg = await startLocalPostgres({ database: `command_center_private${id}_${process.pid}`, reset: true });
    databases.set(id, pg);
    await migrateDatabase(pg.databaseUrl);
    await ensureUsers(pg.databaseUrl, LOCAL_USERS);
    return { id, vars: { DATABASE_URL: pg.databaseUrl, NEON_HTTP_ENDPOINT: pg.httpEndpoint, NEON_WS_PROXY: pg.wsProxy } };
  };
  const databaseAction = (url: string): ((body: unknown) => Promise<unknown>) | undefined => {
    const match = /^\/postgres\/databases\/([0-9a-f]{12})\/drop$/.exec(url);
    const pg = match ? databases.get(match[1]!) : undefined;
    if (!match || !pg) return undefined;
    return async () => {
      databases.delete(match[1]!);
      await pg.close();
    };
  };
  /** `/lakehouses/<id>/<verb>`: what `/databricks/<verb>` does, for a private lakehouse; `sql` runs raw DuckDB SQL on it and answers the rows. */
  const privateAction = (url: string): ((body: unknown) => Promise<unknown>) | undefined => {
    const match = /^\/lakehouses\/([0-9a-f]{16})\/(stop|start|faults|clear|close|sql)$/.exec(url);
    const lakehouse = match ? lakehouses.get(match[1]!) : undefined;
    if (!match || !lakehouse) return undefined;
    const verbs: Record<string, (body: unknown) => Promise<unknown>> = {
      stop: async () => lakehouse.stop(),
      start: async () => lakehouse.start(),
      faults: async (body) => lakehouse.faults.set(body as never),
      clear: async () => lakehouse.faults.clear(),
      close: async () => {
        lakehouses.delete(match[1]!);
        await lakehouse.close();
      },
      sql: async (body) => {
        const rows = await lakehouse.query(String((body as { sql?: unknown } | undefined)?.sql ?? ''));
        // DuckDB hands back bigints and Dates; the answer is JSON, so they travel as strings.
        return { rows: JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown };
      },
    };
    return verbs[match[2]!];
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const action = req.method === 'POST' ? (actions[req.url ?? ''] ?? privateAction(req.url ?? '') ?? databaseAction(req.url ?? '')) : undefined;
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      if (!action) return void res.writeHead(404).end();
      Promise.resolve()
        .then(() => action(raw ? JSON.parse(raw) : undefined))
        .then((answer) =>
          answer === undefined ? res.writeHead(204).end() : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
        )
        .catch((err: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...lakehouses.values()].map((lakehouse) => lakehouse.close()));
      await Promise.allSettled([...databases.values()].map((pg) => pg.close()));
    },
  };
}
