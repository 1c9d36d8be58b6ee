// The Databricks stand-in, exercised the way a production client uses the Statement Execution API:
// plain fetch with a bearer token.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DICTIONARY_DIR, readDictionaryDir } from '../../scripts/dictionary-files.ts';
import { loadDictionary } from '../../worker/dictionary/load.ts';
import type { DataDictionary } from '../../worker/dictionary/load.ts';
import { startDatabricksStandIn } from './databricks/server.ts';
import type { DatabricksStandIn } from './databricks/server.ts';

// Mid-month, so month-to-date metrics have data.
const NOW = new Date('2025-03-18T15:00:00.000Z');
const TOKEN = 'dapi-test-token';
const DAY = 86_400_000;

interface StatementResponse {
  statement_id: string;
  status: { state: string; error?: { error_code: string; message: string }; sql_state?: string };
  manifest?: {
    format: string;
    schema: { column_count: number; columns: { name: string; position: number; type_name: string; type_text: string }[] };
    total_chunk_count: number;
    total_row_count: number;
    truncated: boolean;
    chunks: { chunk_index: number; row_offset: number; row_count: number }[];
  };
  result?: ChunkResponse;
}

interface ChunkResponse {
  chunk_index: number;
  row_offset: number;
  row_count: number;
  data_array?: (string | null)[][];
  next_chunk_index?: number;
  next_chunk_internal_link?: string;
}

interface ErrorResponse {
  error_code: string;
  message: string;
}

let standIn: DatabricksStandIn;
let dictionary: DataDictionary;

async function api(path: string, init: RequestInit = {}, token: string | null = TOKEN): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${standIn.url}${path}`, { ...init, headers });
}

async function submit(body: Record<string, unknown>): Promise<StatementResponse> {
  const response = await api('/api/2.0/sql/statements', {
    method: 'POST',
    body: JSON.stringify({ warehouse_id: standIn.warehouseId, ...body }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as StatementResponse;
}

async function getStatement(id: string): Promise<StatementResponse> {
  const response = await api(`/api/2.0/sql/statements/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as StatementResponse;
}

async function pollUntilDone(id: string): Promise<StatementResponse> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const body = await getStatement(id);
    if (!['PENDING', 'RUNNING'].includes(body.status.state)) return body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`statement ${id} did not finish`);
}

/** Reads every row of a finished statement by following next_chunk_internal_link. */
async function readAllRows(first: StatementResponse): Promise<(string | null)[][]> {
  const rows = [...(first.result?.data_array ?? [])];
  let link = first.result?.next_chunk_internal_link;
  while (link) {
    const response = await api(link);
    expect(response.status).toBe(200);
    const chunk = (await response.json()) as ChunkResponse;
    expect(chunk.row_offset).toBe(rows.length);
    rows.push(...(chunk.data_array ?? []));
    link = chunk.next_chunk_internal_link;
  }
  return rows;
}

const windowParameters = (days: number) => [
  { name: 'start', value: new Date(NOW.getTime() - days * DAY).toISOString(), type: 'TIMESTAMP' },
  { name: 'end', value: NOW.toISOString(), type: 'TIMESTAMP' },
];

beforeAll(async () => {
  dictionary = loadDictionary(readDictionaryDir(DICTIONARY_DIR));
  standIn = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: DICTIONARY_DIR, now: NOW, chunkRows: 1000, waitScale: 0.2 });
});

afterAll(async () => {
  await standIn?.close();
});

afterEach(() => {
  standIn.faults.clear();
});

