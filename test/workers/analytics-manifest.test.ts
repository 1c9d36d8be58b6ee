import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetLocalVersions, sharedVersionsKey, tableVersions } from '../../worker/analytics/versions.ts';
import { BUNDLED_ROUTING_YAML } from '../../worker/config/bundled.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { analyticsRoutes } from '../../worker/routes/analytics.ts';
import { settingsRoutes } from '../../worker/routes/settings.ts';
import { widgetDataRoutes } from '../../worker/routes/widget-data.ts';
import { createServices } from '../../worker/services/index.ts';
import { authHeaders, call, control, expectProblem, json, localIdentities, newWidget, routeTestApp } from './helpers.ts';
import type { Kpi } from './analytics-helpers.ts';
import { query } from './analytics-helpers.ts';

interface TableManifest {
  table: string;
  full_name: string;
  format: string;
  version: number;
  last_modified: string;
  last_operation: { operation: string; at: string; rows_written: number | null; job_run_id: number | null };
  size_bytes: number;
  files: number;
  rows: number;
  newest: { column: string | null; at: string | null };
  staleness_seconds: number | null;
}
interface Manifest {
  data: { tables: TableManifest[]; newest_data_at: string | null };
  meta: { as_of: string; cache: string; source: string };
}
interface RefreshRun {
  run_id: number;
  job_id: number;
  job_name: string;
  state: string;
  result: string | null;
  message: string | null;
  done: boolean;
  versions?: Record<string, number>;
  links: { self: string };
}
interface Summary {
  data: { kpis: Kpi[] } | null;
  meta: { cache: string; live_data_unavailable: boolean };
}

const DAY = 86_400_000;

/**
 * A refresh changes the lakehouse's data, so these tests run against a lakehouse of their own
 * (started by the stack's control server) and leave the shared one, and every other test's
 * numbers and cached answers, alone.
 */
let lakehouse: { id: string; now: string; vars: Record<string, string> };
let as: (role: 'viewer' | 'editor' | 'admin', extra?: Record<string, string>) => ReturnType<typeof routeTestApp>;
const lake = (verb: string, body?: unknown) => control(`/lakehouses/${lakehouse.id}/${verb}`, body);

beforeAll(async () => {
  // Short phases keep a whole run to about a tenth of a second.
  lakehouse = await control('/lakehouses', { jobPhaseMs: 20 });
  const identities = await localIdentities();
  as = (role, extra = {}) =>
    routeTestApp(
      (app) =>
        app
          .use('*', (c, next) => (c.set('routingText', BUNDLED_ROUTING_YAML), next()))
          .route('/', settingsRoutes)
          .route('/', analyticsRoutes)
          .route('/', widgetDataRoutes),
      identities.get(role)!,
      { ...lakehouse.vars, ...extra },
    );
});

afterAll(async () => {
  if (lakehouse) await lake('close');
});

const manifest = async () => json<Manifest>(await as('viewer')('/v1/settings/manifest'));
const table = (m: Manifest, name: string) => m.data.tables.find((t) => t.table === name)!;

async function start(): Promise<{ res: Response; run: RefreshRun }> {
  const res = await as('admin')('/v1/settings/refresh', { method: 'POST' });
  const body = await json<{ data: RefreshRun }>(res.clone(), 202);
  return { res, run: body.data };
}

