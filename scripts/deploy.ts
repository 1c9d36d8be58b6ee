import path from 'node:path';
import { createRequire } from 'node:module';
import { neonConfig } from '@neondatabase/serverless';
import { ROOT, buildSite, runToEnd } from './dev-server.ts';
import { migrateDatabase } from './migrations.ts';

/**
 * `npm run deploy`: migrations against Neon first (a failed migration stops the deploy), then
 * the site is built into the worker and `wrangler deploy` ships it. Secrets are set beforehand
 * with `wrangler secret put` (see README).
 */
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL must point at the production Neon database (it is only used to migrate).');
  process.exit(1);
}
neonConfig.webSocketConstructor = createRequire(import.meta.url)('ws');
const report = await migrateDatabase(databaseUrl);
console.log(`migrations: ${report.applied.length} applied, ${report.skipped.length} already in place`);
await buildSite();
await runToEnd('wrangler', ['deploy', '--config', path.join(ROOT, 'site', 'dist', 'server', 'wrangler.json')]);
