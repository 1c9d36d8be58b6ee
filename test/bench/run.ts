import { startDevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { LOCAL_USERS } from '../stack/users.ts';
import { load, table } from './load.ts';
import type { LoadResult } from './load.ts';

/**
 * `npm run bench`: the app under `wrangler dev` on 127.0.0.1, each route measured in the same
 * run as the bare baseline route (/livez), so ratios compare like with like. Bounded by count.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 600);
// wrangler dev serialises requests through its proxy; more concurrency only queues.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

const server = await startDevServer({ port: await freePort(), purpose: 'bench', log: (l) => console.log(`[stack] ${l}`) });
try {
  const viewer = LOCAL_USERS.find((u) => u.role === 'viewer')!;
  const signIn = await fetch(`${server.url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: viewer.email, password: viewer.password }),
  });
  const { token } = (await signIn.json()) as { token: string };
  const headers = { authorization: `Bearer ${token}` };
  const get = (path: string) => async () => {
    const res = await fetch(server.url + path, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.ok;
  };
  const opts = { requests: REQUESTS, concurrency: CONCURRENCY, warmup: 100 };
  const results: LoadResult[] = [];
  for (const path of ['/livez', '/health', '/v1/auth/me', '/v1/metrics']) {
    results.push(await load(`GET ${path}`, get(path), opts));
    console.log(`measured GET ${path}`);
  }
  const baseline = results[0]!;
  console.log(`\nHTTP routes (${REQUESTS} requests each, concurrency ${CONCURRENCY}, baseline GET /livez)\n`);
  console.log(table(results, baseline));
} finally {
  await server.close();
}
