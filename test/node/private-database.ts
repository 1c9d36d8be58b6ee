import { Client } from '@neondatabase/serverless';
import { afterAll, beforeAll } from 'vitest';
import { readMigrations } from '../../scripts/migrations.ts';
import { migrate } from '../../worker/services/postgres-migrate.ts';
import { startLocalPostgres } from '../stack/postgres/index.ts';
import type { LocalPostgres } from '../stack/postgres/index.ts';

/**
 * A migrated database of the calling test file's own (`<name>_<pid>`), through the same runner and
 * driver the app uses; dropped with the file. Returns the connected client, ready from beforeAll on.
 */
export function privateDatabase(name: string): () => Client {
  let pg: LocalPostgres | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    pg = await startLocalPostgres({ database: `${name}_${process.pid}`, reset: true });
    client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    await migrate(client, await readMigrations());
  });
  afterAll(async () => {
    await client?.end();
    await pg?.close();
  });
  return () => {
    if (!client) throw new Error('the private database is only ready once beforeAll has run');
    return client;
  };
}
