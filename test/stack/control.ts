import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Stack } from './index.ts';

/**
 * Fault control for tests that run inside workerd and so cannot call the stand-ins' handles:
 * a loopback HTTP server, guarded by a random token, that stops and starts the lakehouse,
 * sets its faults, stalls Postgres's HTTP endpoint, pauses Redis and scripts Bedrock turns. Only the test stacks run it.
 */
export interface StackControl {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startStackControl(stack: Omit<Stack, 'close' | 'vars'>): Promise<StackControl> {
  const token = randomBytes(16).toString('hex');
  const actions: Record<string, (body: unknown) => Promise<unknown>> = {
    '/databricks/stop': async () => stack.databricks.stop(),
    '/databricks/start': async () => stack.databricks.start(),
    '/databricks/faults': async (body) => stack.databricks.faults.set(body as never),
    '/databricks/clear': async () => stack.databricks.faults.clear(),
    '/postgres/http/stall': async () => stack.postgres.stallHttp(),
    '/postgres/http/release': async () => stack.postgres.releaseHttp(),
    '/redis/pause': async () => stack.upstash.pause(),
    '/redis/resume': async () => stack.upstash.resume(),
    '/bedrock/script': async (body) => {
      if (!stack.bedrock) throw new Error('no Bedrock stand-in in this stack');
      stack.bedrock.script(body as never);
    },
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const action = req.method === 'POST' ? actions[req.url ?? ''] : undefined;
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      if (!action) return void res.writeHead(404).end();
      Promise.resolve()
        .then(() => action(raw ? JSON.parse(raw) : undefined))
        .then(() => res.writeHead(204).end())
        .catch((err: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
