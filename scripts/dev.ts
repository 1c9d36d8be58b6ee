import { startDevServer } from './dev-server.ts';

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

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.close().finally(() => process.exit(0));
  });
}
