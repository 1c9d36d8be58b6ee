import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import type { Role } from '../../worker/auth/roles.ts';
import { issueToken } from '../../worker/auth/session.ts';
import { findActiveUserByEmail } from '../../worker/auth/users.ts';
import { isDependencyError } from '../../worker/http/errors.ts';
import { rootLogger } from '../../worker/lib/log.ts';
import { createDatabricks } from '../../worker/services/databricks/service.ts';
import type { DatabricksClient } from '../../worker/services/databricks/types.ts';
import type { Postgres } from '../../worker/services/postgres.ts';
import { hydrate } from '../../worker/signals/hydrate.ts';
import { requireOwnership } from '../../worker/signals/ownership-bundled.ts';
import type { HydrationRun, SignalDetail, SignalPage } from '../../worker/signals/schemas.ts';
import { martStatements } from '../stack/databricks/marts.ts';
import { LOCAL_EMAIL, control, json, listen, vars } from './helpers.ts';
import { configWith, database } from './signals-fixtures.ts';

// Hydration marks every signal the marts lack as stale, so it runs against a database and a
// lakehouse of this file's own: 50-row result chunks, so every mart arrives in several.

let privateVars: Record<string, string>;
let databaseId: string;
let lakehouseId: string;
let db: Postgres;
let lakehouse: DatabricksClient;
const api = createApi();
const tokens = new Map<Role, string>();

