import path from 'node:path';
import { ROOT, buildSite, runToEnd } from './dev-server.ts';
import { checkRoutingFile } from './routing-check.ts';

/**
 * `npm run check`: typecheck, the data dictionary, the routing gate against the migrated
 * catalog, the site built into the worker, and a wrangler deploy dry run.
 */
console.log('── typecheck ──');
await runToEnd('tsc', ['--noEmit', '-p', 'tsconfig.json']);
console.log('── data dictionary ──');
await runToEnd('node', ['scripts/dictionary-validate.ts']);
console.log('── metric routing ──');
if (!(await checkRoutingFile())) {
  console.error('check failed: config/metric_routing.yaml does not route the catalog');
  process.exit(1);
}
await runToEnd('node', ['scripts/scenarios-check.ts']); // config/incident_scenarios.yaml, every problem with its line
console.log('── build ──');
await buildSite({ quiet: true });
console.log('── wrangler deploy --dry-run ──');
await runToEnd('wrangler', [
  'deploy',
  '--dry-run',
  '--config',
  path.join(ROOT, 'site', 'dist', 'server', 'wrangler.json'),
  '--outdir',
  path.join(ROOT, '.wrangler', 'dry-run'),
]);
console.log('check passed');
