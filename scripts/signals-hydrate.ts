import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { neonConfig } from '@neondatabase/serverless';
import { loadConfig } from '../worker/config/env.ts';
import { isDependencyError } from '../worker/http/errors.ts';
import { rootLogger } from '../worker/lib/log.ts';
import { createServices } from '../worker/services/index.ts';
import { HydrationBusy, hydrate } from '../worker/signals/hydrate.ts';
import type { Progress } from '../worker/signals/hydrate.ts';
import { readFileSync } from 'node:fs';
import type { Config } from '../worker/config/env.ts';
import { checkedOwnership } from '../worker/signals/ownership.ts';
import { DICTIONARY_DIR } from './dictionary-files.ts';

/**
 * `npm run signals:hydrate`: hydrates the signals tables from the lakehouse marts now, printing
 * progress per committed batch and the run's summary. Uses DATABASE_URL and DATABRICKS_* from the
 * environment (Neon and Databricks in production); without them, the local dev database and a
 * lakehouse stand-in started here. Exit 0 on success, 1 when the run failed (it is recorded), 2 on
 * bad usage, 3 when another hydration is running.
 */
const { values } = parseArgs({ options: { quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } }, strict: true });
if (values.help) {
  console.log('usage: signals-hydrate [--quiet]');
  process.exit(0);
}

const closers: Array<() => Promise<void>> = [];
const env: Record<string, string | undefined> = { ...process.env };
try {
  if (!env.DATABASE_URL || /@(127\.0\.0\.1|localhost)[:/]/.test(env.DATABASE_URL)) {
    const { startLocalPostgres } = await import('../test/stack/postgres/index.ts');
    const local = await startLocalPostgres({ database: 'command_center', databaseUrl: env.DATABASE_URL });
    closers.push(() => local.close());
    Object.assign(env, { DATABASE_URL: local.databaseUrl, NEON_HTTP_ENDPOINT: local.httpEndpoint, NEON_WS_PROXY: local.wsProxy });
  } else {
    neonConfig.webSocketConstructor = createRequire(import.meta.url)('ws');
  }
  if (!env.DATABRICKS_HOST) {
    // Loaded only here: the stand-in pulls in DuckDB, which a real lakehouse never needs.
    const { startDatabricksStandIn } = await import('../test/stack/databricks/server.ts');
    const token = `dapi-cli-${randomUUID()}`;
    const standIn = await startDatabricksStandIn({ token, dictionaryDir: DICTIONARY_DIR });
    closers.push(() => standIn.close());
    Object.assign(env, { DATABRICKS_HOST: standIn.url, DATABRICKS_TOKEN: token, DATABRICKS_WAREHOUSE_ID: standIn.warehouseId, LOCAL_DATABRICKS: 'duckdb' });
    console.log(`DATABRICKS_HOST is not set: hydrating from a local lakehouse stand-in at ${standIn.url}`);
  }
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    console.error(`signals:hydrate: the environment is invalid: ${loaded.problems.join('; ')}`);
    process.exitCode = 2;
  } else {
    process.exitCode = await run(loaded.config);
  }
} finally {
  for (const close of closers.reverse()) await close().catch(() => undefined);
}

async function run(config: Config): Promise<number> {
  const services = createServices(config, undefined, rootLogger.child({ component: 'signals-hydrate' }));
  const started = Date.now();
  let last = 0;
  const show = (p: Progress) => {
    if (values.quiet || (p.phase !== 'done' && Date.now() - last < 500)) return;
    last = Date.now();
    const rate = Math.round(p.read / Math.max(0.001, (Date.now() - started) / 1000));
    console.log(`${p.phase.padEnd(13)} read ${p.read}  inserted ${p.inserted}  updated ${p.updated}  rejected ${p.rejected}  stale ${p.stale}  (${rate} rows/s)`);
  };
  try {
    const summary = await hydrate(
      { postgres: services.postgres, databricks: services.databricks.client, catalog: config.DATABRICKS_CATALOG, rules: checkedOwnership(readFileSync(new URL('../config/signal_ownership.yaml', import.meta.url), 'utf8')), log: services.log },
      { trigger: 'cli', onProgress: show },
    );
    const s = summary!;
    console.log(
      `hydration ${s.id} ${s.status}: read ${s.read}, inserted ${s.inserted}, updated ${s.updated}, unchanged ${s.unchanged}, stale ${s.stale}, rejected ${s.rejected} ` +
        `in ${((s.duration_ms ?? Date.now() - started) / 1000).toFixed(1)} s (mart run ${s.model_run_id ?? 'none'})`,
    );
    return 0;
  } catch (error) {
    if (error instanceof HydrationBusy) {
      console.error('signals:hydrate: another hydration is running; nothing was done');
      return 3;
    }
    console.error(`signals:hydrate: failed (recorded as a failed run): ${isDependencyError(error) ? `${error.dependency} ${error.kind}: ${error.message}` : (error as Error).message}`);
    return 1;
  } finally {
    await services.close();
  }
}
