import net from 'node:net';
import { createRequire } from 'node:module';
import { Client, neonConfig } from '@neondatabase/serverless';
import { startPgBridge } from './bridge.ts';
import { startNeonHttp } from './http.ts';

const require = createRequire(import.meta.url);

export type LocalPostgresKind = 'server' | 'pglite';

export interface LocalPostgres {
  kind: LocalPostgresKind;
  /** Connection string the Neon driver uses (through the bridge). */
  databaseUrl: string;
  /** neonConfig.wsProxy value pointing at the bridge. */
  wsProxy: string;
  /** neonConfig.fetchEndpoint value: the HTTP query stand-in. */
  httpEndpoint: string;
  /** Makes the HTTP query endpoint hang (fault tests), and lets it go. */
  stallHttp(): void;
  releaseHttp(): void;
  close(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** A server to use; when absent, 127.0.0.1:5432 is tried, then embedded PGlite. */
  databaseUrl?: string;
  /** Database name to create (and, with reset, recreate) on a real server. */
  database: string;
  reset?: boolean;
  /** Where PGlite keeps its files; in memory when absent. */
  pgliteDir?: string;
  /** Skip server detection and run embedded PGlite (LOCAL_POSTGRES=pglite). */
  embedded?: boolean;
}

/** Point the Neon driver at a local bridge from Node (tests, migrations, scripts). */
export function useBridgeFromNode(wsProxy: string): void {
  neonConfig.webSocketConstructor = require('ws');
  neonConfig.wsProxy = wsProxy;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  if (options.embedded) return startPglite(options);
  const explicit = options.databaseUrl ?? process.env.DATABASE_URL;
  if (explicit) return startForServer(explicit, options, true);
  if (await reachable('127.0.0.1', 5432)) {
    return startForServer('postgres://postgres@127.0.0.1:5432/postgres', options, false);
  }
  return startPglite(options);
}

async function startForServer(
  serverUrl: string,
  options: LocalPostgresOptions,
  explicit: boolean,
): Promise<LocalPostgres> {
  const url = new URL(serverUrl);
  const address = `${url.hostname}:${url.port || '5432'}`;
  const bridge = await startPgBridge({ allow: [address] });
  useBridgeFromNode(bridge.wsProxy);
  // An explicit DATABASE_URL names its own database; otherwise the stack owns one per purpose.
  let database = options.database;
  if (explicit) database = url.pathname.slice(1) || options.database;
  else await ensureDatabase(url, database, options.reset ?? false);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${database}`;
  const perRun = !explicit && /_\d+$/.test(database);
  const httpQueries = await startNeonHttp({ databaseUrl: dbUrl.toString(), via: 'tcp' });
  return {
    kind: 'server',
    databaseUrl: dbUrl.toString(),
    wsProxy: bridge.wsProxy,
    httpEndpoint: httpQueries.url,
    stallHttp: () => httpQueries.stall(),
    releaseHttp: () => httpQueries.release(),
    async close() {
      await httpQueries.close();
      if (perRun) await dropDatabase(dbUrl.toString()).catch(() => undefined);
      await bridge.close();
    },
  };
}

async function ensureDatabase(server: URL, database: string, reset: boolean): Promise<void> {
  const admin = new URL(server);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await dropOrphans(client, database);
    const quoted = `"${database.replaceAll('"', '""')}"`;
    if (reset) await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rows.length === 0) await client.query(`CREATE DATABASE ${quoted}`);
  } finally {
    await client.end();
  }
}

/** Per-run databases (`name_<pid>`) whose process is gone are dropped, so crashes leave no litter. */
async function dropOrphans(client: Client, database: string): Promise<void> {
  const match = /^(.*)_(\d+)$/.exec(database);
  if (!match) return;
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${match[1]}\\_%`]);
  for (const { datname } of rows) {
    const pid = Number(/_(\d+)$/.exec(datname)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await client.query(`DROP DATABASE IF EXISTS "${datname.replaceAll('"', '""')}" WITH (FORCE)`).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drops a per-run database when its stack stops. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function startPglite(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = options.pgliteDir ? new PGlite(options.pgliteDir) : new PGlite();
  await db.waitReady;
  const port = await freePort();
  // PGlite serialises every connection into one session; several slots keep pools from queueing forever.
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  const bridge = await startPgBridge({ allow: [`127.0.0.1:${port}`] });
  useBridgeFromNode(bridge.wsProxy);
  const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const httpQueries = await startNeonHttp({ databaseUrl, via: 'bridge' });
  return {
    kind: 'pglite',
    databaseUrl,
    wsProxy: bridge.wsProxy,
    httpEndpoint: httpQueries.url,
    stallHttp: () => httpQueries.stall(),
    releaseHttp: () => httpQueries.release(),
    async close() {
      await httpQueries.close();
      await bridge.close();
      await server.stop();
      await db.close();
    },
  };
}

export function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
