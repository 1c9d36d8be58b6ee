// The operational tables in Postgres hold only the values the data dictionary lists, so widget
// filters and group_by (which accept nothing else) match them just as they match the lakehouse.
import { Client } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../../scripts/migrations.ts';
import { migrate } from '../../worker/services/postgres-migrate.ts';
import type { Migration } from '../../worker/services/postgres-migrate.ts';
import { startLocalPostgres } from '../stack/postgres/index.ts';
import type { LocalPostgres } from '../stack/postgres/index.ts';
import { dictionary } from './catalog-fixture.ts';

const VOCABULARY_MIGRATION = '0011';
const OPERATIONAL_TABLES = ['devices', 'issue_sessions', 'claims', 'alerts', 'recommendations'] as const;

let pg: LocalPostgres;
let client: Client;
let migrations: Migration[];
const dict = dictionary();

/** A Postgres column and the dictionary column whose allowed values it must keep to. */
interface Checked {
  table: string;
  column: string;
  allowed: readonly string[];
}

/**
 * Every column of an operational table that the dictionary has under the same table and column
 * name with a listed set of values, plus two the dictionary does not name but the app reads the
 * same way: a session's region (the customer's home region) and the issue type actions are
 * ranked for (joined to issue_sessions.issue_type).
 */
async function checkedColumns(): Promise<Checked[]> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ANY($1::text[]) ORDER BY table_name, ordinal_position`,
    [[...OPERATIONAL_TABLES]],
  );
  const found: Checked[] = [];
  for (const r of rows) {
    const column = dict.column(r.table_name, r.column_name);
    if (column && column.allowedValues.length > 0) found.push({ table: r.table_name, column: r.column_name, allowed: column.allowedValues });
  }
  const values = (table: string, column: string) => dict.column(table, column)!.allowedValues;
  found.push({ table: 'issue_sessions', column: 'region', allowed: values('customers', 'region') });
  found.push({ table: 'recommendations', column: 'issue_type', allowed: values('issue_sessions', 'issue_type') });
  return found;
}

/** `table.column` -> the distinct values it holds that the dictionary does not list. */
async function strays(columns: readonly Checked[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const c of columns) {
    const { rows } = await client.query<{ v: string | null }>(
      `SELECT DISTINCT ${c.column}::text AS v FROM ${c.table} WHERE ${c.column} IS NOT NULL AND NOT (${c.column}::text = ANY($1::text[])) ORDER BY 1`,
      [[...c.allowed]],
    );
    if (rows.length > 0) out[`${c.table}.${c.column}`] = rows.map((r) => String(r.v));
  }
  return out;
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of OPERATIONAL_TABLES) {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = rows[0]!.n;
  }
  return out;
}

async function vocabulary(): Promise<{ claims: string[]; sessions: string[] }> {
  const claims = await client.query<{ v: string }>(`SELECT claim_id || ':' || product || ':' || claim_type AS v FROM claims ORDER BY claim_id`);
  const sessions = await client.query<{ v: string }>(`SELECT session_id || ':' || issue_type || ':' || channel AS v FROM issue_sessions ORDER BY session_id`);
  return { claims: claims.rows.map((r) => r.v), sessions: sessions.rows.map((r) => r.v) };
}

async function share(table: string, column: string): Promise<Map<string, number>> {
  const { rows } = await client.query<{ v: string; n: number }>(`SELECT ${column} AS v, count(*)::int AS n FROM ${table} GROUP BY 1`);
  const total = rows.reduce((s, r) => s + r.n, 0);
  return new Map(rows.map((r) => [r.v, r.n / total]));
}

beforeAll(async () => {
  pg = await startLocalPostgres({ database: `command_center_vocabulary_${process.pid}`, reset: true });
  client = new Client({ connectionString: pg.databaseUrl });
  await client.connect();
  migrations = await readMigrations();
  // A database as it stood before the vocabulary change, with rows event ingest wrote back then.
  await migrate(client, migrations.filter((m) => m.version < VOCABULARY_MIGRATION));
  await client.query(
    `INSERT INTO claims (claim_id, customer_id, product, claim_type, status, region, opened_at, claim_cost, cost_avoided) VALUES
       ('evt-k1', 'C00001', 'Mobile Protect', 'damage', 'open', 'EMEA', now(), 100, 10),
       ('evt-k2', 'C00002', 'Tablet Shield', 'loss', 'open', 'APAC', now(), 200, 20),
       ('evt-k3', 'C00003', 'Appliance Care', 'malfunction', 'open', 'LATAM', now(), 300, 30),
       ('evt-k4', 'C00004', 'Home Tech', 'theft', 'open', 'NA-West', now(), 400, 40)`,
  );
  await client.query(
    `INSERT INTO issue_sessions (session_id, customer_id, issue_type, channel, region, started_at) VALUES
       ('evt-s1', 'C00001', 'lost_device', 'phone', 'EMEA', now()),
       ('evt-s2', 'C00002', 'battery', 'email', 'NA-East', now()),
       ('evt-s3', 'C00003', 'setup', 'chat', 'APAC', now())`,
  );
});

afterAll(async () => {
  await client?.end();
  await pg?.close();
});

describe('demo data vocabulary', () => {
  it('finds the operational columns the dictionary lists values for', async () => {
    const names = (await checkedColumns()).map((c) => `${c.table}.${c.column}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'devices.make',
        'devices.os',
        'issue_sessions.issue_type',
        'issue_sessions.channel',
        'issue_sessions.outcome',
        'claims.product',
        'claims.claim_type',
        'claims.status',
        'claims.region',
      ]),
    );
  });

  it('rewrites a database seeded with the old names in place, row counts unchanged', async () => {
    const columns = await checkedColumns();
    // The check bites: before the migration the seed's old names are there.
    expect(await strays(columns)).toMatchObject({
      'claims.product': expect.arrayContaining(['Mobile Protect']),
      'issue_sessions.channel': expect.arrayContaining(['phone', 'email']),
      'issue_sessions.issue_type': ['lost_device'],
    });
    const before = await counts();
    expect(before).toMatchObject({ claims: 2504, issue_sessions: 8003, devices: 3000, alerts: 24 });

    // 0011 and every later migration apply on top of the old seed.
    const applied = (await migrate(client, migrations)).applied;
    expect(applied[0]).toBe('0011_demo_vocabulary');
    expect(applied).toHaveLength(migrations.filter((m) => m.version >= VOCABULARY_MIGRATION).length);
    expect(await strays(columns)).toEqual({});
    const after = await counts();
    for (const table of ['devices', 'issue_sessions', 'claims', 'alerts'] as const) expect(after[table], table).toBe(before[table]);
    // Recommendations only gain actions for issue types the old seed never used.
    expect(after.recommendations).toBeGreaterThanOrEqual(before.recommendations!);

    const { rows: claims } = await client.query<{ claim_id: string; product: string; claim_type: string }>(
      "SELECT claim_id, product, claim_type FROM claims WHERE claim_id LIKE 'evt-%' ORDER BY claim_id",
    );
    expect(claims).toEqual([
      { claim_id: 'evt-k1', product: 'Total Protection', claim_type: 'damage' },
      { claim_id: 'evt-k2', product: 'Multi-Device Protect', claim_type: 'loss' },
      { claim_id: 'evt-k3', product: 'Device Care', claim_type: 'malfunction' },
      { claim_id: 'evt-k4', product: 'Home Tech Protect', claim_type: 'theft' },
    ]);
    const { rows: sessions } = await client.query<{ session_id: string; issue_type: string; channel: string }>(
      "SELECT session_id, issue_type, channel FROM issue_sessions WHERE session_id LIKE 'evt-%' ORDER BY session_id",
    );
    expect(sessions).toEqual([
      { session_id: 'evt-s1', issue_type: 'lost_or_stolen', channel: 'call' },
      { session_id: 'evt-s2', issue_type: 'battery', channel: 'web' },
      { session_id: 'evt-s3', issue_type: 'setup', channel: 'chat' },
    ]);
  });

  it('gives every issue type actions to rank', async () => {
    const { rows } = await client.query<{ issue_type: string; n: number }>('SELECT issue_type, count(*)::int AS n FROM recommendations GROUP BY 1');
    const perType = new Map(rows.map((r) => [r.issue_type, r.n]));
    for (const issue of dict.column('issue_sessions', 'issue_type')!.allowedValues) expect(perType.get(issue), issue).toBeGreaterThanOrEqual(2);
  });

  it('reseeds with the same values, counts and mix, and converges with the rewritten rows', async () => {
    const migrated = await vocabulary();
    await client.query('SELECT seed_demo_data(now())');
    expect(await strays(await checkedColumns())).toEqual({});
    expect(await counts()).toEqual({ devices: 3000, issue_sessions: 8000, claims: 2500, alerts: 24, recommendations: 16 });

    // The seeded rows a migrated database holds are the ones a reset writes.
    const seeded = await vocabulary();
    const fromSeed = (v: string) => /^[KS]\d{6}:/.test(v);
    expect(seeded.claims).toEqual(migrated.claims.filter(fromSeed));
    expect(seeded.sessions).toEqual(migrated.sessions.filter(fromSeed));

    // Deterministic: the same rows again, whatever the anchor.
    await client.query("SELECT seed_demo_data(now() + interval '1 hour')");
    expect(await vocabulary()).toEqual(seeded);

    // A believable mix: every listed value turns up and none swamps the rest.
    for (const [table, column] of [['claims', 'product'], ['issue_sessions', 'issue_type'], ['issue_sessions', 'channel'], ['claims', 'region']] as const) {
      const shares = await share(table, column);
      expect([...shares.keys()].sort(), `${table}.${column}`).toEqual([...dict.column(table, column)!.allowedValues].sort());
      for (const [value, s] of shares) expect(s, `${table}.${column} = ${value}`).toBeLessThan(0.5);
    }
  });
});
