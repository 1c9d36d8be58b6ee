import { isKnownDashboard } from '../../durable-objects/dashboards.ts';
import { BUNDLED_ROUTING_YAML } from '../config/bundled.ts';
import { loadConfig } from '../config/env.ts';
import type { Bindings } from '../config/env.ts';
import { DRAIN_LIMIT } from '../dashboard/events/outbox.ts';
import { heldPostgres, kpiUpdatesAfterIngest, publishEvents } from '../dashboard/events/publish.ts';
import type { IngestEvent } from '../dashboard/events/schema.ts';
import { applyError } from '../dashboard/events/apply.ts';
import { holdsStoredEvents, newEventStatements, recordEventsIn } from '../dashboard/events/store.ts';
import { ApiError } from '../http/errors.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import { cachedCatalog } from '../metrics/catalog/snapshot.ts';
import { listMetrics } from '../metrics/catalog/store.ts';
import { requireRouting } from '../metrics/routing/gate.ts';
import { createServices } from '../services/index.ts';
import type { Postgres, Statement } from '../services/postgres.ts';
import { QueuedEventsSchema } from './events.ts';
import type { DeadLetter, QueuedEvents } from './events.ts';

const baseLog = rootLogger.child({ component: 'events-consumer' });

/**
 * Deliveries of one message before the consumer sets it aside itself with the last error as the
 * reason; below wrangler.toml's max_retries, so the queue's own dead-lettering (which records no
 * reason) is only the backstop.
 */
export const MAX_ATTEMPTS = 5;

/** Outbox drains per dashboard after a batch: what is left waits for the next batch or the scheduled drain. */
const MAX_DRAINS = 200;

/** Seconds before a message that failed for a passing reason comes back: 1, 2, 4, 8… up to a minute. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1));
}

type Taken = { message: Message<unknown>; body: QueuedEvents };

export interface ConsumeReport {
  applied: number;
  duplicates: number;
  deadLettered: number;
  retried: number;
}

/**
 * The events queue's consumer. The whole batch is applied in one transaction, each message's
 * events exactly once per event_id (a retried or duplicated message finds them stored and is
 * acknowledged). When the transaction fails because of one message's content (an unknown claim,
 * an id reused for another body), each message is tried in its own transaction and the ones that
 * fail so are dead-lettered with the reason. A passing failure (Postgres down) retries the
 * messages with backoff, and after MAX_ATTEMPTS dead-letters them with the last error. Applied
 * events are then published to their dashboards through the outbox, as after a POST.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<ConsumeReport> {
  const log = baseLog.child({ queue: batch.queue, messages: batch.messages.length });
  const report: ConsumeReport = { applied: 0, duplicates: 0, deadLettered: 0, retried: 0 };
  const loaded = loadConfig(env);
  if (!loaded.ok || !loaded.config.DATABASE_URL) {
    log.error('events consumer cannot run: the worker environment is invalid', { problems: loaded.ok ? ['DATABASE_URL is not set'] : loaded.problems });
    for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
    report.retried = batch.messages.length;
    return report;
  }
  const config = loaded.config;
  const services = createServices(config, undefined, log);
  const postgres = services.postgres;
  try {
    const taken: Taken[] = [];
    const poison: Array<{ message: Message<unknown>; reason: string }> = [];
    for (const message of batch.messages) {
      const parsed = QueuedEventsSchema.safeParse(message.body);
      if (!parsed.success) {
        poison.push({ message, reason: `invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      } else if (!isKnownDashboard(config.DASHBOARDS, parsed.data.dashboard)) {
        poison.push({ message, reason: `no dashboard is named ${parsed.data.dashboard}` });
      } else {
        taken.push({ message, body: parsed.data });
      }
    }

    let applied: Taken[] = [];
    let transient: { items: Taken[]; error: unknown } | null = null;
    try {
      report.duplicates += await applyTogether(postgres, taken);
      applied = taken;
    } catch (err) {
      if (!isPermanent(err)) {
        transient = { items: taken, error: err };
      } else {
        // One message's content failed the batch: find it by applying each on its own.
        const failed: Taken[] = [];
        let lastError: unknown = null;
        for (const item of taken) {
          try {
            report.duplicates += await applyTogether(postgres, [item]);
            applied.push(item);
          } catch (one) {
            if (isPermanent(one)) poison.push({ message: item.message, reason: reasonOf(one) });
            else {
              failed.push(item);
              lastError = one;
            }
          }
        }
        if (failed.length > 0) transient = { items: failed, error: lastError };
      }
    }

    for (const p of poison) {
      await deadLetter(env, postgres, p.message, p.reason, log);
      report.deadLettered++;
    }
    if (transient) {
      for (const item of transient.items) {
        if (item.message.attempts >= MAX_ATTEMPTS) {
          await deadLetter(env, postgres, item.message, `gave up after ${item.message.attempts} attempts: ${reasonOf(transient.error)}`, log);
          report.deadLettered++;
        } else {
          item.message.retry({ delaySeconds: retryDelaySeconds(item.message.attempts) });
          report.retried++;
        }
      }
      log.warn('events batch will be retried', { error: transient.error, retried: report.retried });
    }
    for (const item of applied) {
      item.message.ack();
      report.applied += item.body.events.length;
    }
    report.applied -= report.duplicates;

    // Published from the outbox, as after a POST: the hub keys by event_id, so nothing goes twice.
    const dashboards = [...new Set(applied.map((a) => a.body.dashboard))];
    for (const dashboard of dashboards) {
      // A batch may carry many outbox drains' worth; each drain takes one hub batch.
      const sent: IngestEvent[] = [];
      for (let round = 0; round < MAX_DRAINS; round++) {
        // Recording the seqs runs beside the next drain: claimed rows stay claimed until then.
        const { events } = await publishEvents(env, postgres, dashboard, log, { defer: async (work) => ctx.waitUntil(work) });
        sent.push(...events);
        if (events.length < DRAIN_LIMIT) break;
      }
      if (sent.length > 0) ctx.waitUntil(kpiUpdates(env, config, dashboard, sent, log));
    }
    return report;
  } finally {
    ctx.waitUntil(services.close().catch(() => undefined));
  }
}

/**
 * Every message's events in one transaction, and their receipts marked applied; answers
 * duplicates. Messages of new events (the usual case) go in one round trip; a batch holding an
 * event already stored is applied again on a session, which tells retries apart.
 */
