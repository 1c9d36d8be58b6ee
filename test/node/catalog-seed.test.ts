import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { PGlite } from '@electric-sql/pglite';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../worker/db/migrate.ts';
import { readMigrations } from '../../scripts/migrations.ts';

interface DictionaryMetric {
  metric_name: string;
  tables: string;
  columns: string;
  databricks_sql: string;
}

const dictionary = async () =>
  parse(await readFile(new URL('../../data-dictionary/metrics.csv', import.meta.url)), { columns: true }) as DictionaryMetric[];

/** PGlite runs multi-statement files through exec and parameterised ones through query. */
const runnerClient = (db: PGlite) => ({
  query: async (text: string, params?: unknown[]) =>
    params ? db.query<Record<string, unknown>>(text, params) : ((await db.exec(text)).at(-1) ?? { rows: [] }),
});

/** Applies migrations/ to an in-memory PGlite through the same runner the app uses. */
async function migratedDb() {
  const db = new PGlite();
  await migrate(runnerClient(db), await readMigrations());
  return db;
}

describe('catalog seed', () => {
  it('matches the data dictionary: same metrics, lineage and lakehouse queries', async () => {
    const db = await migratedDb();
    const { rows } = await db.query<{ name: string; lineage: { tables: string[]; columns: string[] }; queries: { databricks?: string } }>(
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
    const { rows: versions } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM metric_versions');
    expect(versions[0]?.n).toBe(13);
    await db.close();
  });

  it('is re-runnable: a second run applies nothing and an edited migration is refused', async () => {
    const db = await migratedDb();
    const client = runnerClient(db);
    const migrations = await readMigrations();
    const again = await migrate(client, migrations);
    expect(again.applied).toEqual([]);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(client, edited)).rejects.toThrow(/changed after it was applied/);
    await db.close();
  });

  it('routes every catalog metric', async () => {
    const routing = parseYaml(await readFile(new URL('../../config/metric_routing.yaml', import.meta.url), 'utf8')) as {
      metrics: Record<string, { source: string }>;
    };
    const names = (await dictionary()).map((d) => d.metric_name).sort();
    expect(Object.keys(routing.metrics).sort()).toEqual(names);
  });
});
