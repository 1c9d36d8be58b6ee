import path from 'node:path';
import { ROOT, run } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';

/** Starts test/bench/raw-query-worker.ts under its own `wrangler dev`, against the app's stack. */
export async function startRawQueryWorker(vars: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = run(
    'wrangler',
    [
      'dev',
      '--config',
      path.join(ROOT, 'test', 'bench', 'raw-query.wrangler.toml'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--var',
      `DATABASE_URL:${vars.DATABASE_URL}`,
      '--var',
      `NEON_WS_PROXY:${vars.NEON_WS_PROXY}`,
      '--var',
      `NEON_HTTP_ENDPOINT:${vars.NEON_HTTP_ENDPOINT}`,
      '--persist-to',
      path.join(ROOT, '.wrangler', 'state-raw-query'),
      '--log-level',
      'error',
      '--show-interactive-dev-session=false',
    ],
    { quiet: true, env: { X_LOCAL_OBSERVABILITY: 'false' } },
  );
  const close = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      const t = setTimeout(() => (child.kill('SIGKILL'), resolve(undefined)), 5_000);
      child.once('exit', () => (clearTimeout(t), resolve(undefined)));
    });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`raw-query wrangler dev exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/bare`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return { url, close };
    if (Date.now() > deadline) {
      await close();
      throw new Error('the raw-query worker did not start within 60 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