async function req(role: Role, path: string, init: { method?: string; body?: unknown } = {}) {
  if (!tokens.has(role)) {
    const user = await findActiveUserByEmail(db, LOCAL_EMAIL[role]);
    tokens.set(role, (await issueToken(user!, 'session', 3_600, vars.SESSION_SECRET!)).token);
  }
  const headers: Record<string, string> = { authorization: `Bearer ${tokens.get(role)}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return api.request(path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) }, { ...env, ...privateVars });
}

async function lakeSql(sql: string) {
  await control(`/lakehouses/${lakehouseId}/sql`, { sql });
}

async function martCount(table: string): Promise<number> {
  const { rows } = await lakehouse.execute(`SELECT COUNT(*) AS n FROM workspace.support_marts.${table}`, {}, { timeoutMs: 10_000 });
  return Number(rows[0]!.n);
}

const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params))[0]!.n);
const runHydrate = async () => json<HydrationRun>(await req('admin', '/v1/signals/hydrate', { method: 'POST' }));

beforeAll(async () => {
  const [pg, lake] = await Promise.all([
    control<{ id: string; vars: Record<string, string> }>('/postgres/databases', {}),
    control<{ id: string; vars: Record<string, string> }>('/lakehouses', { chunkRows: 50, jobPhaseMs: 50 }),
  ]);
  databaseId = pg.id;
  lakehouseId = lake.id;
  privateVars = { ...pg.vars, ...lake.vars };
  db = database(privateVars);
  lakehouse = createDatabricks(configWith(privateVars)).client!;
}, 120_000);

afterAll(async () => {
  await db?.close();
  if (lakehouseId) await control(`/lakehouses/${lakehouseId}/close`);
  if (databaseId) await control(`/postgres/databases/${databaseId}/drop`);
});

describe('signal hydration', () => {
  let signals = 0;

  it('first use: an empty table is hydrated once, even with concurrent requests, every chunk read', async () => {
    signals = await martCount('fct_signals');
    expect(signals).toBeGreaterThan(100); // several 50-row chunks
    const pages = await Promise.all([1, 2, 3].map(() => req('viewer', '/v1/signals?page[size]=5')));
    for (const page of pages) await json<SignalPage>(page);
    const runs = await db.query<{ trigger: string; status: string; read_count: number; inserted_count: number }>('SELECT trigger, status, read_count, inserted_count FROM signal_hydration_runs');
    expect(runs).toEqual([{ trigger: 'first_use', status: 'succeeded', read_count: signals, inserted_count: signals }]);
    expect(await count('SELECT COUNT(*) AS n FROM signals')).toBe(signals);
    expect(await count('SELECT COUNT(*) AS n FROM signal_contributions')).toBe(await martCount('fct_contributions'));
    expect(await count('SELECT COUNT(*) AS n FROM signal_drivers')).toBe(await martCount('fct_model_drivers'));
    // Another list does not hydrate again.
    await json<SignalPage>(await req('viewer', '/v1/signals'));
    expect(await count('SELECT COUNT(*) AS n FROM signal_hydration_runs')).toBe(1);

    // The ownership rules assigned new signals by entity, as the system.
    const rules = requireOwnership();
    expect(rules.rules.some((r) => r.match.entity_type === 'product')).toBe(true);
    const products = await db.query<{ email: string; assigned_by: string }>(
      `SELECT u.email, s.assigned_by FROM signals s JOIN users u ON u.id = s.assignee WHERE s.entity_type = 'product'`,
    );
    expect(products.length).toBeGreaterThan(0);
    expect(new Set(products.map((p) => `${p.email} ${p.assigned_by}`))).toEqual(new Set([`${LOCAL_EMAIL.editor} rule`]));
    expect(await count(`SELECT COUNT(*) AS n FROM signal_activity WHERE kind = 'assignee' AND actor_id IS NULL`)).toBe(
      await count(`SELECT COUNT(*) AS n FROM signals WHERE assigned_by = 'rule'`),
    );
  });

  it('a rerun over the same marts changes nothing and says so', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM signal_activity');
    const versions = await count('SELECT SUM(version) AS n FROM signals');
    const run = await runHydrate();
    expect(run).toMatchObject({ trigger: 'api', status: 'succeeded', read: signals, inserted: 0, updated: 0, unchanged: signals, stale: 0, rejected: 0, error: null });
    expect(run.actor?.email).toBe(LOCAL_EMAIL.admin);
    expect(run.model_run_id).toMatch(/^dbt-/);
    expect(await count('SELECT COUNT(*) AS n FROM signal_activity')).toBe(before);
    expect(await count('SELECT SUM(version) AS n FROM signals')).toBe(versions);
  });

  it("a signal's contributions and drivers follow the marts: a changed value is refreshed, a dropped row deleted, the rest kept", async () => {
    const [pick] = await db.query<{ signal_id: string; dimension: string; dimension_value: string }>(
      `SELECT c.signal_id, c.dimension, c.dimension_value FROM signal_contributions c
        WHERE (SELECT COUNT(*) FROM signal_contributions o WHERE o.signal_id = c.signal_id) >= 2 AND position('''' in c.signal_id || c.dimension || c.dimension_value) = 0
        ORDER BY c.signal_id DESC, c.rank DESC LIMIT 1`,
    );
    const { signal_id: id, dimension, dimension_value: value } = pick!;
    const [driver] = await db.query<{ feature: string; shap_value: number }>(`SELECT feature, shap_value FROM signal_drivers WHERE signal_id = $1 AND position('''' in feature) = 0 ORDER BY rank LIMIT 1`, [id]);
    const contributions = await count('SELECT COUNT(*) AS n FROM signal_contributions');
    const drivers = await count('SELECT COUNT(*) AS n FROM signal_drivers');
    await lakeSql(`DELETE FROM workspace.support_marts.fct_contributions WHERE signal_id = '${id}' AND dimension = '${dimension}' AND dimension_value = '${value}'`);
    await lakeSql(`UPDATE workspace.support_marts.fct_model_drivers SET shap_value = shap_value + 1 WHERE signal_id = '${id}' AND feature = '${driver!.feature}'`);
    const run = await runHydrate();
    expect(run).toMatchObject({ read: signals, inserted: 0, updated: 0, unchanged: signals, stale: 0, rejected: 0 });
    expect(await count('SELECT COUNT(*) AS n FROM signal_contributions')).toBe(contributions - 1);
    expect(await count('SELECT COUNT(*) AS n FROM signal_contributions WHERE signal_id = $1 AND dimension = $2 AND dimension_value = $3', [id, dimension, value])).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM signal_drivers')).toBe(drivers);
    const [changed] = await db.query<{ shap_value: number }>('SELECT shap_value FROM signal_drivers WHERE signal_id = $1 AND feature = $2', [id, driver!.feature]);
    expect(Number(changed!.shap_value)).toBeCloseTo(Number(driver!.shap_value) + 1, 9);
  });

  it('a changed mart row refreshes the analytics and keeps the workflow state', async () => {
    const [target] = await db.query<{ id: string; severity: string; version: number }>(
      `SELECT id, severity, version FROM signals WHERE severity <> 'critical' AND entity_type <> 'product' ORDER BY id LIMIT 1`,
    );
    const id = target!.id;
    let d = await json<SignalDetail>(await req('editor', `/v1/signals/${id}`, { method: 'PATCH', body: { status: 'acknowledged', assignee: 'me', version: target!.version } }));
    await db.query(`INSERT INTO signal_notes (signal_id, body) VALUES ($1, 'kept')`, [id]);
    await lakeSql(`UPDATE workspace.support_marts.fct_signals SET severity = 'critical', observed_value = observed_value + 1 WHERE signal_id = '${id}'`);
    const socket = await listen('default');
    const run = await runHydrate();
    // The hub hears of it: the signal itself, and the run's summary.
    await socket.until(() => socket.messages.some((m) => m.type === 'signal_update' && m.data?.signal_id === null && (m.data?.run as { id: string } | undefined)?.id === run.id));
    expect(socket.messages.find((m) => m.type === 'signal_update' && m.data?.signal_id === id)?.data).toMatchObject({ kind: 'hydrated', severity: 'critical', status: 'acknowledged' });
    expect(run).toMatchObject({ read: signals, inserted: 0, updated: 1, unchanged: signals - 1, stale: 0 });
    d = await json<SignalDetail>(await req('viewer', `/v1/signals/${id}`));
    expect(d).toMatchObject({ severity: 'critical', status: 'acknowledged', assignee: { email: LOCAL_EMAIL.editor }, version: target!.version + 2 });
    expect(d.notes.map((n) => n.body)).toEqual(['kept']);
    expect(d.activity.filter((e) => e.actor === null).map((e) => e.kind).slice(-2)).toEqual(['hydrated', 'severity']);
    expect(d.activity.find((e) => e.kind === 'severity')).toMatchObject({ from: target!.severity, to: 'critical' });
  });

  it('a signal that leaves the mart is marked stale, not deleted, and is fresh again when it returns', async () => {
    const [target] = await db.query<{ id: string }>(`SELECT id FROM signals WHERE status = 'new' ORDER BY id DESC LIMIT 1`);
    const id = target!.id;
    await lakeSql(`CREATE OR REPLACE TABLE workspace.default.kept_signal AS SELECT * FROM workspace.support_marts.fct_signals WHERE signal_id = '${id}'`);
    await lakeSql(`DELETE FROM workspace.support_marts.fct_signals WHERE signal_id = '${id}'`);
    let run = await runHydrate();
    expect(run).toMatchObject({ read: signals - 1, inserted: 0, updated: 0, stale: 1 });
    let d = await json<SignalDetail>(await req('viewer', `/v1/signals/${id}`));
    expect(d.stale).toBe(true);
    expect(d.activity.at(-1)).toMatchObject({ kind: 'stale', from: 'fresh', to: 'stale', actor: null });
    const stale = await json<SignalPage>(await req('viewer', `/v1/signals?entity_id=${encodeURIComponent(d.entity_id)}&metric=${d.metric_name}`));
    expect(stale.data.find((s) => s.id === id)?.stale).toBe(true);

    await lakeSql(`INSERT INTO workspace.support_marts.fct_signals SELECT * FROM workspace.default.kept_signal`);
    await lakeSql('DROP TABLE workspace.default.kept_signal');
    run = await runHydrate();
    expect(run).toMatchObject({ read: signals, inserted: 0, updated: 1, stale: 0 });
    d = await json<SignalDetail>(await req('viewer', `/v1/signals/${id}`));
    expect(d.stale).toBe(false);
    expect(d.activity.at(-1)).toMatchObject({ kind: 'stale', from: 'stale', to: 'fresh' });
  });

  it('mart rows with a null or malformed column are rejected and counted; the rest is hydrated and nothing goes stale', async () => {
    const [a, b] = await db.query<{ id: string }>(`SELECT id FROM signals ORDER BY id LIMIT 2`);
    await lakeSql(`UPDATE workspace.support_marts.fct_signals SET entity_type = 'planet' WHERE signal_id = '${a!.id}'`);
    await lakeSql(`UPDATE workspace.support_marts.fct_signals SET narrative = NULL, confidence = 7 WHERE signal_id = '${b!.id}'`);
    const run = await runHydrate();
    expect(run).toMatchObject({ read: signals, rejected: 2, inserted: 0, updated: 0, unchanged: signals - 2, stale: 0 });
    expect(await count(`SELECT COUNT(*) AS n FROM signals WHERE stale_since IS NOT NULL`)).toBe(0);
    expect((await json<SignalDetail>(await req('viewer', `/v1/signals/${a!.id}`))).entity_type).not.toBe('planet');
  });

  it('the lakehouse failing mid-run: the run is recorded failed, committed batches stay, a rerun completes it', async () => {
    // Ten copies of every signal under their own ids: several 1,000-row batches.
    for (const statement of martStatements({ scale: 10 })) await lakeSql(statement);
    const total = await martCount('fct_signals');
    expect(total).toBe(signals * 10);
    const deps = { postgres: db, databricks: lakehouse, catalog: 'workspace', rules: requireOwnership(), log: rootLogger };
    // Several keyset pages of the mart, each in 50-row chunks; the lakehouse goes away before the
    // third page, once a first 1,000-row batch is on its way (and is committed) but well before the
    // marts are all read, however fast or slow the writes are.
    let statements = 0;
    const failing: DatabricksClient = {
      warehouse: (opts) => lakehouse.warehouse(opts),
      health: (table, opts) => lakehouse.health(table, opts),
      execute: async (...args) => {
        if (++statements === 3) await control(`/lakehouses/${lakehouseId}/stop`);
        return lakehouse.execute(...args);
      },
    };
    const failure = await hydrate({ ...deps, databricks: failing }, {
      trigger: 'cli',
      pageRows: 700,
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isDependencyError(failure, 'databricks')).toBe(true);
    await control(`/lakehouses/${lakehouseId}/start`);
    const [failed] = await db.query<{ status: string; inserted_count: number; error: string }>(
      `SELECT status, inserted_count, error FROM signal_hydration_runs ORDER BY id DESC LIMIT 1`,
    );
    expect(failed!.status).toBe('failed');
    expect(failed!.error).toMatch(/databricks/);
    const kept = await count('SELECT COUNT(*) AS n FROM signals');
    expect(kept).toBe(signals + failed!.inserted_count);
    expect(failed!.inserted_count).toBeGreaterThan(0);
    expect(failed!.inserted_count).toBeLessThan(total - signals);
    expect(await count(`SELECT COUNT(*) AS n FROM signals WHERE stale_since IS NOT NULL`)).toBe(0);
    // The failed run's record of the ids it read is gone with it.
    expect(await count('SELECT COUNT(*) AS n FROM signal_hydration_seen')).toBe(0);

    const run = await runHydrate();
    expect(run).toMatchObject({ status: 'succeeded', read: total, inserted: total - kept, stale: 0 });
    expect(await count('SELECT COUNT(*) AS n FROM signals')).toBe(total);
    expect(await count('SELECT COUNT(*) AS n FROM signal_contributions')).toBe(await martCount('fct_contributions'));

    // Read in small keyset pages, every row arrives exactly once: nothing is missed (stale) or read twice.
    const paged = await hydrate(deps, { trigger: 'cli', pageRows: 333 });
    expect(paged).toMatchObject({ status: 'succeeded', read: total, inserted: 0, updated: 0, unchanged: total, stale: 0, rejected: 0 });

    // Back to one copy: the other nine go stale, more than one 1,000-row statement's worth.
    for (const statement of martStatements({ scale: 1 })) await lakeSql(statement);
    const shrunk = await hydrate(deps, { trigger: 'cli' });
    expect(shrunk).toMatchObject({ status: 'succeeded', read: signals, unchanged: signals, stale: total - signals });
    expect(await count(`SELECT COUNT(*) AS n FROM signals WHERE stale_since IS NOT NULL`)).toBe(total - signals);
    expect(await count(`SELECT COUNT(*) AS n FROM signal_activity WHERE kind = 'stale' AND to_value = 'stale'`)).toBe(total - signals + 1);
    expect(await count('SELECT COUNT(*) AS n FROM signal_hydration_seen')).toBe(0);
  }, 90_000);

  it('a successful refresh run rebuilds the marts and hydrates them once', async () => {
    const started = await json<{ data: { run_id: number } }>(await req('admin', '/v1/settings/refresh', { method: 'POST' }), 202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const followed = await Promise.all([1, 2].map(() => req('viewer', `/v1/settings/refresh/${started.data.run_id}`)));
      const runs = await Promise.all(followed.map((r) => json<{ data: { done: boolean; result: string | null } }>(r)));
      if (runs[0]!.data.done) {
        expect(runs[0]!.data.result).toBe('SUCCESS');
        break;
      }
      if (Date.now() > deadline) throw new Error('the refresh run did not end');
      await new Promise((r) => setTimeout(r, 100));
    }
    let hydrated: Array<{ status: string; read_count: number }> = [];
    while (Date.now() < deadline) {
      hydrated = await db.query(`SELECT status, read_count FROM signal_hydration_runs WHERE trigger = 'refresh'`);
      if (hydrated.some((r) => r.status !== 'running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hydrated).toEqual([{ status: 'succeeded', read_count: await martCount('fct_signals') }]);
    const [{ model_run_id: latest }] = (await lakehouse.execute('SELECT MAX(model_run_id) AS model_run_id FROM workspace.support_marts.fct_signals', {}, { timeoutMs: 10_000 })).rows as [{ model_run_id: string }];
    expect((await db.query<{ model_run_id: string }>(`SELECT model_run_id FROM signal_hydration_runs WHERE trigger = 'refresh'`))[0]!.model_run_id).toBe(latest);
  }, 60_000);

  it('only admins hydrate', async () => {
    const res = await req('editor', '/v1/signals/hydrate', { method: 'POST' });
    expect(res.status).toBe(403);
    await res.text();
  });
});
