import { startDevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { LOCAL_USERS } from '../stack/users.ts';
import { closeName, hubAbuse } from './hub-abuse.ts';
import { concurrentRetries } from './retries.ts';
import { sweep } from './sweep.ts';

/**
 * `npm run soak`: the fault and abuse suite. The whole app under `wrangler dev` on 127.0.0.1 with
 * its own database, then: the bad-input sweep over every operation in /openapi.json, twenty
 * concurrent retries of one event, and abusive sockets beside a well-behaved viewer. Bounded by
 * count, stops by itself, and exits non-zero when a promise is broken.
 */
const EVENTS = Number(process.env.SOAK_EVENTS ?? 60);
const SPACING_MS = Number(process.env.SOAK_EVENT_SPACING_MS ?? 400);

async function signIn(url: string, role: 'admin' | 'editor'): Promise<string> {
  const user = LOCAL_USERS.find((u) => u.role === role)!;
  const res = await fetch(`${url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (!res.ok) throw new Error(`sign-in as ${role} answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

const broken: string[] = [];
const server = await startDevServer({ port: await freePort(), purpose: 'bench', log: (l) => console.log(`[stack] ${l}`) });
try {
  const admin = await signIn(server.url, 'admin');
  const editor = await signIn(server.url, 'editor');

  const started = performance.now();
  const swept = await sweep(server.url, admin);
  console.log(`\nBad-input sweep: ${swept.operations} operations, ${swept.requests} requests in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  statuses: ${Object.entries(swept.statuses).map(([s, n]) => `${s}×${n}`).join(', ')}`);
  console.log(`  5xx: ${swept.failures.filter((f) => f.status >= 500).length}; 4xx that are not problem+json with a listed code: ${swept.failures.filter((f) => f.status < 500).length}`);
  for (const f of swept.failures.slice(0, 30)) console.log(`  ✗ ${f.status} ${f.request}\n      ${f.body.replace(/\s+/g, ' ')}`);
  if (swept.failures.length > 0) broken.push(`${swept.failures.length} answers of the sweep broke the error contract`);

  const retries = await concurrentRetries(server.url, editor);
  console.log(`\nConcurrent retries of one event: ${retries.attempts} sent, ${retries.applied} applied, ${retries.duplicates} duplicate, ${retries.failed} failed, seqs ${JSON.stringify(retries.seqs)}`);
  if (retries.applied !== 1 || retries.failed > 0 || retries.seqs.length > 1) broken.push('an event was not applied exactly once');

  const hub = await hubAbuse(server.url, editor, { events: EVENTS, spacingMs: SPACING_MS });
  console.log(`\nAbusive sockets beside a viewer, ${hub.events} events one at a time every ${SPACING_MS} ms:`);
  console.log(`  viewer received ${hub.received}, lost ${hub.lost}, out of order ${hub.outOfOrder}; POST start → receipt p50 ${hub.p50Ms.toFixed(0)} / p95 ${hub.p95Ms.toFixed(0)} / max ${hub.maxMs.toFixed(0)} ms; ${hub.withinOneSecond}/${hub.events} within 1 s`);
  console.log(`  ingest while they misbehave: p95 ${hub.ingestP95Ms.toFixed(0)} ms, ${hub.ingestFailures.length} failed${hub.ingestFailures.length ? ` (${[...new Set(hub.ingestFailures)].join(', ')})` : ''}`);
  if (hub.ingestFailures.length > 0) broken.push('ingest failed while abusive sockets were connected');
  for (const a of hub.abusers) console.log(`  ${a.name}: ${closeName(a.closedWith)} (${a.reason})`);
  if (hub.lost > 0 || hub.outOfOrder > 0) broken.push('the well-behaved viewer lost events or saw them out of order');
  if (hub.withinOneSecond < hub.events) broken.push('an event took longer than a second to reach the well-behaved viewer');
  const notDropped = hub.abusers.filter((a) => a.closedWith === null);
  if (notDropped.length > 0) broken.push(`the hub kept abusive sockets open: ${notDropped.map((a) => a.name).join(', ')}`);
} finally {
  await server.close();
}

if (broken.length > 0) {
  console.error(`\nsoak: ${broken.length} promise(s) broken:\n- ${broken.join('\n- ')}`);
  process.exit(1);
}
console.log('\nsoak: every promise held');
