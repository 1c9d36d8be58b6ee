import { readFile } from 'node:fs/promises';
import { Client } from '@neondatabase/serverless';
import { listMetrics } from '../worker/metrics/catalog/store.ts';
import { checkRouting } from '../worker/metrics/routing/load.ts';
import { startLocalPostgres } from '../test/stack/postgres/index.ts';
import { migrateDatabase } from './migrations.ts';

/**
 * The routing boot gate, before deploy: config/metric_routing.yaml against the catalog as the
 * migrations build it (a throwaway database, migrated from migrations/). Exits non-zero with
 * every problem listed; warnings are printed but pass.
 */
export async function checkRoutingFile(path = new URL('../config/metric_routing.yaml', import.meta.url)): Promise<boolean> {
  const text = await readFile(path, 'utf8');
  const pg = await startLocalPostgres({ database: `command_center_check_${process.pid}`, reset: true });
  try {
    await migrateDatabase(pg.databaseUrl);
    const client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    try {
      const db = { query: async <T,>(q: string, p?: unknown[]) => (await client.query(q, p)).rows as T[] };
      const catalog = await listMetrics(db as never);
      const result = checkRouting(text, catalog);
      for (const w of result.warnings) console.warn(`warning: ${w}`);
      if (!result.ok) {
        for (const p of result.problems) console.error(`error: ${p}`);
        return false;
      }
      console.log(`routing: ${catalog.length} catalog metrics routed`);
      return true;
    } finally {
      await client.end();
    }
  } finally {
    await pg.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await checkRoutingFile()) ? 0 : 1);
}
