// Table metadata (DESCRIBE DETAIL / HISTORY) and the refresh job (Jobs API 2.2) of the Databricks
// stand-in, driven the way a production client drives them: plain fetch with a bearer token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DICTIONARY_DIR } from '../../../scripts/dictionary-files.ts';
import { startDatabricksStandIn } from './server.ts';
import type { DatabricksStandIn } from './server.ts';

const NOW = new Date('2025-03-18T15:00:00.000Z');
const TOKEN = 'dapi-jobs-test';
const DAY = 86_400_000;

interface Statement {
  status: { state: string; error?: { error_code: string; message: string } };
  manifest?: { schema: { columns: Array<{ name: string; type_name: string; type_text: string }> }; total_row_count: number };
  result?: { data_array?: Array<Array<string | null>> };
}
interface Run {
  run_id: number;
  job_id: number;
  state: { life_cycle_state: string; result_state?: string; state_message: string };
  status: { state: string; termination_details?: { code: string; type: string; message: string } };
  start_time: number;
  end_time: number;
}

let standIn: DatabricksStandIn;

const api = async (path: string, init: RequestInit = {}, token: string | null = TOKEN) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${standIn.url}${path}`, { ...init, headers });
};
const get = async <T>(path: string, status = 200): Promise<T> => {
  const res = await api(path);
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
};
const post = async <T>(path: string, body: unknown, status = 200): Promise<T> => {
  const res = await api(path, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
};
const sql = (statement: string) =>
  post<Statement>('/api/2.0/sql/statements', { warehouse_id: standIn.warehouseId, statement, catalog: 'workspace', schema: 'support_l3', wait_timeout: '10s' });

/** The statement's rows as objects keyed by column name (cells as the API sends them). */
const rowsOf = (s: Statement) => {
  expect(s.status.state, JSON.stringify(s.status)).toBe('SUCCEEDED');
  const names = s.manifest!.schema.columns.map((c) => c.name);
  return (s.result?.data_array ?? []).map((cells) => Object.fromEntries(names.map((n, i) => [n, cells[i]])));
};

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const runNow = (body: Record<string, unknown> = {}) => post<{ run_id: number; number_in_job: number }>('/api/2.2/jobs/run-now', { job_id: standIn.refreshJobId, ...body });
const runOf = (id: number) => get<Run>(`/api/2.2/jobs/runs/get?run_id=${id}`);
const finished = (id: number) => until(() => runOf(id), (r) => r.state.life_cycle_state === 'TERMINATED' || r.state.life_cycle_state === 'SKIPPED');

beforeAll(async () => {
  standIn = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: DICTIONARY_DIR, now: NOW, jobPhaseMs: 5 });
});
afterAll(async () => {
  await standIn?.close();
});

describe('DESCRIBE DETAIL and DESCRIBE HISTORY', () => {
  it('describes a Delta table in one row with Databricks’ columns and types', async () => {
    const s = await sql('DESCRIBE DETAIL workspace.support_l3.interactions');
    const types = Object.fromEntries(s.manifest!.schema.columns.map((c) => [c.name, c.type_text]));
    expect(types).toMatchObject({
      format: 'STRING',
      lastModified: 'TIMESTAMP',
      createdAt: 'TIMESTAMP',
      numFiles: 'BIGINT',
      sizeInBytes: 'BIGINT',
      properties: 'MAP<STRING, STRING>',
      partitionColumns: 'ARRAY<STRING>',
    });
    const [row] = rowsOf(s);
    expect(rowsOf(s)).toHaveLength(1);
    expect(row).toMatchObject({ format: 'delta', name: 'workspace.support_l3.interactions', lastModified: NOW.toISOString(), numFiles: '1', partitionColumns: '[]' });
    expect(Number(row!.sizeInBytes)).toBeGreaterThan(100_000);
    expect(JSON.parse(row!.properties!)).toEqual({ 'delta.enableDeletionVectors': 'true' });
    // One- and two-part names resolve in the session's catalog and schema; backticks quote.
    expect(rowsOf(await sql('DESCRIBE DETAIL `claims`'))[0]!.name).toBe('workspace.support_l3.claims');
    expect(rowsOf(await sql('desc detail support_l3.agents;'))[0]!.name).toBe('workspace.support_l3.agents');
  });

  it('lists the history newest first, LIMIT 1 being the current version', async () => {
    const all = rowsOf(await sql('DESCRIBE HISTORY workspace.support_l3.customers'));
    expect(all.map((r) => [r.version, r.operation])).toEqual([['1', 'WRITE'], ['0', 'CREATE TABLE']]);
    const [latest] = rowsOf(await sql('DESCRIBE HISTORY workspace.support_l3.customers LIMIT 1'));
    expect(latest).toMatchObject({ version: '1', timestamp: NOW.toISOString(), operation: 'WRITE', readVersion: '0', isBlindAppend: 'true' });
    expect(JSON.parse(latest!.operationMetrics!).numOutputRows).toBe(String(standIn.rowCounts.customers));
  });

  it('reports a missing table and a malformed command as Databricks does', async () => {
    const missing = await sql('DESCRIBE DETAIL workspace.support_l3.nope');
    expect(missing.status).toMatchObject({ state: 'FAILED', error: { error_code: 'BAD_REQUEST' } });
    expect(missing.status.error!.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);
    const bad = await sql('DESCRIBE HISTORY workspace.support_l3.claims LIMIT x');
    expect(bad.status.error!.message).toMatch(/^\[PARSE_SYNTAX_ERROR\]/);
  });
});

describe('the support_l3_refresh job', () => {
  it('is found by its exact name, case-insensitively, and by id', async () => {
    const listed = await get<{ jobs?: Array<{ job_id: number; settings: { name: string; max_concurrent_runs: number } }>; has_more: boolean }>(
      '/api/2.2/jobs/list?name=SUPPORT_L3_REFRESH',
    );
    expect(listed.jobs).toEqual([expect.objectContaining({ job_id: standIn.refreshJobId, settings: expect.objectContaining({ name: 'support_l3_refresh', max_concurrent_runs: 1 }) })]);
    expect(await get('/api/2.2/jobs/list?name=other_job')).toEqual({ has_more: false });
    expect((await get<{ job_id: number }>(`/api/2.2/jobs/get?job_id=${standIn.refreshJobId}`)).job_id).toBe(standIn.refreshJobId);
    expect((await api('/api/2.2/jobs/list', {}, null)).status).toBe(401);
  });

  it('runs QUEUED → RUNNING → TERMINATED SUCCESS, appending the next day and bumping the versions of what it changed', async () => {
    const before = { ...standIn.rowCounts };
    const versions = standIn.tableVersions();
    const order = ['QUEUED', 'PENDING', 'RUNNING', 'TERMINATING', 'TERMINATED'];
    const seen: string[] = [];
    const observe = async () => {
      const run = await runOf(run_id);
      if (seen.at(-1) !== run.state.life_cycle_state) seen.push(run.state.life_cycle_state);
      expect(run.status.state).toBe(run.state.life_cycle_state);
      return run;
    };
    standIn.faults.set({ holdRuns: true });
    const { run_id } = await runNow();
    const running = await until(observe, (r) => r.state.life_cycle_state === 'RUNNING');
    expect(running).toMatchObject({ job_id: standIn.refreshJobId, run_id, end_time: 0 });
    expect(running.state.result_state).toBeUndefined();
    standIn.faults.set({ holdRuns: false });
    const done = await until(observe, (r) => r.state.life_cycle_state === 'TERMINATED');
    // Every state seen comes after the one before it in the life cycle.
    expect(seen.map((state) => order.indexOf(state))).toEqual([...seen.map((state) => order.indexOf(state))].sort((a, b) => a - b));
    expect(seen).toContain('RUNNING');
    expect(done).toMatchObject({ state: { result_state: 'SUCCESS' }, status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS' } } });
    expect(done.end_time).toBeGreaterThanOrEqual(done.start_time);

    for (const table of ['interactions', 'claims', 'issue_sessions']) {
      expect(standIn.rowCounts[table], table).toBeGreaterThan(before[table]!);
      expect(standIn.tableVersions()[table], table).toBe(versions[table]! + 1);
    }
    expect(standIn.tableVersions().customers).toBe(versions.customers);
    // About a day's worth (the initial load spans 120 days), all in the day after the data's end.
    const added = standIn.rowCounts.interactions! - before.interactions!;
    expect(added).toBeGreaterThan(before.interactions! / 120 / 2);
    const [span] = await standIn.query(
      `SELECT MIN(started_at) AS first, MAX(started_at) AS last, COUNT(*) AS n FROM workspace.support_l3.interactions WHERE interaction_id > 'INT-${String(before.interactions).padStart(7, '0')}'`,
    );
    expect(span!.n).toBe(added);
    expect((span!.first as Date).getTime()).toBeGreaterThanOrEqual(NOW.getTime());
    expect((span!.last as Date).getTime()).toBeLessThan(NOW.getTime() + DAY);
    // The new contacts belong to known customers and agents.
    const [orphans] = await standIn.query(
      `SELECT COUNT(*) AS n FROM workspace.support_l3.interactions i LEFT JOIN workspace.support_l3.customers c USING (customer_id) LEFT JOIN workspace.support_l3.agents a USING (agent_id) WHERE c.customer_id IS NULL OR a.agent_id IS NULL`,
    );
    expect(orphans!.n).toBe(0);

    const [commit] = rowsOf(await sql('DESCRIBE HISTORY workspace.support_l3.interactions LIMIT 1'));
    expect(commit).toMatchObject({ version: String(versions.interactions! + 1), operation: 'WRITE' });
    expect(JSON.parse(commit!.job!)).toMatchObject({ jobId: String(standIn.refreshJobId), jobName: 'support_l3_refresh', jobRunId: String(run_id) });
    expect(JSON.parse(commit!.operationMetrics!).numOutputRows).toBe(String(added));
  });

  it('appends the same rows for the same day on another stand-in with the same seed', async () => {
    const twin = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: DICTIONARY_DIR, now: NOW, jobPhaseMs: 5 });
    try {
      const digest = `SELECT COUNT(*) AS n, SUM(hash(interaction_id, customer_id, agent_id, started_at, handle_seconds, csat)) AS h FROM workspace.support_l3.interactions WHERE started_at >= TIMESTAMP '2025-03-18 15:00:00' AND started_at < TIMESTAMP '2025-03-19 15:00:00'`;
      const res = await fetch(`${twin.url}/api/2.2/jobs/run-now`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ job_id: twin.refreshJobId }) });
      const { run_id } = (await res.json()) as { run_id: number };
      await until(
        async () => (await (await fetch(`${twin.url}/api/2.2/jobs/runs/get?run_id=${run_id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Run,
        (r) => r.state.life_cycle_state === 'TERMINATED',
      );
      expect(await twin.query(digest)).toEqual(await standIn.query(digest));
    } finally {
      await twin.close();
    }
  });

  it('fails a run on the injected fault, with its message, writing nothing', async () => {
    const versions = standIn.tableVersions();
    standIn.faults.set({ failNextRun: { message: 'Task append_newest_day failed: upstream export missing' } });
    const { run_id } = await runNow();
    const run = await finished(run_id);
    expect(run).toMatchObject({
      state: { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'Task append_newest_day failed: upstream export missing' },
      status: { state: 'TERMINATED', termination_details: { code: 'RUN_EXECUTION_ERROR', message: 'Task append_newest_day failed: upstream export missing' } },
    });
    expect(standIn.tableVersions()).toEqual(versions);
    // The fault was spent: the next run succeeds.
    expect((await finished((await runNow()).run_id)).state.result_state).toBe('SUCCESS');
  });

  it('allows one run at a time: lists the active one, skips another that may not queue, queues one that may', async () => {
    standIn.faults.set({ holdRuns: true });
    try {
      const { run_id: active } = await runNow();
      await until(() => runOf(active), (r) => r.state.life_cycle_state === 'RUNNING');
      const listed = await get<{ runs?: Run[] }>(`/api/2.2/jobs/runs/list?job_id=${standIn.refreshJobId}&active_only=true`);
      expect(listed.runs?.map((r) => r.run_id)).toEqual([active]);

      const skipped = await runOf((await runNow({ queue: { enabled: false } })).run_id);
      expect(skipped).toMatchObject({ state: { life_cycle_state: 'SKIPPED', result_state: 'MAXIMUM_CONCURRENT_RUNS_REACHED' }, status: { state: 'TERMINATED' } });

      const queued = (await runNow({ idempotency_token: 'queued-once' })).run_id;
      expect((await runNow({ idempotency_token: 'queued-once' })).run_id).toBe(queued);
      expect((await runOf(queued)).state.life_cycle_state).toBe('QUEUED');
      standIn.faults.set({ holdRuns: false });
      expect((await finished(active)).state.result_state).toBe('SUCCESS');
      expect((await finished(queued)).state.result_state).toBe('SUCCESS');
    } finally {
      standIn.faults.clear();
    }
    expect(await get(`/api/2.2/jobs/runs/list?job_id=${standIn.refreshJobId}&active_only=true`)).toEqual({ has_more: false });
  });

  it('refuses unknown jobs and runs the way the API does', async () => {
    const job = await post<{ error_code: string; message: string }>('/api/2.2/jobs/run-now', { job_id: 1 }, 400);
    expect(job).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Job 1 does not exist.' });
    expect(await get('/api/2.2/jobs/runs/get?run_id=42', 400)).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Run 42 does not exist.' });
    expect((await get<{ error_code: string }>('/api/2.2/jobs/runs/get?run_id=abc', 400)).error_code).toBe('MALFORMED_REQUEST');
    expect((await get<{ error_code: string }>('/api/2.2/jobs/cancel-all', 404)).error_code).toBe('ENDPOINT_NOT_FOUND');
  });
});