async function applyTogether(postgres: Pick<Postgres, 'transaction' | 'batch'>, items: readonly Taken[]): Promise<number> {
  if (items.length === 0) return 0;
  const receipts = receiptsStatement(items);
  try {
    await postgres.batch([...groups(items).flatMap((g) => newEventStatements(g.events, g.received_by, g.dashboard)), receipts]);
    return 0;
  } catch (err) {
    if (!holdsStoredEvents(err)) throw applyError(err);
  }
  return postgres.transaction(async (tx) => {
    let duplicates = 0;
    for (const group of groups(items)) duplicates += (await recordEventsIn(tx, group.events, group.received_by, group.dashboard)).size;
    await tx.query(receipts.text, receipts.params);
    return duplicates;
  });
}

/** One receipt per id, however many messages carried it, marked applied. */
function receiptsStatement(items: readonly Taken[]): Statement {
  const receipts = new Map(items.flatMap((i) => i.body.events.map((e) => [e.event_id, { dashboard: i.body.dashboard, attempts: i.message.attempts }] as const)));
  const ids = [...receipts.keys()];
  return {
    text: `INSERT INTO event_receipts (event_id, dashboard, status, attempts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS r(event_id, dashboard, status, attempts)
       ON CONFLICT (event_id) DO UPDATE SET status = 'applied', reason = NULL, attempts = EXCLUDED.attempts, updated_at = now()`,
    params: [ids, ids.map((id) => receipts.get(id)!.dashboard), ids.map(() => 'applied'), ids.map((id) => receipts.get(id)!.attempts)],
  };
}

