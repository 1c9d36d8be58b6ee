import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neon, neonConfig } from '@neondatabase/serverless';
import type { NeonDbError } from '@neondatabase/serverless';
import { startLocalPostgres } from './postgres/index.ts';
import type { LocalPostgres } from './postgres/index.ts';

// The driver's own HTTP client against the stand-in: what the worker does for single statements.
// Both backends: the local server over TCP, and embedded PGlite through the bridge.
describe.each(['server', 'pglite'] as const)('Neon HTTP query stand-in (%s)', (kind) => {
  let pg: LocalPostgres;
  let sql: ReturnType<typeof neon<false, true>>;

  beforeAll(async () => {
    pg = await startLocalPostgres({ database: `command_center_http_${process.pid}`, reset: true, embedded: kind === 'pglite' });
    neonConfig.fetchEndpoint = pg.httpEndpoint;
    sql = neon(pg.databaseUrl, { fullResults: true });
    await sql.query('CREATE TABLE IF NOT EXISTS http_probe (id int PRIMARY KEY, amount numeric, at timestamptz, tags jsonb)');
    await sql.query('TRUNCATE http_probe');
  });

  afterAll(async () => {
    await pg?.close();
  });

    it('binds parameters and returns typed values with field oids', async () => {
      await sql.query('INSERT INTO http_probe VALUES ($1, $2, $3, $4)', [1, '12.50', new Date('2026-01-02T03:04:05Z'), JSON.stringify({ a: 1 })]);
      const result = await sql.query('SELECT id, amount, at, tags, NULL::text AS nothing FROM http_probe WHERE id = $1', [1]);
      expect(result.rows).toEqual([{ id: 1, amount: '12.50', at: new Date('2026-01-02T03:04:05Z'), tags: { a: 1 }, nothing: null }]);
      expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
        ['id', 23],
        ['amount', 1700],
        ['at', 1184],
        ['tags', 3802],
        ['nothing', 25],
      ]);
    });

    it('runs a batch in one transaction, all or nothing', async () => {
      await expect(
        sql.transaction([sql.query('INSERT INTO http_probe (id) VALUES (2)'), sql.query('INSERT INTO http_probe (id) VALUES (2)')]),
      ).rejects.toMatchObject({ code: '23505' });
      const rows = await sql.query('SELECT count(*)::int AS n FROM http_probe WHERE id = 2');
      expect(rows.rows[0]).toEqual({ n: 0 });
    });

    it('honours a read-only batch and a local statement timeout', async () => {
      await expect(sql.transaction([sql.query('INSERT INTO http_probe (id) VALUES (3)')], { readOnly: true })).rejects.toMatchObject({ code: '25006' });
      // Embedded PGlite runs statements on one thread and has no timer to cancel them with.
      if (kind === 'server') {
        await expect(
          sql.transaction([sql.query('SET LOCAL statement_timeout = 50'), sql.query('SELECT pg_sleep(1)')], { readOnly: true }),
        ).rejects.toMatchObject({ code: '57014' });
      }
      const [, answer] = await sql.transaction([sql.query('SET LOCAL statement_timeout = 1000'), sql.query('SELECT 41 + 1 AS value')], { readOnly: true });
      expect(answer!.rows).toEqual([{ value: 42 }]);
    });

    it('reports Postgres errors with their SQLSTATE and position', async () => {
      const err = (await sql.query('SELECT nope FROM http_probe').catch((e: unknown) => e)) as NeonDbError;
      expect(err.name).toBe('NeonDbError');
      expect(err.code).toBe('42703');
      expect(err.position).toBeTruthy();
    });

    it('serves only the stack database', async () => {
      const other = new URL(pg.databaseUrl);
      other.port = String(Number(other.port || 5432) + 1);
      await expect(neon(other.toString()).query('SELECT 1')).rejects.toThrow(/serves .* only/);
    });
});
