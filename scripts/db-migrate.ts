import { neonConfig } from '@neondatabase/serverless';
import { createRequire } from 'node:module';
import { migrateDatabase } from './migrations.ts';
import { startLocalPostgres } from '../test/stack/postgres/index.ts';

/**
 * `npm run db:migrate`: against DATABASE_URL when set (Neon in production: the driver speaks
 * WebSockets to Neon's proxy), otherwise against the local dev database through the bridge.
 */
const target = process.env.DATABASE_URL;
if (target && !process.env.NEON_WS_PROXY && !/@(127\.0\.0\.1|localhost)[:/]/.test(target)) {
  neonConfig.webSocketConstructor = createRequire(import.meta.url)('ws');
  const report = await migrateDatabase(target);
  print(report);
} else {
  const local = await startLocalPostgres({ database: 'command_center', databaseUrl: target });
  try {
    print(await migrateDatabase(local.databaseUrl));
  } finally {
    await local.close();
  }
}

function print(report: { applied: string[]; skipped: string[] }) {
  for (const m of report.applied) console.log(`applied  ${m}`);
  console.log(`${report.applied.length} applied, ${report.skipped.length} already in place`);
}