/**
 * Consecutive messages for the same dashboard and sender, merged into one statement's worth, in
 * order. A message repeating an id already in the group starts a new group, so a repeat is
 * checked against the stored event (a true retry, or the same id with another body).
 */
function groups(items: readonly Taken[]): QueuedEvents[] {
  const out: Array<QueuedEvents & { ids: Set<string> }> = [];
  for (const { body } of items) {
    const last = out.at(-1);
    if (last && last.dashboard === body.dashboard && last.received_by === body.received_by && !body.events.some((e) => last.ids.has(e.event_id))) {
      last.events = [...last.events, ...body.events];
      for (const e of body.events) last.ids.add(e.event_id);
    } else {
      out.push({ ...body, events: [...body.events], ids: new Set(body.events.map((e) => e.event_id)) });
    }
  }
  return out;
}

/** Sends the message to the dead-letter queue with its reason, records the reason, acknowledges it. */
async function deadLetter(env: Bindings, postgres: Pick<Postgres, 'query'>, message: Message<unknown>, reason: string, log: Logger): Promise<void> {
  const letter: DeadLetter = { message: message.body, reason, attempts: message.attempts, at: new Date().toISOString() };
  await env.EVENTS_DLQ.send(letter, { contentType: 'json' });
  const parsed = QueuedEventsSchema.safeParse(message.body);
  const events = parsed.success ? parsed.data.events : eventIdsOf(message.body);
  // The dead letter holds the message; the receipt is for status lookups, and Postgres may be the
  // reason the message is here, so a failed write is logged rather than kept on retrying.
  if (events.length > 0) {
    // An id already applied (by another body) keeps its status: the dead letter holds this one.
    await postgres.query(
      `INSERT INTO event_receipts (event_id, dashboard, status, reason, attempts)
       SELECT id, $2, 'dead_lettered', $3, $4 FROM unnest($1::text[]) AS id
       ON CONFLICT (event_id) DO UPDATE SET status = 'dead_lettered', reason = EXCLUDED.reason, attempts = EXCLUDED.attempts, updated_at = now()
        WHERE event_receipts.status <> 'applied'`,
      [events.map((e) => e.event_id), parsed.success ? parsed.data.dashboard : dashboardOf(message.body), reason, message.attempts],
    ).catch((err: unknown) => log.warn('dead letter not recorded for status lookups', { error: err }));
  }
  log.warn('events message dead-lettered', { reason, attempts: message.attempts, events: events.length });
  message.ack();
}

/** The event ids a malformed message still names, so their status can say why they were set aside. */
function eventIdsOf(body: unknown): Array<{ event_id: string }> {
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return [];
  return events.flatMap((e) => {
    const id = (e as { event_id?: unknown } | null)?.event_id;
    return typeof id === 'string' && id.length > 0 && id.length <= 128 ? [{ event_id: id }] : [];
  });
}

function dashboardOf(body: unknown): string {
  const d = (body as { dashboard?: unknown } | null)?.dashboard;
  return typeof d === 'string' ? d.slice(0, 63) : 'unknown';
}

/** Content the database refused (a conflict, an unknown target): retrying would fail the same way. */
function isPermanent(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 'conflict' || err.code === 'validation_failed' || err.code === 'bad_request');
}

function reasonOf(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The strip after a queued batch, in the round the dashboard's other ingests share (publish.ts).
 * One connection serves the catalog and, should this batch open the round, its queries: the
 * batch waits for the round that covers it, so the connection outlives it.
 */
async function kpiUpdates(env: Bindings, config: Parameters<typeof createServices>[0], dashboard: string, events: readonly IngestEvent[], log: Logger): Promise<void> {
  const services = createServices(config, undefined, log);
  try {
    const catalog = await cachedCatalog(() => listMetrics(services.postgres));
    const routing = requireRouting(BUNDLED_ROUTING_YAML, catalog);
    await kpiUpdatesAfterIngest(dashboard, { env, events, catalog, routing, log, open: heldPostgres(services.postgres) });
  } catch (err) {
    log.warn('kpi updates after queued events not published', { error: err });
  } finally {
    await services.close().catch(() => undefined);
  }
}
