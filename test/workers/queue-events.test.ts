import { env, exports } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bindings } from '../../worker/config/env.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { MAX_ATTEMPTS, consumeEvents, retryDelaySeconds } from '../../worker/queues/events-consumer.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { authHeaders, expectProblem, json } from './helpers.ts';

const loaded = loadConfig(env);
if (!loaded.ok) throw new Error(loaded.problems.join('; '));
const db = createPostgres(loaded.config);
afterAll(() => db.close());

let n = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${++n}`;
// This file's own dashboards, configured for the consumer it calls, so its hubs share no state.
const boards = Array.from({ length: 6 }, (_, i) => `q${Date.now().toString(36)}-${i}`);
let nextBoard = 0;
const dashboard = () => boards[nextBoard++]!;
const bindings = { ...env, DASHBOARDS: ['default', ...boards].join(',') } as unknown as Bindings;

const alertOpened = (alertId = uid('A')) => ({
  event_id: uid('evt'),
  type: 'alert.opened',
  occurred_at: new Date().toISOString(),
  data: { alert_id: alertId, severity: 'warning', title: 'Queue depth rising' },
});
const alertResolved = (alertId: string) => ({ event_id: uid('evt'), type: 'alert.resolved', occurred_at: new Date().toISOString(), data: { alert_id: alertId } });

let messageId = 0;
/** Runs the consumer on messages as the queue would deliver them; answers its report and what it acked. */
async function consume(bodies: unknown[], options: { attempts?: number; env?: Bindings } = {}) {
  const batch = createMessageBatch(
    'command-center-events',
    bodies.map((body) => ({ id: `m${++messageId}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  const report = await consumeEvents(batch, options.env ?? bindings, ctx);
  const result = await getQueueResult(batch, ctx);
  return { report, result, ids: batch.messages.map((m) => m.id) };
}

async function status(eventId: string) {
  return exports.default.fetch(new Request(`http://cc.test/v1/events/${eventId}`, { headers: await authHeaders('editor') }));
}

const stored = async (ids: string[]) =>
  Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE event_id = ANY($1::text[])', [ids]))[0]!.n);

describe('the events queue', () => {
  it('answers 202 with the ids, and the consumer applies and publishes them; the status says so', async () => {
    const events = [alertOpened(), alertOpened()];
    const res = await exports.default.fetch(
      new Request('http://cc.test/v1/events?mode=async', {
        method: 'POST',
        headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      }),
    );
    expect(await json(res, 202)).toEqual({ results: events.map((e) => ({ event_id: e.event_id, status: 'queued' })) });
    // The local queue delivers within its batch timeout; the consumer applies and publishes.
    const deadline = Date.now() + 10_000;
    let last: { status: string; seq?: number | null } = { status: 'queued' };
    while (Date.now() < deadline) {
      last = await json(await status(events[1]!.event_id));
      if (last.status === 'applied' && last.seq !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last).toMatchObject({ status: 'applied', dashboard: 'default' });
    expect(last.seq).toBeGreaterThan(0);
    expect(await stored(events.map((e) => e.event_id))).toBe(2);
  });

  it('knows nothing of an id it never received', async () => {
    await expectProblem(await status(uid('never')), 404, 'not_found');
  });

  it('applies a batch in one go, each event_id once: a duplicated message is acknowledged without a second copy', async () => {
    const board = dashboard();
    const a = alertOpened();
    const b = alertOpened();
    const message = { dashboard: board, received_by: null, events: [a, b] };
    const { report, result, ids } = await consume([message, message, { dashboard: board, received_by: null, events: [a] }]);
    expect(report).toMatchObject({ applied: 2, duplicates: 3, deadLettered: 0, retried: 0 });
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect(await stored([a.event_id, b.event_id])).toBe(2);
    // Published once each, in order.
    const seqs = await db.query<{ seq: string }>('SELECT published_seq AS seq FROM events WHERE event_id = ANY($1::text[]) ORDER BY outbox_seq', [[a.event_id, b.event_id]]);
    expect(seqs.map((r) => Number(r.seq))).toEqual([1, 2]);
    // Delivered again later (the queue is at-least-once): still once, and nothing more is published.
    const hub = env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(board));
    const before = (await hub.stats()).lastSeq;
    expect((await consume([message])).report).toMatchObject({ applied: 0, duplicates: 2 });
    expect((await hub.stats()).lastSeq).toBe(before);
  });

  it('sets a poison message aside with its reason and applies the rest of the batch', async () => {
    const board = dashboard();
    const good = alertOpened();
    const unknown = alertResolved(uid('no-such-alert'));
    const reused = { ...alertOpened(), event_id: good.event_id, data: { alert_id: uid('A'), severity: 'critical', title: 'Another body' } };
    const { report, result, ids } = await consume([
      { dashboard: board, received_by: null, events: [good] },
      { dashboard: board, received_by: null, events: [unknown] },
      { dashboard: board, received_by: null, events: [reused] },
      { dashboard: board, received_by: null, events: [{ event_id: 'x', type: 'nope' }] },
      { dashboard: 'not-configured', received_by: null, events: [alertOpened()] },
    ]);
    expect(report).toMatchObject({ applied: 1, deadLettered: 4, retried: 0 });
    // Every message is settled: applied or in the dead-letter queue, none left to retry.
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(await json(await status(good.event_id))).toMatchObject({ status: 'applied' });
    const dead = await json<{ status: string; reason: string }>(await status(unknown.event_id));
    expect(dead.status).toBe('dead_lettered');
    expect(dead.reason).toMatch(/validation_failed: .*no alert/);
    expect(await json<{ reason: string }>(await status('x'))).toMatchObject({ status: 'dead_lettered', reason: expect.stringMatching(/^invalid message/) });
    // The reused id stays applied (its first body); the dead letter holds the second.
    expect(await json(await status(reused.event_id))).toMatchObject({ status: 'applied' });
  });

  it('retries a batch while Postgres is unreachable, with growing delays, then dead-letters it with the last error', async () => {
    const board = dashboard();
    const event = alertOpened();
    const down = { ...bindings, NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql' } as unknown as Bindings;
    const first = await consume([{ dashboard: board, received_by: null, events: [event] }], { env: down, attempts: 1 });
    expect(first.report).toMatchObject({ applied: 0, retried: 1 });
    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages.map((m) => m.msgId)).toEqual(first.ids);
    const third = await consume([{ dashboard: board, received_by: null, events: [event] }], { env: down, attempts: 3 });
    expect(third.result.retryMessages.map((m) => m.msgId)).toEqual(third.ids);
    // The delay each retry asks for (the test harness records which messages retried, not the delay).
    expect([1, 2, 3, 4, 7, 8].map(retryDelaySeconds)).toEqual([1, 2, 4, 8, 60, 60]);
    const last = await consume([{ dashboard: board, received_by: null, events: [event] }], { env: down, attempts: MAX_ATTEMPTS });
    expect(last.report).toMatchObject({ deadLettered: 1, retried: 0 });
    expect(last.result.explicitAcks).toEqual(last.ids);
    expect(await stored([event.event_id])).toBe(0);
    // Back up, the same message applies (a producer may send it again from the dead-letter queue).
    expect((await consume([{ dashboard: board, received_by: null, events: [event] }])).report).toMatchObject({ applied: 1 });
    expect(await json(await status(event.event_id))).toMatchObject({ status: 'applied' });
  });
});