describe('lakehouse tables', () => {
  it('creates every dictionary table with exactly its declared columns and types', async () => {
    const rows = await standIn.query(`
      SELECT table_name, column_name, data_type, is_nullable
      FROM information_schema.columns
      WHERE table_catalog = 'workspace' AND table_schema = 'support_l3'
      ORDER BY table_name, ordinal_position`);
    const duckType = { STRING: 'VARCHAR', INT: 'INTEGER', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', BOOLEAN: 'BOOLEAN', DOUBLE: 'DOUBLE', BIGINT: 'BIGINT' } as Record<string, string>;
    const expected = dictionary.tableDefinitions
      .flatMap((table) =>
        table.columns.map((column) => ({
          table_name: table.name,
          column_name: column.name,
          data_type: duckType[column.type.kind] ?? column.type.text,
          is_nullable: column.nullable ? 'YES' : 'NO',
        })),
      )
      .sort((a, b) => a.table_name.localeCompare(b.table_name));
    const actualByTable = rows.sort((a, b) => String(a.table_name).localeCompare(String(b.table_name)));
    expect(actualByTable).toEqual(expected);
  });

  it('fills the tables with tens of thousands of rows in the expected ranges', async () => {
    const counts = standIn.rowCounts;
    expect(counts.customers).toBeGreaterThanOrEqual(1_500);
    expect(counts.customers).toBeLessThanOrEqual(10_000);
    expect(counts.devices).toBeGreaterThanOrEqual(counts.customers ?? 0);
    expect(counts.agents).toBeGreaterThanOrEqual(50);
    expect(counts.agents).toBeLessThanOrEqual(150);
    expect(counts.interactions).toBeGreaterThanOrEqual(20_000);
    expect(counts.claims).toBeGreaterThanOrEqual(4_000);
    expect(counts.issue_sessions).toBeGreaterThanOrEqual(8_000);
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    expect(total).toBeGreaterThan(40_000);

    const [row] = await standIn.query('SELECT COUNT(*) AS n FROM workspace.support_l3.interactions');
    expect(row?.n).toBe(counts.interactions);
    const [span] = await standIn.query(
      'SELECT min(started_at) AS first, max(ended_at) AS last FROM workspace.support_l3.interactions',
    );
    expect((span?.first as Date).getTime()).toBeGreaterThanOrEqual(NOW.getTime() - 120 * DAY);
    expect((span?.last as Date).getTime()).toBeLessThanOrEqual(NOW.getTime());
  });

  it('keeps categorical columns within allowed_values and every join key resolvable', async () => {
    for (const table of dictionary.tableDefinitions) {
      for (const column of table.columns.filter((c) => c.allowedValues.length > 0)) {
        const values = await standIn.query(
          `SELECT DISTINCT CAST("${column.name}" AS VARCHAR) AS v FROM workspace.support_l3."${table.name}" WHERE "${column.name}" IS NOT NULL`,
        );
        for (const { v } of values) expect(column.allowedValues, `${table.name}.${column.name}`).toContain(v);
      }
    }
    for (const join of dictionary.joins) {
      const [orphans] = await standIn.query(`
        SELECT COUNT(*) AS n FROM workspace.support_l3."${join.fromTable}" f
        LEFT JOIN workspace.support_l3."${join.toTable}" t ON f."${join.fromColumn}" = t."${join.toColumn}"
        WHERE f."${join.fromColumn}" IS NOT NULL AND t."${join.toColumn}" IS NULL`);
      expect(orphans?.n, `${join.fromTable}.${join.fromColumn}`).toBe(0);
    }
  });

  it('has realistic shapes: unanswered surveys, weekday seasonality, young claims still open', async () => {
    const [surveys] = await standIn.query(`
      SELECT avg(CASE WHEN csat IS NULL THEN 1 ELSE 0 END) AS csat_null, avg(csat) AS csat_avg
      FROM workspace.support_l3.interactions`);
    expect(surveys?.csat_null).toBeGreaterThan(0.3);
    expect(surveys?.csat_null).toBeLessThan(0.5);
    expect(surveys?.csat_avg).toBeGreaterThan(3.5);

    const [week] = await standIn.query(`
      SELECT count_if(dayofweek(started_at) = 1) AS monday, count_if(dayofweek(started_at) = 0) AS sunday
      FROM workspace.support_l3.interactions`);
    expect(Number(week?.monday)).toBeGreaterThan(Number(week?.sunday) * 1.4);

    const [claims] = await standIn.query(`
      SELECT
        avg(CASE WHEN status IN ('open', 'approved') THEN 1 ELSE 0 END) FILTER (WHERE opened_at > TIMESTAMP '2025-03-17 15:00:00') AS young_open,
        avg(CASE WHEN status IN ('open', 'approved') THEN 1 ELSE 0 END) FILTER (WHERE opened_at < TIMESTAMP '2025-02-01') AS old_open
      FROM workspace.support_l3.claims`);
    expect(claims?.young_open).toBeGreaterThan(0.5);
    expect(claims?.old_open).toBeLessThan(0.05);
  });

  it('generates the same data for the same now', async () => {
    const fingerprint = `
      SELECT 'customers' AS t, COUNT(*) AS n, SUM(hash(r)) AS h FROM workspace.support_l3.customers r
      UNION ALL SELECT 'devices', COUNT(*), SUM(hash(r)) FROM workspace.support_l3.devices r
      UNION ALL SELECT 'agents', COUNT(*), SUM(hash(r)) FROM workspace.support_l3.agents r
      UNION ALL SELECT 'interactions', COUNT(*), SUM(hash(r)) FROM workspace.support_l3.interactions r
      UNION ALL SELECT 'claims', COUNT(*), SUM(hash(r)) FROM workspace.support_l3.claims r
      UNION ALL SELECT 'issue_sessions', COUNT(*), SUM(hash(r)) FROM workspace.support_l3.issue_sessions r
      ORDER BY t`;
    const twin = await startDatabricksStandIn({ token: 'other', dictionaryDir: DICTIONARY_DIR, now: NOW });
    try {
      expect(await twin.query(fingerprint)).toEqual(await standIn.query(fingerprint));
    } finally {
      await twin.close();
    }
  });
});

describe('catalog metrics', () => {
  it('declares a Databricks query for the metrics the catalog needs from the lakehouse', () => {
    const withSql = dictionary.metrics.filter((metric) => metric.databricksSql).map((metric) => metric.name);
    expect(withSql).toEqual(expect.arrayContaining(['claim_volume', 'claims_by_product', 'claim_status_mix', 'cost_avoided_mtd']));
    expect(dictionary.metrics).toHaveLength(13);
  });

  it('runs every metric query over the last 30 days with plausible values', async () => {
    for (const metric of dictionary.metrics) {
      if (!metric.databricksSql) continue;
      const body = await submit({ statement: metric.databricksSql, parameters: windowParameters(30), wait_timeout: '30s' });
      expect(body.status, metric.name).toEqual({ state: 'SUCCEEDED' });
      const columns = body.manifest?.schema.columns.map((column) => column.name);
      const rows = body.result?.data_array ?? [];
      expect(rows.length, metric.name).toBeGreaterThan(0);
      const grouped = columns?.length === 2;
      expect(columns, metric.name).toEqual(grouped ? ['label', 'value'] : ['value']);
      for (const row of rows) {
        const value = Number(row[grouped ? 1 : 0]);
        expect(Number.isFinite(value), `${metric.name} ${JSON.stringify(row)}`).toBe(true);
        if (metric.unit === 'percent') expect(value, metric.name).toBeGreaterThanOrEqual(0);
        if (metric.unit === 'percent') expect(value, metric.name).toBeLessThanOrEqual(100);
        if (metric.unit === 'score') expect(value, metric.name).toBeGreaterThanOrEqual(1);
        if (metric.unit === 'score') expect(value, metric.name).toBeLessThanOrEqual(5);
        if (['count', 'usd', 'seconds'].includes(metric.unit)) expect(value, metric.name).toBeGreaterThan(0);
        if (grouped) expect(typeof row[0], metric.name).toBe('string');
      }
    }
  });
});

describe('statement lifecycle', () => {
  it('answers inline when the statement finishes within wait_timeout', async () => {
    const body = await submit({ statement: 'SELECT 1 AS one, 2.5D AS half, true AS yes, CAST(NULL AS STRING) AS nothing', wait_timeout: '5s' });
    expect(body.status.state).toBe('SUCCEEDED');
    expect(body.manifest?.schema.columns.map((c) => [c.name, c.type_name])).toEqual([
      ['one', 'INT'],
      ['half', 'DOUBLE'],
      ['yes', 'BOOLEAN'],
      ['nothing', 'STRING'],
    ]);
    expect(body.result?.data_array).toEqual([['1', '2.5', 'true', null]]);
  });

  it('returns at once for wait_timeout 0s, then the statement can be polled to SUCCEEDED', async () => {
    const body = await submit({ statement: 'SELECT COUNT(*) AS n FROM workspace.support_l3.claims', wait_timeout: '0s' });
    expect(['PENDING', 'RUNNING']).toContain(body.status.state);
    expect(body.manifest).toBeUndefined();
    const done = await pollUntilDone(body.statement_id);
    expect(done.status.state).toBe('SUCCEEDED');
    expect(done.result?.data_array).toEqual([[String(standIn.rowCounts.claims)]]);
  });

  it('splits large results into chunks that are read by following next_chunk_internal_link', async () => {
    const body = await submit({
      statement: 'SELECT interaction_id, started_at, handle_seconds FROM workspace.support_l3.interactions ORDER BY interaction_id',
      wait_timeout: '30s',
    });
    const total = standIn.rowCounts.interactions ?? 0;
    expect(body.manifest?.total_row_count).toBe(total);
    expect(body.manifest?.total_chunk_count).toBe(Math.ceil(total / 1000));
    expect(body.result?.row_count).toBe(1000);
    expect(body.result?.next_chunk_index).toBe(1);
    const rows = await readAllRows(body);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((row) => row[0])).size).toBe(total);
    expect(rows[0]?.[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const chunk = await api(`/api/2.0/sql/statements/${body.statement_id}/result/chunks/${(body.manifest?.total_chunk_count ?? 1) - 1}`);
    const last = (await chunk.json()) as ChunkResponse;
    expect(last.next_chunk_internal_link).toBeUndefined();
    const beyond = await api(`/api/2.0/sql/statements/${body.statement_id}/result/chunks/9999`);
    expect(beyond.status).toBe(400);
  });

  it('applies row_limit and reports empty results without data', async () => {
    const limited = await submit({ statement: 'SELECT claim_id FROM workspace.support_l3.claims', row_limit: 5 });
    expect(limited.manifest?.truncated).toBe(true);
    expect(limited.result?.data_array).toHaveLength(5);

    const empty = await submit({ statement: 'SELECT claim_id FROM workspace.support_l3.claims WHERE 1 = 0' });
    expect(empty.status.state).toBe('SUCCEEDED');
    expect(empty.manifest?.total_row_count).toBe(0);
    expect(empty.result?.data_array).toBeUndefined();
  });

  it('cancels a statement stuck in PENDING', async () => {
    standIn.faults.set({ stuckPending: true });
    const body = await submit({ statement: 'SELECT 1', wait_timeout: '0s' });
    expect(body.status.state).toBe('PENDING');
    expect((await getStatement(body.statement_id)).status.state).toBe('PENDING');
    const cancel = await api(`/api/2.0/sql/statements/${body.statement_id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect((await getStatement(body.statement_id)).status.state).toBe('CANCELED');
    const chunk = await api(`/api/2.0/sql/statements/${body.statement_id}/result/chunks/0`);
    expect(chunk.status).toBe(400);
  });

  it('cancels on wait timeout when asked to, and keeps running when not', async () => {
    standIn.faults.set({ latencyMs: 2_000 });
    const canceled = await submit({ statement: 'SELECT 1', wait_timeout: '5s', on_wait_timeout: 'CANCEL' });
    expect(canceled.status.state).toBe('CANCELED');

    standIn.faults.set({ latencyMs: 300 });
    const continued = await submit({ statement: 'SELECT 42 AS answer', wait_timeout: '0s', on_wait_timeout: 'CONTINUE' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await getStatement(continued.statement_id)).status.state).toBe('RUNNING');
    const done = await pollUntilDone(continued.statement_id);
    expect(done.result?.data_array).toEqual([['42']]);
  });

  it('fails SQL errors with a Databricks error class, error_code and SQLSTATE', async () => {
    const missing = await submit({ statement: 'SELECT * FROM workspace.support_l3.refunds' });
    expect(missing.status.state).toBe('FAILED');
    expect(missing.status.error?.error_code).toBe('BAD_REQUEST');
    expect(missing.status.error?.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);
    expect(missing.status.sql_state).toBe('42P01');
    expect(missing.status.error?.message).not.toMatch(/did you mean/i);

    const syntax = await submit({ statement: 'SELECT FROM WHERE' });
    expect(syntax.status.error?.message).toMatch(/^\[PARSE_SYNTAX_ERROR\]/);
    const column = await submit({ statement: 'SELECT refund_total FROM workspace.support_l3.claims' });
    expect(column.status.error?.message).toMatch(/^\[UNRESOLVED_COLUMN/);
    const unqualified = await submit({ statement: 'SELECT COUNT(*) FROM claims' });
    expect(unqualified.status.error?.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);
    const scoped = await submit({ statement: 'SELECT COUNT(*) AS n FROM claims', catalog: 'workspace', schema: 'support_l3' });
    expect(scoped.status.state).toBe('SUCCEEDED');
  });

  it('runs only queries: no DDL, DML or file access', async () => {
    const drop = await submit({ statement: 'DROP TABLE workspace.support_l3.claims' });
    expect(drop.status.state).toBe('FAILED');
    expect(drop.status.error?.error_code).toBe('PERMISSION_DENIED');
    const file = await submit({ statement: "SELECT * FROM read_csv('/etc/hostname')" });
    expect(file.status.state).toBe('FAILED');
    const twoStatements = await submit({ statement: 'SELECT 1; SELECT 2' });
    expect(twoStatements.status.error?.message).toMatch(/^\[PARSE_SYNTAX_ERROR\]/);
    const [row] = await standIn.query('SELECT COUNT(*) AS n FROM workspace.support_l3.claims');
    expect(row?.n).toBe(standIn.rowCounts.claims);
  });

  it('speaks enough Databricks SQL for dashboards and generated queries', async () => {
    const body = await submit({
      statement: `
        SELECT date_format(date_trunc('DAY', c.opened_at), 'yyyy-MM-dd') AS \`label\`,
               COUNT(*) AS value,
               nvl(SUM(c.cost_avoided), 0) AS avoided,
               MAX(datediff(c.closed_at, c.opened_at)) AS max_days
        FROM workspace.support_l3.claims c
        WHERE c.opened_at >= :end - INTERVAL '7' DAY AND c.opened_at < :end AND c.region <> "EMEA"
        GROUP BY 1 ORDER BY 1 LIMIT 10`,
      parameters: [{ name: 'end', value: NOW.toISOString(), type: 'TIMESTAMP' }],
    });
    expect(body.status.state).toBe('SUCCEEDED');
    const rows = body.result?.data_array ?? [];
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(rows[0]?.[0]).toMatch(/^2025-03-1\d$/);
    expect(body.manifest?.schema.columns[2]?.type_name).toBe('DECIMAL');
  });
});