/** Follows a run the way a client does, through the API, until it says it is done (or reaches `until`). */
async function follow(run: RefreshRun, until = (r: RefreshRun) => r.done, timeoutMs = 10_000): Promise<RefreshRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = (await json<{ data: RefreshRun }>(await as('viewer')(run.links.self))).data;
    if (until(current)) return current;
    if (Date.now() > deadline) throw new Error(`run ${run.run_id} still ${current.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The contacts KPI over the last day of data and the day after it (where a refresh writes). */
async function contacts(): Promise<{ value: number; cache: string }> {
  const end = Date.parse(lakehouse.now);
  const w = { start: new Date(end - DAY).toISOString(), end: new Date(end + DAY).toISOString() };
  const s = await json<Summary>(await as('viewer')(`/v1/analytics/summary?${query(w)}`));
  expect(s.meta.live_data_unavailable).toBe(false);
  return { value: s.data!.kpis.find((k) => k.name === 'contacts')!.current!, cache: s.meta.cache };
}

describe('GET /v1/settings/manifest', () => {
  it('gives every table’s version, last change, size, files, rows and staleness, then from the cache', async () => {
    const m = await manifest();
    expect(m.meta).toMatchObject({ source: 'databricks', cache: 'miss' });
    expect(m.data.tables.map((t) => t.table).sort()).toEqual(['agents', 'claims', 'customers', 'devices', 'interactions', 'issue_sessions']);
    const dataEnd = Date.parse(lakehouse.now);
    for (const t of m.data.tables) {
      expect(t, t.table).toMatchObject({ full_name: `workspace.support_l3.${t.table}`, format: 'delta', version: 1, last_operation: { operation: 'WRITE', job_run_id: null } });
      expect(t.rows, t.table).toBeGreaterThan(0);
      expect(t.last_operation.rows_written, t.table).toBe(t.rows);
      expect(t.files, t.table).toBeGreaterThanOrEqual(1);
      expect(t.size_bytes, t.table).toBeGreaterThan(t.rows);
      expect(Date.parse(t.last_modified), t.table).toBe(dataEnd);
      expect(Date.parse(t.newest.at!), t.table).toBeLessThanOrEqual(dataEnd);
      expect(t.staleness_seconds, t.table).toBeGreaterThanOrEqual(Math.floor((Date.now() - Date.parse(t.newest.at!)) / 1000) - 5);
    }
    expect(table(m, 'interactions')).toMatchObject({ rows: 30_000, newest: { column: 'started_at' } });
    expect(table(m, 'claims').newest.column).toBe('opened_at');
    expect(table(m, 'customers').newest.column).toBe('signup_date');
    // The newest contact is the lakehouse's own latest start (how long before the data's end it
    // falls depends on the hour of day the lakehouse was built); the manifest names the newest of all.
    const [latest] = (await control<{ rows: { at: string }[] }>(`/lakehouses/${lakehouse.id}/sql`, {
      sql: 'SELECT MAX(started_at) AS at FROM workspace.support_l3.interactions',
    })).rows;
    expect(Date.parse(table(m, 'interactions').newest.at!)).toBe(Date.parse(latest!.at));
    expect(m.data.newest_data_at).toBe([...m.data.tables.map((t) => t.newest.at!)].sort().at(-1));

    const again = await manifest();
    expect(again.meta.cache).toBe('hit');
    expect(again.data.tables.map((t) => [t.table, t.version, t.rows])).toEqual(m.data.tables.map((t) => [t.table, t.version, t.rows]));
  });

  it('answers 503 databricks_unavailable when the lakehouse cannot be reached, never 500', async () => {
    await expectProblem(await as('viewer', { DATABRICKS_HOST: 'http://127.0.0.1:9' })('/v1/settings/manifest'), 503, 'databricks_unavailable');
    await expectProblem(await as('viewer')('/v1/settings/manifest?table=claims'), 422, 'validation_failed');
  });
});

describe('POST /v1/settings/refresh', () => {
  it('runs the refresh job to SUCCESS and the analytics numbers change at once, without waiting for a TTL', async () => {
    const before = await contacts();
    expect((await contacts()).cache).toBe('hit');
    const manifestBefore = await manifest();

    // Held at RUNNING until the start has been looked at, however slow this machine is.
    await lake('faults', { holdRuns: true });
    const { res, run } = await start();
    expect(res.headers.get('location')).toBe(`/v1/settings/refresh/${run.run_id}`);
    expect(run).toMatchObject({ job_name: 'support_l3_refresh', done: false, result: null, links: { self: `/v1/settings/refresh/${run.run_id}` } });
    expect(['QUEUED', 'PENDING', 'RUNNING']).toContain(run.state);
    await lake('clear');

    const done = await follow(run);
    expect(done).toMatchObject({ state: 'TERMINATED', result: 'SUCCESS', done: true, job_id: run.job_id });
    expect(done.versions).toMatchObject({ interactions: 2, claims: 2, issue_sessions: 2, customers: 1, agents: 1, devices: 1 });

    // The summary was cached; its key carries the versions, so this is a fresh answer with the new day.
    const after = await contacts();
    expect(after.cache).toBe('miss');
    expect(after.value).toBeGreaterThan(before.value);

    const m = await manifest();
    expect(m.meta.cache).toBe('miss');
    const contactsTable = table(m, 'interactions');
    expect(contactsTable).toMatchObject({ version: 2, last_operation: { operation: 'WRITE', job_run_id: run.run_id } });
    expect(contactsTable.rows - table(manifestBefore, 'interactions').rows).toBe(after.value - before.value);
    expect(contactsTable.last_operation.rows_written).toBe(after.value - before.value);
    expect(Date.parse(contactsTable.newest.at!)).toBeGreaterThan(Date.parse(lakehouse.now));
    expect(table(m, 'customers')).toMatchObject({ version: 1, rows: table(manifestBefore, 'customers').rows });
    expect(table(m, 'claims').files).toBe(table(manifestBefore, 'claims').files + 1);
  });

  it('refuses a second refresh with 409 while one runs, pointing at it', async () => {
    await lake('faults', { holdRuns: true });
    try {
      const { run } = await start();
      const res = await as('admin')('/v1/settings/refresh', { method: 'POST' });
      const problem = await expectProblem(res, 409, 'conflict');
      expect(problem.detail).toContain(String(run.run_id));
      expect(res.headers.get('location')).toBe(run.links.self);
      // Held: it reaches RUNNING and stays there, and a start is still refused.
      expect(await follow(run, (r) => r.state === 'RUNNING')).toMatchObject({ done: false, result: null });
      await expectProblem(await as('admin')('/v1/settings/refresh', { method: 'POST' }), 409, 'conflict');
      await lake('faults', { holdRuns: false });
      expect((await follow(run)).result).toBe('SUCCESS');
    } finally {
      await lake('clear');
    }
    // Released, the job takes a new run.
    expect((await follow((await start()).run)).result).toBe('SUCCESS');
  });

  it('surfaces a failed run as FAILED with Databricks’ message, and changes no version', async () => {
    const versions = Object.fromEntries((await manifest()).data.tables.map((t) => [t.table, t.version]));
    await lake('faults', { failNextRun: { message: 'Task append_newest_day failed: the upstream export is missing' } });
    const done = await follow((await start()).run);
    expect(done).toMatchObject({ state: 'TERMINATED', result: 'FAILED', done: true, message: 'Task append_newest_day failed: the upstream export is missing' });
    expect(done.versions).toBeUndefined();
    expect(Object.fromEntries((await manifest()).data.tables.map((t) => [t.table, t.version]))).toEqual(versions);
  });

  it('is for admins only: viewers and editors get 403, nobody 401', async () => {
    for (const role of ['viewer', 'editor'] as const) {
      await expectProblem(await call('/v1/settings/refresh', { method: 'POST', headers: await authHeaders(role) }), 403, 'forbidden');
    }
    await expectProblem(await call('/v1/settings/refresh', { method: 'POST' }), 401, 'unauthenticated');
    await expectProblem(await call('/v1/settings/manifest'), 401, 'unauthenticated');
  });

  it('answers 404 for a run it does not know, 422 for a malformed id, 503 while the lakehouse is away', async () => {
    await expectProblem(await as('viewer')('/v1/settings/refresh/42'), 404, 'not_found');
    await expectProblem(await as('viewer')('/v1/settings/refresh/latest'), 422, 'validation_failed');
    await lake('stop');
    try {
      await expectProblem(await as('admin')('/v1/settings/refresh', { method: 'POST' }), 503, 'databricks_unavailable');
      await expectProblem(await as('viewer')('/v1/settings/refresh/42'), 503, 'databricks_unavailable');
    } finally {
      await lake('start');
    }
  });
});

describe('tile cache keys carry the table versions', () => {
  it('answers a cached Databricks tile afresh as soon as a refresh changes its table', async () => {
    const end = Date.parse(lakehouse.now);
    // The last day of data and the days after it, where refresh runs append claims.
    const time_window = { start: new Date(end - DAY).toISOString(), end: new Date(end + 5 * DAY).toISOString() };
    const tile = async (metric: string) => (await json<{ id: string }>(await newWidget('editor', { title: `versions ${metric}`, metric, visualization: 'kpi', time_window }), 201)).id;
    const claims = await tile('claim_volume');
    const headers = await authHeaders('editor');
    const data = async (id: string) => {
      const body = await json<{ rows: Array<{ value: number }>; cache: string; source: string; live_data_unavailable: boolean }>(
        await as('editor')(`/v1/widgets/${id}/data`, { method: 'POST', headers }),
      );
      expect(body).toMatchObject({ source: 'databricks', live_data_unavailable: false });
      return { value: body.rows[0]!.value, cache: body.cache };
    };
    try {
      const before = await data(claims);
      expect(before.cache).toBe('miss');
      expect(await data(claims)).toEqual({ ...before, cache: 'hit' });

      const done = await follow((await start()).run);
      expect(done).toMatchObject({ result: 'SUCCESS' });
      expect(done.versions?.claims).toBeGreaterThan(1);

      // No TTL to wait out: the claims table has a new version, so the key is new and the new day counts.
      const after = await data(claims);
      expect(after.cache).toBe('miss');
      expect(after.value).toBeGreaterThan(before.value);
      expect((await data(claims)).cache).toBe('hit');
    } finally {
      await call(`/v1/widgets/${claims}`, { method: 'DELETE', headers });
    }
  });
});

describe('table versions on the hot path', () => {
  it('costs a map lookup when the isolate holds them, one Redis read otherwise, the lakehouse only when both are cold', async () => {
    const loaded = loadConfig({ ...env, ...lakehouse.vars });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const services = createServices(loaded.config);
    const tables = ['interactions', 'customers', 'agents', 'devices', 'claims', 'issue_sessions'];
    const time = async (label: string, times: number, work: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < times; i++) await work();
      const each = (performance.now() - started) / times;
      console.log(`table versions, ${label}: ${each.toFixed(3)} ms per call (${times} calls)`);
      return each;
    };
    try {
      const expected = await tableVersions(services, loaded.config, tables);
      expect(Object.values(expected).every((v) => /^\d+$/.test(v))).toBe(true);
      const local = await time('isolate copy', 1_000, () => tableVersions(services, loaded.config, tables));
      const shared = await time('Redis copy', 20, async () => {
        forgetLocalVersions();
        expect(await tableVersions(services, loaded.config, tables)).toEqual(expected);
      });
      const cold = await time('lakehouse (DESCRIBE HISTORY per table)', 5, async () => {
        forgetLocalVersions();
        await services.redis.client!.del(await sharedVersionsKey(loaded.config));
        expect(await tableVersions(services, loaded.config, tables)).toEqual(expected);
      });
      expect(local).toBeLessThan(shared);
      expect(shared).toBeLessThan(cold);
    } finally {
      await services.close();
    }
  });
});
