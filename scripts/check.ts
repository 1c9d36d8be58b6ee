import path from 'node:path';
import { ROOT, runToEnd } from './dev-server.ts';

/** `npm run check`: typecheck, build the site into the worker, and a wrangler deploy dry run. */
console.log('── typecheck ──');
await runToEnd('tsc', ['--noEmit', '-p', 'tsconfig.json']);
console.log('── build ──');
await runToEnd('astro', ['build', '--root', 'site'], { quiet: true });
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