describe('parameters', () => {
  it('binds typed named parameters', async () => {
    const body = await submit({
      statement: 'SELECT :n + 1 AS n, :price * 2 AS price, :day AS day, :at AS at, :flag AS flag, :label AS label, :missing_value AS nothing',
      parameters: [
        { name: 'n', value: '41', type: 'INT' },
        { name: 'price', value: '10.25', type: 'DECIMAL(10,2)' },
        { name: 'day', value: '2025-03-01', type: 'DATE' },
        { name: 'at', value: '2025-03-01T12:30:00+02:00', type: 'TIMESTAMP' },
        { name: 'flag', value: 'true', type: 'BOOLEAN' },
        { name: 'label', value: 'NA-East' },
        { name: 'missing_value', type: 'STRING' },
      ],
    });
    expect(body.status.state).toBe('SUCCEEDED');
    expect(body.result?.data_array).toEqual([['42', '20.50', '2025-03-01', '2025-03-01T10:30:00.000Z', 'true', 'NA-East', null]]);
  });

  it('treats a parameter as data, so it cannot inject SQL', async () => {
    const hostile = "x'; DROP TABLE workspace.support_l3.claims; --";
    const body = await submit({
      statement: 'SELECT COUNT(*) AS n, :product AS echoed FROM workspace.support_l3.claims WHERE product = :product',
      parameters: [{ name: 'product', value: hostile, type: 'STRING' }],
    });
    expect(body.status.state).toBe('SUCCEEDED');
    expect(body.result?.data_array).toEqual([['0', hostile]]);
    const [row] = await standIn.query('SELECT COUNT(*) AS n FROM workspace.support_l3.claims');
    expect(row?.n).toBe(standIn.rowCounts.claims);
  });

  it('fails statements with unbound or malformed parameters', async () => {
    const unbound = await submit({ statement: 'SELECT :start AS s' });
    expect(unbound.status.error?.message).toMatch(/^\[UNBOUND_SQL_PARAMETER\]/);
    const malformed = await submit({ statement: 'SELECT :n AS n', parameters: [{ name: 'n', value: 'forty', type: 'INT' }] });
    expect(malformed.status.error?.message).toMatch(/^\[CAST_INVALID_INPUT\]/);
  });
});

