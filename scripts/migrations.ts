import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@neondatabase/serverless';
import { migrate, parseMigrationFile } from '../worker/services/postgres-migrate.ts';
import type { Migration, MigrationReport } from '../worker/services/postgres-migrate.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(files.map(async (f) => parseMigrationFile(f, await readFile(path.join(dir, f), 'utf8'))));
}

/** Applies migrations/ through the Neon driver (neonConfig must already point where it should). */
export async function migrateDatabase(databaseUrl: string): Promise<MigrationReport> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await migrate(client, await readMigrations());
  } finally {
    await client.end();
  }
}
