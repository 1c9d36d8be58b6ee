import path from 'node:path';
import { ROOT, run } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';

/** The baseline workers under test/bench, each with its `<name>.wrangler.toml`. */
export type BenchWorker = 'raw-query' | 'bare-hub';

/**
 * Starts a baseline worker under its own `wrangler dev`, with `vars`, and waits until `/bare`
 * answers. It pays the same dev-proxy floor as the app, and it joins the dev registry named by
 * this process's WRANGLER_REGISTRY_PATH, if any.
 */
export async function startBenchWorker(name: BenchWorker, vars: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = run(
    'wrangler',
    [
      'dev',
      '--config',
      path.join(ROOT, 'test', 'bench', `${name}.wrangler.toml`),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...Object.entries(vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
      '--persist-to',
      path.join(ROOT, '.wrangler', `state-${name}`),
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
    if (child.exitCode !== null) throw new Error(`${name} wrangler dev exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/bare`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return { url, close };
    if (Date.now() > deadline) {
      await close();
      throw new Error(`the ${name} worker did not start within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