describe('HTTP contract', () => {
  it('requires the bearer token', async () => {
    const missing = await api('/api/2.0/sql/statements/abc', {}, null);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as ErrorResponse).error_code).toBeTruthy();
    const wrong = await api('/api/2.0/sql/statements/abc', {}, 'not-the-token');
    expect(wrong.status).toBe(403);
    const body = (await wrong.json()) as ErrorResponse;
    expect(body.error_code).toBe('PERMISSION_DENIED');
    expect(body.message).not.toContain('not-the-token');
  });

  it('rejects bad bodies with 400 and unknown warehouses with 404', async () => {
    const post = (body: string) => api('/api/2.0/sql/statements', { method: 'POST', body });
    const cases = [
      JSON.stringify({ statement: 'SELECT 1' }),
      JSON.stringify({ statement: 'SELECT 1', warehouse_id: standIn.warehouseId, wait_timeout: '3s' }),
      JSON.stringify({ statement: 'SELECT 1', warehouse_id: standIn.warehouseId, surprise: true }),
      JSON.stringify({ statement: 'SELECT 1', warehouse_id: standIn.warehouseId, disposition: 'EXTERNAL_LINKS' }),
      JSON.stringify({ statement: 'SELECT 1', warehouse_id: standIn.warehouseId, parameters: [{ name: 'x', value: 1 }] }),
    ];
    for (const body of cases) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as ErrorResponse).error_code, body).toBe('INVALID_PARAMETER_VALUE');
    }
    const notJson = await post('{"statement": ');
    expect(notJson.status).toBe(400);
    const warehouse = await post(JSON.stringify({ statement: 'SELECT 1', warehouse_id: 'nope' }));
    expect(warehouse.status).toBe(404);
    expect(((await warehouse.json()) as ErrorResponse).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('answers 404 for unknown statements', async () => {
    for (const [path, method] of [
      ['/api/2.0/sql/statements/01ef0000-0000-0000-0000-000000000000', 'GET'],
      ['/api/2.0/sql/statements/01ef0000-0000-0000-0000-000000000000/result/chunks/0', 'GET'],
      ['/api/2.0/sql/statements/01ef0000-0000-0000-0000-000000000000/cancel', 'POST'],
    ] as const) {
      const response = await api(path, { method });
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as ErrorResponse).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });
});

