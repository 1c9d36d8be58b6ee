import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../scripts/migrations.ts';
import { migrate } from '../../worker/services/postgres-migrate.ts';
import { privateDatabase } from './private-database.ts';

interface DictionaryMetric {
  metric_name: string;
  tables: string;
  columns: string;
  databricks_sql: string;
}

const dictionary = async () =>
  parse(await readFile(new URL('../../data-dictionary/metrics.csv', import.meta.url)), { columns: true }) as DictionaryMetric[];

// The same runner and driver the app uses, against a database of this test's own.
const db = privateDatabase('command_center_migrations');

describe('migrations and the catalog seed', () => {
  it('seed the catalog to match the data dictionary: same metrics, lineage and lakehouse queries', async () => {
    const { rows } = await db().query<{ name: string; lineage: { tables: string[]; columns: string[] }; queries: { databricks?: string } }>(
      'SELECT name, lineage, queries FROM metrics ORDER BY name',
    );
    const dict = (await dictionary()).sort((a, b) => a.metric_name.localeCompare(b.metric_name));
    expect(rows.map((r) => r.name)).toEqual(dict.map((d) => d.metric_name));
    expect(rows).toHaveLength(13);
    for (const [i, row] of rows.entries()) {
      const d = dict[i]!;
      expect(row.lineage.tables).toEqual(d.tables.split('|').filter(Boolean));
      expect(row.lineage.columns).toEqual(d.columns.split('|').filter(Boolean));
      expect(row.queries.databricks ?? '').toBe(d.databricks_sql);
    }
    const { rows: versions } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM metric_versions');
    expect(versions[0]?.n).toBe(13);
  });

  it('seed operational data deterministically', async () => {
    const counts = async () =>
      (
        await db().query<{ claims: number; sessions: number; digest: string }>(
          `SELECT (SELECT count(*)::int FROM claims) AS claims, (SELECT count(*)::int FROM issue_sessions) AS sessions,
                  (SELECT md5(string_agg(claim_id || product || status || claim_cost, ',' ORDER BY claim_id)) FROM claims) AS digest`,
        )
      ).rows[0]!;
    const first = await counts();
    expect(first.claims).toBe(2500);
    expect(first.sessions).toBe(8000);
    await db().query("SELECT seed_demo_data(now() + interval '1 hour')");
    expect((await counts()).digest).toBe(first.digest);
  });

  it('are re-runnable: a second run applies nothing and an edited migration is refused', async () => {
    const migrations = await readMigrations();
    expect((await migrate(db(), migrations)).applied).toEqual([]);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(db(), edited)).rejects.toThrow(/changed after it was applied/);
  });

  it('roll back a failing migration completely', async () => {
    const migrations = await readMigrations();
    const broken = [...migrations, { version: '9999', name: 'broken', sql: 'CREATE TABLE half_done (a int); SELECT * FROM no_such_table;' }];
    await expect(migrate(db(), broken)).rejects.toThrow(/9999_broken failed and was rolled back/);
    const { rows } = await db().query("SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM schema_migrations WHERE version = '9999') AS n");
    expect(rows[0]).toEqual({ t: null, n: 0 });
  });

  it('route every catalog metric', async () => {
    const routing = parseYaml(await readFile(new URL('../../config/metric_routing.yaml', import.meta.url), 'utf8')) as {
      metrics: Record<string, { source: string }>;
    };
    const names = (await dictionary()).map((d) => d.metric_name).sort();
    expect(Object.keys(routing.metrics).sort()).toEqual(names);
  });
});
