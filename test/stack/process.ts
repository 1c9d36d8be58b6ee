import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackOptions } from './index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StackProcess {
  vars: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the stack in a child Node 22 process. Test runners load modules with their own
 * resolution rules (browser builds, stubs); a separate process keeps the stand-ins on plain Node.
 */
export function startStackProcess(
  purpose: StackOptions['purpose'],
  options: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<StackProcess> {
  // A lakehouse grown with LAKEHOUSE_INTERACTIONS takes longer to generate, the more so on a busy machine.
  const timeoutMs = options.timeoutMs ?? (process.env.LAKEHOUSE_INTERACTIONS ? 300_000 : 90_000);
  const node = path.join(ROOT, 'node_modules', '.bin', 'node');
  const child = spawn(node, [path.join(ROOT, 'test', 'stack', 'serve.ts'), purpose], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    if (options.log) for (const line of d.toString().split('\n')) if (line.trim()) options.log(line.replace(/^\[stack\] /, ''));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stack did not start within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n') && line) {
        clearTimeout(timer);
        const parsed = JSON.parse(line) as { vars: Record<string, string> };
        resolve({ vars: parsed.vars, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready\n${stderr}`));
    });
  });
}
