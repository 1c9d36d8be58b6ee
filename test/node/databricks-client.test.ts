// The production Databricks client against the real local stand-in (Statement Execution API 2.0 over
// DuckDB), with a recording fetch so the tests can see what went over the wire.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatabricksClient, waitTimeoutFor } from '../../worker/services/databricks/client.ts';
import { DependencyError, parseRetryAfter } from '../../worker/http/errors.ts';
import { encodeParameter } from '../../worker/services/databricks/params.ts';
import type { DatabricksClientOptions } from '../../worker/services/databricks/types.ts';
import { startDatabricksStandIn } from '../stack/databricks/server.ts';
import type { DatabricksStandIn } from '../stack/databricks/server.ts';

const TOKEN = 'dapi-client-test-4f1c9e7a2b';
const WRONG_TOKEN = 'dapi-wrong-token-8d2e6b0c1a';

interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  hadSignal: boolean;
}

let standIn: DatabricksStandIn;
let recorded: Recorded[] = [];
/** Every error a test provoked; the last test checks none of them mentions a token. */
const errors: unknown[] = [];
/** Lets a test rewrite a response or act between requests. */
let intercept: ((request: Recorded, response: Response) => Response | Promise<Response>) | null = null;

const recordingFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const request: Recorded = {
    method: init?.method ?? 'GET',
    path: url.pathname,
    body: typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null,
    hadSignal: init?.signal instanceof AbortSignal,
  };
  recorded.push(request);
  const response = await fetch(input, init);
  return intercept ? intercept(request, response) : response;
};