describe('fault injection', () => {
  it('answers 429 with Retry-After for the requested number of requests', async () => {
    standIn.faults.set({ httpStatus: { status: 429, retryAfterSeconds: 2, count: 1 } });
    const limited = await api('/api/2.0/sql/statements', { method: 'POST', body: JSON.stringify({ statement: 'SELECT 1', warehouse_id: standIn.warehouseId }) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(((await limited.json()) as ErrorResponse).error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    const retried = await submit({ statement: 'SELECT 1 AS ok' });
    expect(retried.status.state).toBe('SUCCEEDED');
  });

  it('fails the next statement on demand', async () => {
    standIn.faults.set({ failNext: { error_code: 'INTERNAL_ERROR', message: 'warehouse lost its executors' } });
    const failed = await submit({ statement: 'SELECT 1' });
    expect(failed.status).toMatchObject({ state: 'FAILED', error: { error_code: 'INTERNAL_ERROR', message: 'warehouse lost its executors' } });
    expect((await submit({ statement: 'SELECT 1' })).status.state).toBe('SUCCEEDED');
  });

  it('can serve malformed chunks', async () => {
    const body = await submit({ statement: 'SELECT claim_id FROM workspace.support_l3.claims LIMIT 1500' });
    standIn.faults.set({ malformedChunk: true });
    const chunk = await api(`/api/2.0/sql/statements/${body.statement_id}/result/chunks/1`);
    expect(chunk.status).toBe(200);
    await expect(chunk.clone().json()).rejects.toThrow();
  });

  it('refuses connections while stopped and comes back on the same port', async () => {
    const url = standIn.url;
    await standIn.stop();
    await expect(fetch(`${url}/api/2.0/sql/statements/x`)).rejects.toThrow();
    await standIn.start();
    expect(standIn.url).toBe(url);
    expect((await submit({ statement: 'SELECT 1' })).status.state).toBe('SUCCEEDED');
  });
});
