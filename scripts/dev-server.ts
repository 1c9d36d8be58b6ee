import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackOptions } from '../test/stack/index.ts';
import { startStackProcess } from '../test/stack/process.ts';
import type { StackProcess } from '../test/stack/process.ts';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules', '.bin');
const BUILT_CONFIG_DIR = path.join(ROOT, 'site', 'dist', 'server');

export interface DevServer {
  url: string;
  stack: StackProcess;
  /** Rebuilds the site and worker; the running `wrangler dev` reloads the new bundle. */
  rebuild(): Promise<void>;
  close(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  purpose: StackOptions['purpose'];
  log?: (line: string) => void;
  /** Extra worker variables (override what the stack sets). */
  vars?: Record<string, string>;
}

/** Runs a project binary with Node 22 first on PATH, whatever node started us. */
export function run(bin: string, args: string[], options: { quiet?: boolean; env?: Record<string, string>; raiseFdLimit?: boolean } = {}): ChildProcess {
  // The runtime holds two descriptors per accepted connection (it dups each one), so thousands of
  // sockets need the soft open-file limit raised to the hard one for it and what it spawns.
  const [file, argv] = options.raiseFdLimit
    ? ['/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', path.join(BIN, bin), ...args]]
    : [path.join(BIN, bin), args];
  const child = spawn(file, argv, {
    cwd: ROOT,
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: {
      ...process.env,
      PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ''}`,
      ASTRO_TELEMETRY_DISABLED: '1',
      WRANGLER_SEND_METRICS: 'false',
      // Local runs reach 127.0.0.1 only: miniflare's default `Request.cf` stands in for the one
      // it would otherwise fetch from workers.cloudflare.com (and log a failure for, offline).
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      ...options.env,
    },
  });
  // A quiet child's output is still read: an undrained pipe blocks the child once it fills.
  if (options.quiet) {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  return child;
}

/**
 * Builds the site and the worker it is bundled with. NODE_ENV is pinned: test runners set it to
 * `test`, and a build that inherits that ships the development JSX runtime (every element carries
 * its source path and line), which users would never download.
 */
export function buildSite(options: { quiet?: boolean } = {}): Promise<void> {
  return runToEnd('astro', ['build', '--root', 'site'], { ...options, env: { NODE_ENV: 'production' } });
}

export function runToEnd(bin: string, args: string[], options: { quiet?: boolean; env?: Record<string, string> } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = run(bin, args, options);
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(' ')} exited ${code}\n${output.slice(-4000)}`))));
  });
}

/** .dev.vars beside the built config is how wrangler dev receives the stack's addresses. */
function devVars(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
}

/**
 * The whole app on one origin: the local stack, the site built into the worker, and
 * `wrangler dev` serving both. Used by `npm run dev` and by the browser tests.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  // The stack runs as its own process, so stand-ins never share an event loop with load
  // generators or test runners, and stay up while the worker reloads.
  const stackPromise = startStackProcess(options.purpose, { log });
  const build = buildSite({ quiet: true }).then(() => log('site       built into the worker'));
  const [stack] = await Promise.all([stackPromise, build]).catch(async (err) => {
    await stackPromise.then((s) => s.stop()).catch(() => undefined);
    throw err;
  });
  const vars = devVars({ ...stack.vars, ...options.vars });
  await writeFile(path.join(BUILT_CONFIG_DIR, '.dev.vars'), vars);

  const url = `http://127.0.0.1:${options.port}`;
  const startWrangler = () =>
    run(
      'wrangler',
      [
        'dev',
        '--config',
        path.join(BUILT_CONFIG_DIR, 'wrangler.json'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(options.port),
        '--persist-to',
        path.join(ROOT, '.wrangler', `state-${options.purpose}`),
        '--log-level',
        options.purpose === 'dev' ? 'info' : 'error',
        '--show-interactive-dev-session=false',
      ],
      {
        quiet: options.purpose !== 'dev',
        raiseFdLimit: true,
        // The local trace collector makes every WebSocket send several times dearer; benchmarks
        // measure the app, not the dev tooling.
        ...(options.purpose === 'bench' ? { env: { X_LOCAL_OBSERVABILITY: 'false' } } : {}),
      },
    );
  const stopWrangler = async (child: ChildProcess) => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(undefined);
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve(undefined);
      });
    });
  };
  let wrangler = startWrangler();
  const close = async () => {
    await stopWrangler(wrangler);
    await stack.stop();
  };
  try {
    await waitForHttp(`${url}/readyz`, 60_000, wrangler);
  } catch (err) {
    await close();
    throw err;
  }
  // The built bundle is not watched by wrangler, so a rebuild restarts it; the stack, its data
  // and the Durable Objects' persisted state stay as they are.
  const rebuild = async () => {
    await buildSite({ quiet: true });
    await writeFile(path.join(BUILT_CONFIG_DIR, '.dev.vars'), vars);
    await stopWrangler(wrangler);
    wrangler = startWrangler();
    await waitForHttp(`${url}/readyz`, 60_000, wrangler);
  };
  return { url, stack, rebuild, close };
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last})`);
}
