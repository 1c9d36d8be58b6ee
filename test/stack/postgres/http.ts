import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Pool as NeonPool } from '@neondatabase/serverless';
import type pg from 'pg';

// Loaded through require so vitest's workers plugin never tries to bundle it.
const { Pool: TcpPool } = createRequire(import.meta.url)('pg') as typeof pg;

/**
 * Neon's HTTP query endpoint (`POST /sql`), as `neon()` from @neondatabase/serverless speaks it:
 *   headers  Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, and for a batch
 *            Neon-Batch-Isolation-Level / Neon-Batch-Read-Only / Neon-Batch-Deferrable;
 *   body     {query, params} or {queries: [{query, params}, ...]};
 *   200      {command, rowCount, rows (arrays of text), fields, rowAsArray} or {results: [...]};
 *   400      the Postgres error's fields ({message, code, severity, detail, position, ...}).
 * A batch runs in one transaction, on warm connections as Neon's proxy keeps them: straight over
 * TCP to a real server, through the WebSocket bridge to embedded PGlite (which has no TCP of its
 * own). Only the one database the stack serves is reachable.
 */
export interface NeonHttpStandIn {
  /** Value for NEON_HTTP_ENDPOINT / neonConfig.fetchEndpoint. */
  url: string;
  /** Holds every request without an answer until `release`: a network path that hangs. */
  stall(): void;
  release(): void;
  close(): Promise<void>;
}

const ERROR_FIELDS = ['severity', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'file', 'line', 'routine'] as const;
const ISOLATION = new Set(['Serializable', 'ReadUncommitted', 'ReadCommitted', 'RepeatableRead']);
// Text in, text out: the driver on the other side parses values by type oid itself.
const RAW_TYPES = { getTypeParser: () => (value: string) => value };

interface Query {
  query: string;
  params?: unknown[];
}

type Client = pg.PoolClient;

export async function startNeonHttp(options: { databaseUrl: string; via: 'tcp' | 'bridge' }): Promise<NeonHttpStandIn> {
  const target = new URL(options.databaseUrl);
  const pool = (
    options.via === 'tcp' ? new TcpPool({ connectionString: options.databaseUrl, max: 16 }) : new NeonPool({ connectionString: options.databaseUrl, max: 16 })
  ) as pg.Pool;
  pool.on('error', () => undefined);

  const run = async (client: Client, q: Query) => {
    const result = await client.query({ text: q.query, values: q.params ?? [], rowMode: 'array', types: RAW_TYPES });
    return {
      command: result.command,
      rowCount: result.rowCount,
      rows: result.rows,
      fields: result.fields.map((f) => ({
        name: f.name,
        tableID: f.tableID,
        columnID: f.columnID,
        dataTypeID: f.dataTypeID,
        dataTypeSize: f.dataTypeSize,
        dataTypeModifier: f.dataTypeModifier,
        format: f.format,
      })),
      rowAsArray: true,
    };
  };

  const handle = async (req: http.IncomingMessage, body: string): Promise<{ status: number; json: unknown }> => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/sql') return { status: 404, json: { message: 'not found' } };
    const connection = String(req.headers['neon-connection-string'] ?? '');
    let asked: URL;
    try {
      asked = new URL(connection);
    } catch {
      return { status: 400, json: { message: 'Neon-Connection-String is missing or not a URL' } };
    }
    if (asked.host !== target.host || asked.pathname !== target.pathname) {
      return { status: 400, json: { message: `this endpoint serves ${target.host}${target.pathname} only` } };
    }
    const parsed = JSON.parse(body) as Query | { queries: Query[] };
    const client = await pool.connect();
    let broken = false;
    try {
      if (!('queries' in parsed)) return { status: 200, json: await run(client, parsed) };
      const isolation = String(req.headers['neon-batch-isolation-level'] ?? '');
      const modes = [
        ISOLATION.has(isolation) ? `ISOLATION LEVEL ${isolation.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()}` : '',
        req.headers['neon-batch-read-only'] === 'true' ? 'READ ONLY' : '',
        req.headers['neon-batch-deferrable'] === 'true' ? 'DEFERRABLE' : '',
      ].filter(Boolean);
      await client.query(`BEGIN ${modes.join(' ')}`);
      try {
        const results = [];
        for (const q of parsed.queries) results.push(await run(client, q));
        await client.query('COMMIT');
        return { status: 200, json: { results } };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
    } catch (err) {
      const e = err as Record<string, unknown> & { message?: string };
      // Errors without a SQLSTATE are the connection's, not the statement's: a 5xx, as Neon answers.
      if (typeof e.code !== 'string') {
        broken = true;
        return { status: 502, json: { message: String(e.message ?? err) } };
      }
      return { status: 400, json: { message: e.message, ...Object.fromEntries(ERROR_FIELDS.map((k) => [k, e[k]])) } };
    } finally {
      client.release(broken);
    }
  };

  let stalled = false;
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (stalled) {
      held.add(res);
      res.once('close', () => held.delete(res));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      handle(req, body)
        .then(({ status, json }) => {
          const text = status === 502 ? String((json as { message: string }).message) : JSON.stringify(json);
          res.writeHead(status, { 'content-type': status === 502 ? 'text/plain' : 'application/json' }).end(text);
        })
        .catch((err: unknown) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(err) })));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sql`,
    stall() {
      stalled = true;
    },
    release() {
      stalled = false;
      // What was held never gets an answer: the connections drop, as a broken path's would.
      for (const res of held) res.destroy();
      held.clear();
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end().catch(() => undefined);
    },
  };
}
