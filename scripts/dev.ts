import { watch } from 'node:fs';
import path from 'node:path';
import { ROOT, startDevServer } from './dev-server.ts';

const port = Number(process.env.PORT ?? 8787);
const started = Date.now();
const log = (line: string) => console.log(`[stack] ${line}`);

const server = await startDevServer({ port, purpose: 'dev', log }).catch((err: unknown) => {
  console.error(`\nCould not start Command Center: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

console.log(`\nCommand Center is up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`  dashboard  ${server.url}/`);
console.log(`  health     ${server.url}/health`);
console.log(`  API docs   ${server.url}/docs\n`);
if (server.stack.vars.BUILDER_MODE === 'offline') {
  console.log('!! The widget builder is OFFLINE: no AWS credentials, so the clarifier and the SQL generator');
  console.log('!! answer with catalog-anchored templates, marked "template" everywhere. Set AWS_* to use Bedrock.\n');
}

// Edits to the worker, the site or the checked-in config rebuild the bundle; wrangler dev
// reloads it while the stack (and its data) stays up. This is how a routing flip goes live.
const WATCHED = ['worker', 'durable-objects', 'site/src', 'config', 'data-dictionary'];
let timer: ReturnType<typeof setTimeout> | undefined;
let building: Promise<void> = Promise.resolve();
const schedule = (file: string) => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    building = building.then(async () => {
      const t = Date.now();
      console.log(`[dev] ${file} changed; rebuilding`);
      await server.rebuild().then(
        () => console.log(`[dev] rebuilt in ${((Date.now() - t) / 1000).toFixed(1)} s`),
        (err: unknown) => console.error(`[dev] build failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
  }, 300);
};
for (const dir of WATCHED) {
  watch(path.join(ROOT, dir), { recursive: true }, (_event, file) => {
    if (file && !file.includes('node_modules')) schedule(path.join(dir, String(file)));
  });
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.close().finally(() => process.exit(0));
  });
}