function client(overrides: Partial<DatabricksClientOptions> = {}) {
  return createDatabricksClient({
    host: standIn.url,
    token: TOKEN,
    warehouseId: standIn.warehouseId,
    catalog: 'workspace',
    schema: 'support_l3',
    fetch: recordingFetch,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<DependencyError> {
  try {
    await promise;
  } catch (error) {
    errors.push(error);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: 'databricks' });
    return error as DependencyError;
  }
  throw new Error('expected the call to fail');
}

/** What the stand-in itself says about a statement, bypassing the client. */
async function standInState(id: string): Promise<string> {
  const response = await fetch(`${standIn.url}/api/2.0/sql/statements/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await response.json()) as { status: { state: string } }).status.state;
}

const polls = () => recorded.filter((r) => r.method === 'GET' && /^\/api\/2\.0\/sql\/statements\/[^/]+$/.test(r.path));
const chunkReads = () => recorded.filter((r) => r.path.includes('/result/chunks/'));
const submits = () => recorded.filter((r) => r.method === 'POST' && r.path === '/api/2.0/sql/statements');

beforeAll(async () => {
  standIn = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: 'data-dictionary', chunkRows: 100, port: 0 });
});

afterAll(async () => {
  await standIn?.close();
});

afterEach(() => {
  standIn.faults.clear();
  recorded = [];
  intercept = null;
});

describe('results', () => {
  it('returns an inline result with converted values when the statement finishes within the wait', async () => {
    // 10.5 s leaves 9.5 s after the submit margin: wait_timeout 9s however long the test setup took.
    const result = await client().execute('SELECT 1 AS one, 2.5D AS half, true AS yes, CAST(NULL AS STRING) AS nothing', {}, { timeoutMs: 10_500 });
    expect(result.rows).toEqual([{ one: 1, half: 2.5, yes: true, nothing: null }]);
    expect(result.columns.map((c) => [c.name, c.typeName])).toEqual([
      ['one', 'INT'],
      ['half', 'DOUBLE'],
      ['yes', 'BOOLEAN'],
      ['nothing', 'STRING'],
    ]);
    expect(result).toMatchObject({ totalRowCount: 1, truncated: false });
    expect(result.statementId).toMatch(/\S/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);

    const [submit] = submits();
    expect(submit?.body).toEqual({
      warehouse_id: standIn.warehouseId,
      catalog: 'workspace',
      schema: 'support_l3',
      statement: 'SELECT 1 AS one, 2.5D AS half, true AS yes, CAST(NULL AS STRING) AS nothing',
      parameters: [],
      wait_timeout: '9s',
      on_wait_timeout: 'CONTINUE',
      disposition: 'INLINE',
      format: 'JSON_ARRAY',
    });
    expect(polls()).toHaveLength(0);
    expect(recorded.every((r) => r.hadSignal)).toBe(true);
  });

  it('reads every chunk of a large result and checks the row total', async () => {
    const total = standIn.rowCounts.interactions ?? 0;
    const result = await client().execute(
      'SELECT interaction_id, started_at, handle_seconds FROM workspace.support_l3.interactions ORDER BY interaction_id',
      {},
      { timeoutMs: 20_000 },
    );
    expect(total).toBeGreaterThan(1000);
    expect(result.totalRowCount).toBe(total);
    expect(result.rows).toHaveLength(total);
    expect(new Set(result.rows.map((row) => row.interaction_id)).size).toBe(total);
    // 100 rows a chunk: the first arrives inline, the rest by following next_chunk_internal_link.
    expect(chunkReads()).toHaveLength(Math.ceil(total / 100) - 1);
    expect(recorded.every((r) => r.hadSignal)).toBe(true);
    const first = result.rows[0];
    expect(typeof first?.handle_seconds).toBe('number');
    expect(first?.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('streams a large result to onRows chunk by chunk, in order, keeping none of it', async () => {
    const total = standIn.rowCounts.claims ?? 0;
    const seen: string[] = [];
    const chunks: number[] = [];
    const result = await client().execute('SELECT claim_id FROM workspace.support_l3.claims ORDER BY claim_id', {}, {
      timeoutMs: 20_000,
      onRows: async (rows, index) => {
        chunks.push(index);
        await new Promise((resolve) => setTimeout(resolve, 1));
        for (const row of rows) seen.push(String(row.claim_id));
      },
    });
    expect(result.rows).toEqual([]);
    expect(result.totalRowCount).toBe(total);
    expect(seen).toHaveLength(total);
    expect(seen).toEqual([...seen].sort());
    expect(chunks).toEqual(Array.from({ length: Math.ceil(total / 100) }, (_, i) => i));
    // A reader that fails stops the read with its own error.
    const failure = await client()
      .execute('SELECT claim_id FROM workspace.support_l3.claims', {}, { timeoutMs: 20_000, onRows: (_rows, index) => { if (index === 2) throw new Error('reader failed'); } })
      .catch((error: unknown) => error);
    expect((failure as Error).message).toBe('reader failed');
  });

  it('applies rowLimit and reports truncation; empty results have no rows', async () => {
    const limited = await client().execute('SELECT claim_id FROM claims ORDER BY claim_id', {}, { timeoutMs: 10_000, rowLimit: 250 });
    expect(limited.rows).toHaveLength(250);
    expect(limited.truncated).toBe(true);
    expect(submits()[0]?.body?.row_limit).toBe(250);

    const empty = await client().execute('SELECT claim_id FROM claims WHERE 1 = 0', {}, { timeoutMs: 10_000 });
    expect(empty).toMatchObject({ rows: [], totalRowCount: 0, truncated: false });
    expect(empty.columns.map((c) => c.name)).toEqual(['claim_id']);
  });

  it('converts every JSON_ARRAY string to the JS type of its column', async () => {
    const result = await client().execute(
      `SELECT CAST(1 AS TINYINT) AS b, CAST(2 AS SMALLINT) AS s, CAST(-3 AS INT) AS i, CAST(9007199254740991 AS BIGINT) AS l,
              CAST(1.5 AS FLOAT) AS f, 2.25D AS d, CAST(12.34 AS DECIMAL(12,2)) AS dec, DATE '2025-03-01' AS dt,
              TIMESTAMP '2025-03-01 10:30:00' AS ts, false AS bo, 'NA-East' AS st, CAST(NULL AS INT) AS n`,
      {},
      { timeoutMs: 10_000 },
    );
    expect(result.rows).toEqual([
      { b: 1, s: 2, i: -3, l: 9007199254740991, f: 1.5, d: 2.25, dec: 12.34, dt: '2025-03-01', ts: '2025-03-01T10:30:00.000Z', bo: false, st: 'NA-East', n: null },
    ]);
    expect(result.columns.map((c) => c.typeName)).toEqual(['BYTE', 'SHORT', 'INT', 'LONG', 'FLOAT', 'DOUBLE', 'DECIMAL', 'DATE', 'TIMESTAMP', 'BOOLEAN', 'STRING', 'INT']);
    expect(result.columns[6]).toMatchObject({ typeText: 'DECIMAL(12,2)', precision: 12, scale: 2 });

    const claims = await client().execute('SELECT claim_cost, opened_at, closed_at FROM claims ORDER BY claim_id LIMIT 50', {}, { timeoutMs: 10_000 });
    for (const row of claims.rows) {
      expect(typeof row.claim_cost).toBe('number');
      expect(Math.round((row.claim_cost as number) * 100) / 100).toBe(row.claim_cost);
      expect(new Date(row.opened_at as string).toISOString()).toBe(row.opened_at);
      expect(row.closed_at === null || typeof row.closed_at === 'string').toBe(true);
    }
  });
});

describe('parameters', () => {
  it('binds named parameters with explicit and inferred types, values sent as strings', async () => {
    const result = await client().execute(
      'SELECT :n + 1 AS n, :price * 2 AS price, :day AS day, :at AS at, :flag AS flag, :label AS label, :nothing AS nothing, :big AS big, :ratio AS ratio',
      {
        n: 41,
        price: { value: '10.25', type: 'DECIMAL' },
        day: { value: '2025-03-01', type: 'DATE' },
        at: new Date('2025-03-01T10:30:00.000Z'),
        flag: true,
        label: 'NA-East',
        nothing: { value: null, type: 'STRING' },
        big: 2 ** 40,
        ratio: 0.5,
      },
      { timeoutMs: 10_000 },
    );
    expect(result.rows).toEqual([
      { n: 42, price: 20.5, day: '2025-03-01', at: '2025-03-01T10:30:00.000Z', flag: true, label: 'NA-East', nothing: null, big: 2 ** 40, ratio: 0.5 },
    ]);
    expect(submits()[0]?.body?.parameters).toEqual([
      { name: 'n', value: '41', type: 'INT' },
      { name: 'price', value: '10.25', type: 'DECIMAL(4,2)' },
      { name: 'day', value: '2025-03-01', type: 'DATE' },
      { name: 'at', value: '2025-03-01T10:30:00.000Z', type: 'TIMESTAMP' },
      { name: 'flag', value: 'true', type: 'BOOLEAN' },
      { name: 'label', value: 'NA-East', type: 'STRING' },
      { name: 'nothing', value: null, type: 'STRING' },
      { name: 'big', value: String(2 ** 40), type: 'BIGINT' },
      { name: 'ratio', value: '0.5', type: 'DOUBLE' },
    ]);
  });

  it("treats a '; DROP TABLE value as data", async () => {
    const hostile = "x'; DROP TABLE workspace.support_l3.claims; --";
    const result = await client().execute(
      'SELECT COUNT(*) AS n, :product AS echoed FROM workspace.support_l3.claims WHERE product = :product',
      { product: hostile },
      { timeoutMs: 10_000 },
    );
    expect(result.rows).toEqual([{ n: 0, echoed: hostile }]);
    const [row] = await standIn.query('SELECT COUNT(*) AS n FROM workspace.support_l3.claims');
    expect(row?.n).toBe(standIn.rowCounts.claims);
  });

  it('rejects parameters it cannot encode before anything is sent', async () => {
    await expect(client().execute('SELECT :x', { 'x; --': 1 }, { timeoutMs: 1000 })).rejects.toThrow(RangeError);
    await expect(client().execute('SELECT :x', { x: Number.NaN }, { timeoutMs: 1000 })).rejects.toThrow(RangeError);
    expect(recorded).toHaveLength(0);
    expect(encodeParameter('d', { value: -0.005, type: 'DECIMAL' })).toEqual({ name: 'd', value: '-0.005', type: 'DECIMAL(3,3)' });
    expect(encodeParameter('d', { value: '12.50', type: 'DECIMAL(10,2)' })).toEqual({ name: 'd', value: '12.50', type: 'DECIMAL(10,2)' });
    expect(encodeParameter('n', null)).toEqual({ name: 'n', value: null });
  });
});

describe('waiting, polling and deadlines', () => {
  it('derives wait_timeout from the time left', () => {
    expect(waitTimeoutFor(120_000)).toBe('50s');
    expect(waitTimeoutFor(10_000)).toBe('9s');
    expect(waitTimeoutFor(6_000)).toBe('5s');
    expect(waitTimeoutFor(5_900)).toBe('0s');
    expect(waitTimeoutFor(1_000)).toBe('0s');
  });

  it('polls a slow statement until it succeeds', async () => {
    standIn.faults.set({ latencyMs: 600 });
    const result = await client().execute('SELECT 42 AS answer', {}, { timeoutMs: 4_000 });
    expect(result.rows).toEqual([{ answer: 42 }]);
    expect(submits()[0]?.body?.wait_timeout).toBe('0s');
    expect(polls().length).toBeGreaterThanOrEqual(2);
    expect(recorded.every((r) => r.hadSignal)).toBe(true);
  });

  it('times out a statement stuck in PENDING and cancels it', async () => {
    standIn.faults.set({ stuckPending: true });
    const started = Date.now();
    const error = await failure(client().execute('SELECT 1', {}, { timeoutMs: 1_200 }));
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ kind: 'timeout', details: { timeoutMs: 1_200 } });
    expect(error.message).toMatch(/it was canceled$/);
    expect(elapsed).toBeGreaterThanOrEqual(1_100);
    expect(elapsed).toBeLessThan(2_500);
    const id = error.details.statementId ?? '';
    expect(id).not.toBe('');
    expect(recorded.some((r) => r.method === 'POST' && r.path === `/api/2.0/sql/statements/${id}/cancel`)).toBe(true);
    expect(await standInState(id)).toBe('CANCELED');
  });

  it('cancels the statement when the caller aborts while polling', async () => {
    standIn.faults.set({ stuckPending: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    // Under 6 s left, the submit returns at once (wait_timeout 0s) and the abort lands while polling.
    const error = await failure(client().execute('SELECT 1', {}, { timeoutMs: 5_000, signal: controller.signal }));
    expect(error.kind).toBe('aborted');
    expect(await standInState(error.details.statementId ?? '')).toBe('CANCELED');

    const aborted = new AbortController();
    aborted.abort();
    recorded = [];
    const before = await failure(client().execute('SELECT 1', {}, { timeoutMs: 5_000, signal: aborted.signal }));
    expect(before.kind).toBe('aborted');
    expect(recorded).toHaveLength(0);
  });

  it('samples a table for health', async () => {
    const health = await client().health('claims', { timeoutMs: 5_000 });
    expect(health).toMatchObject({ rowsSampled: 10, table: 'workspace.support_l3.claims' });
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(submits()[0]?.body?.statement).toBe('SELECT 1 AS sampled FROM `workspace`.`support_l3`.`claims` LIMIT 10');
    const missing = await failure(client().health('refunds', { timeoutMs: 5_000 }));
    expect(missing).toMatchObject({ kind: 'rejected', details: { sqlState: '42P01' } });
  });
});

describe('errors', () => {
  it('maps a FAILED statement to rejected with error_code and SQLSTATE', async () => {
    const error = await failure(client().execute('SELECT * FROM workspace.support_l3.refunds', {}, { timeoutMs: 10_000 }));
    expect(error).toMatchObject({ kind: 'rejected', details: { errorType: 'BAD_REQUEST', sqlState: '42P01' } });
    expect(error.details.statementId).toBeTruthy();
    expect(error.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);

    standIn.faults.set({ failNext: { error_code: 'INTERNAL_ERROR', message: 'warehouse lost its executors', sql_state: 'XX000' } });
    const injected = await failure(client().execute('SELECT 1', {}, { timeoutMs: 10_000 }));
    expect(injected).toMatchObject({ details: { errorType: 'INTERNAL_ERROR', sqlState: 'XX000' }, message: 'warehouse lost its executors' });
  });

  it('retries a 429 after Retry-After, then succeeds', async () => {
    standIn.faults.set({ httpStatus: { status: 429, retryAfterSeconds: 1, count: 1 } });
    const started = Date.now();
    const result = await client().execute('SELECT 1 AS ok', {}, { timeoutMs: 10_000 });
    expect(result.rows).toEqual([{ ok: 1 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(submits()).toHaveLength(2);
  });

  it('gives up on 503 after its attempts, reporting Retry-After', async () => {
    standIn.faults.set({ httpStatus: { status: 503, retryAfterSeconds: 1, count: 50 } });
    const exhausted = await failure(client({ maxAttempts: 2 }).execute('SELECT 1', {}, { timeoutMs: 10_000 }));
    expect(exhausted).toMatchObject({ kind: 'unavailable', retryAfter: 1, details: { status: 503, attempts: 2 } });
    expect(submits()).toHaveLength(2);

    // A Retry-After beyond the deadline is not waited for at all.
    recorded = [];
    const started = Date.now();
    const early = await failure(client().execute('SELECT 1', {}, { timeoutMs: 800 }));
    expect(early).toMatchObject({ kind: 'unavailable', retryAfter: 1 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(submits()).toHaveLength(1);
  });

  it('rejects a chunk cut off mid-JSON as a protocol error', async () => {
    intercept = (request, response) => {
      // Let the inline first chunk through intact, then break the chunk reads.
      if (request.method === 'POST') standIn.faults.set({ malformedChunk: true });
      return response;
    };
    const error = await failure(client().execute('SELECT claim_id FROM claims', {}, { timeoutMs: 10_000 }));
    expect(error.kind).toBe('protocol');
    expect(chunkReads().length).toBeGreaterThanOrEqual(1);
  });

  it('rejects results whose rows do not add up to total_row_count, or chunks linking elsewhere', async () => {
    intercept = async (request, response) => {
      if (request.method !== 'POST') return response;
      const body = (await response.json()) as { manifest: { total_row_count: number } };
      body.manifest.total_row_count += 1;
      return Response.json(body);
    };
    const mismatch = await failure(client().execute('SELECT claim_id FROM claims LIMIT 250', {}, { timeoutMs: 10_000 }));
    expect(mismatch.kind).toBe('protocol');
    expect(mismatch.message).toMatch(/250 rows .* 251/);

    intercept = async (request, response) => {
      if (request.method !== 'POST') return response;
      const body = (await response.json()) as { result: { next_chunk_internal_link?: string } };
      body.result.next_chunk_internal_link = `https://evil.example${body.result.next_chunk_internal_link ?? '/x'}`;
      return Response.json(body);
    };
    recorded = [];
    const elsewhere = await failure(client().execute('SELECT claim_id FROM claims LIMIT 250', {}, { timeoutMs: 10_000 }));
    expect(elsewhere.kind).toBe('protocol');
    expect(recorded.every((r) => !r.path.includes('evil'))).toBe(true);
    expect(chunkReads()).toHaveLength(0);
  });

  it('fails fast as unavailable when nothing listens', async () => {
    await standIn.stop();
    try {
      const started = Date.now();
      const error = await failure(client().execute('SELECT 1', {}, { timeoutMs: 10_000 }));
      expect(error.kind).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await standIn.start();
    }
  });

  it('maps a wrong token to auth and other HTTP errors to rejected', async () => {
    const auth = await failure(client({ token: WRONG_TOKEN }).execute('SELECT 1', {}, { timeoutMs: 5_000 }));
    expect(auth).toMatchObject({ kind: 'auth', details: { status: 403, errorType: 'PERMISSION_DENIED' } });

    const warehouse = await failure(client({ warehouseId: 'nope' }).execute('SELECT 1', {}, { timeoutMs: 5_000 }));
    expect(warehouse).toMatchObject({ kind: 'rejected', details: { status: 404, errorType: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('scrubs the token from server text that echoes it', async () => {
    const echoing: typeof fetch = async () =>
      Response.json({ error_code: 'BAD_REQUEST', message: `header was Bearer ${TOKEN} and token ${TOKEN}` }, { status: 400 });
    const error = await failure(client({ fetch: echoing }).execute('SELECT 1', {}, { timeoutMs: 5_000 }));
    expect(error.message).toContain('[REDACTED]');

    const failing: typeof fetch = async () =>
      Response.json({ statement_id: 's1', status: { state: 'FAILED', error: { error_code: 'X', message: `bad ${TOKEN}` } } });
    const statement = await failure(client({ fetch: failing }).execute('SELECT 1', {}, { timeoutMs: 5_000 }));
    expect(statement.message).toBe('bad [REDACTED]');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter('1.5')).toBe(2);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() + 2_500).toUTCString())).toBeGreaterThanOrEqual(1);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('never puts a token in an error message or its serialised form', () => {
    expect(errors.length).toBeGreaterThanOrEqual(12);
    for (const error of errors) {
      const serialised = JSON.stringify(error);
      const message = (error as Error).message;
      for (const token of [TOKEN, WRONG_TOKEN]) {
        expect(serialised).not.toContain(token);
        expect(message).not.toContain(token);
        expect(String((error as Error).stack)).not.toContain(token);
      }
      expect(JSON.parse(serialised)).toMatchObject({ kind: (error as DependencyError).kind, message });
    }
  });
});
