import { env } from 'cloudflare:workers';
import { createScheduledController, createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../worker/config/env.ts';
import type { Bindings } from '../../worker/config/env.ts';
import { drainWaitingEvents } from '../../worker/dashboard/events/scheduled.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { createApi } from '../../worker/api.ts';
import { authHeaders, json, listen as listenVia } from './helpers.ts';
import worker from './entry.ts';

let n = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${++n}`;
// Dashboards of this file's own, configured for its app, so its hubs never share state.
const boards = Array.from({ length: 8 }, (_, i) => `outbox${Date.now().toString(36)}-${i}`);
let nextBoard = 0;
const board = () => boards[nextBoard++]!;
const api = createApi();
const bindings = { ...env, DASHBOARDS: ['default', ...boards].join(',') };
const call = (path: string, init?: RequestInit) => api.request(path, init, bindings);
const listen = (dashboard: string) => listenVia(dashboard, call);
const made: string[] = [];

const postgres = () => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return createPostgres(loaded.config);
};

const alert = (title = 'Outbox check') => {
  const id = uid('evt');
  made.push(id);
  return { event_id: id, type: 'alert.opened', occurred_at: new Date().toISOString(), data: { alert_id: uid('A'), severity: 'info', title } };
};

async function ingest(body: unknown, dashboard: string) {
  return call(`/v1/events?dashboard=${dashboard}`, {
    method: 'POST',
    headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
type Results = { results: Array<{ event_id: string; status: string; seq: number | null }> };

/** An event committed by a request whose publish never happened (the worker died after the commit). */
async function storeUnpublished(dashboard: string, secondsAgo: number) {
  const event = alert('Committed, never published');
  const db = postgres();
  try {
    await db.query(
      `INSERT INTO events (event_id, type, occurred_at, payload, dashboard, received_at) VALUES ($1, $2, $3, $4, $5, now() - make_interval(secs => $6))`,
      [event.event_id, event.type, event.occurred_at, JSON.stringify(event.data), dashboard, secondsAgo],
    );
  } finally {
    await db.close();
  }
  return event;
}

async function publishedSeq(eventId: string): Promise<number | null> {
  const db = postgres();
  try {
    const [row] = await db.query<{ published_seq: string | null }>('SELECT published_seq FROM events WHERE event_id = $1', [eventId]);
    return row?.published_seq == null ? null : Number(row.published_seq);
  } finally {
    await db.close();
  }
}

afterAll(async () => {
  const db = postgres();
  try {
    await db.query('DELETE FROM events WHERE event_id = ANY($1::text[])', [made]);
  } finally {
    await db.close();
  }
});

describe('the events outbox', () => {
  it('hands an event to the hub once, however many concurrent retries deliver it', async () => {
    const dashboard = board();
    const socket = await listen(dashboard);
    const event = alert();
    const answers = await Promise.all(Array.from({ length: 20 }, async () => (await json<Results>(await ingest(event, dashboard))).results[0]!));
    expect(answers.filter((a) => a.status === 'applied')).toHaveLength(1);
    const seqs = new Set(answers.map((a) => a.seq).filter((s) => s !== null));
    expect(seqs.size).toBe(1);
    await socket.until(() => socket.messages.some((m) => m.type === 'event'));
    // A later event on the same hub proves every earlier frame has arrived.
    const later = alert();
    await ingest(later, dashboard);
    await socket.until(() => socket.messages.some((m) => m.data?.event_id === later.event_id));
    expect(socket.messages.filter((m) => m.data?.event_id === event.event_id)).toHaveLength(1);
    expect(await publishedSeq(event.event_id)).toBe([...seqs][0]);
  });

  it('publishes what an earlier request committed but never sent, before the next ingest’s own events', async () => {
    const dashboard = board();
    const socket = await listen(dashboard);
    const stranded = await storeUnpublished(dashboard, 1);
    const next = alert();
    const answer = await json<Results>(await ingest(next, dashboard));
    expect(answer.results[0]).toMatchObject({ status: 'applied', seq: expect.any(Number) });
    await socket.until(() => socket.messages.some((m) => m.data?.event_id === next.event_id));
    const order = socket.messages.filter((m) => m.type === 'event').map((m) => m.data?.event_id);
    expect(order).toEqual([stranded.event_id, next.event_id]);
    expect(await publishedSeq(stranded.event_id)).toBe(answer.results[0]!.seq! - 1);
  });

  it('the scheduled drain publishes events nobody else did, once, and leaves fresh ones to their request', async () => {
    const dashboard = board();
    const socket = await listen(dashboard);
    const waiting = await storeUnpublished(dashboard, 60);
    const fresh = await storeUnpublished(board(), 0);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env as unknown as Bindings, ctx);
    await waitOnExecutionContext(ctx);
    await socket.until(() => socket.messages.some((m) => m.data?.event_id === waiting.event_id));
    expect(await publishedSeq(waiting.event_id)).toEqual(expect.any(Number));
    expect(await publishedSeq(fresh.event_id)).toBeNull();

    // A second run finds nothing more for that dashboard.
    const again = await drainWaitingEvents(env as unknown as Bindings);
    expect(socket.messages.filter((m) => m.data?.event_id === waiting.event_id)).toHaveLength(1);
    expect(again.failed).toBe(0);
  });

  it('a publisher that died after the hub took its events is not sent twice: the next drain gets the first seqs back', async () => {
    const dashboard = board();
    const socket = await listen(dashboard);
    const stranded = await storeUnpublished(dashboard, 60);
    // What the dying publisher managed: the hub has the event, Postgres never heard its seq.
    const hub = env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));
    const first = await hub.publishBatch([{ type: 'event', data: { event_id: stranded.event_id, event_type: stranded.type } }], { keys: [stranded.event_id] });
    if (!first.ok) throw new Error(JSON.stringify(first));
    await socket.until(() => socket.messages.some((m) => m.data?.event_id === stranded.event_id));

    const next = alert();
    await ingest(next, dashboard);
    await socket.until(() => socket.messages.some((m) => m.data?.event_id === next.event_id));
    expect(socket.messages.filter((m) => m.data?.event_id === stranded.event_id)).toHaveLength(1);
    expect(await publishedSeq(stranded.event_id)).toBe(first.seqs[0]);
  });
});
