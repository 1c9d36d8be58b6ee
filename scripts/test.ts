import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, runToEnd } from './dev-server.ts';

/**
 * `npm test`: typecheck, the stand-ins from Node, the API and Durable Objects inside workerd,
 * then the browser tests in Debian's Chromium. Prints one closing tally line.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const reportsDir = path.join(ROOT, '.cache', 'test-reports');
await rm(reportsDir, { recursive: true, force: true });
await mkdir(reportsDir, { recursive: true });

const tally = { passed: 0, failed: 0, skipped: 0 };
let failedStep: string | null = null;

async function step(name: string, fn: () => Promise<void>) {
  console.log(`\n── ${name} ──`);
  try {
    await fn();
  } catch (err) {
    failedStep ??= name;
    console.error(err instanceof Error ? err.message : String(err));
  }
}

async function vitest(project: string) {
  const out = path.join(reportsDir, `${project}.json`);
  try {
    await runToEnd('vitest', ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  } finally {
    if (existsSync(out)) {
      const report = JSON.parse(await readFile(out, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
        numPendingTests: number;
        numTodoTests: number;
      };
      tally.passed += report.numPassedTests;
      tally.failed += report.numFailedTests;
      tally.skipped += report.numPendingTests + report.numTodoTests;
    }
  }
}

await step('typecheck', () => runToEnd('tsc', ['--noEmit', '-p', 'tsconfig.json']));
await step('stand-ins and tooling (node)', () => vitest('node'));
await step('api and durable objects (workerd)', () => vitest('workers'));

if (existsSync(CHROMIUM)) {
  await step('browser (chromium)', () => vitest('browser'));
} else {
  const banner = [
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    `!! BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM}.`,
    '!! Install it with:  sudo apt-get install -y chromium   (or set CHROMIUM_PATH)',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '',
  ].join('\n');
  console.error(banner);
  // CI installs Chromium itself, so a missing browser there is a broken pipeline, not a skip.
  if (process.env.CI) failedStep ??= 'browser (chromium missing in CI)';
}

console.log(`\n${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
if (failedStep) {
  console.error(`npm test failed at: ${failedStep}`);
  process.exit(1);
}
