import type { Metric } from '../../metrics/catalog/store.ts';
import { KPI_STRIP } from '../kpi-strip.ts';
import { createServices } from '../../services/index.ts';
import { runStatement } from '../../services/statements.ts';
import { resolveWindow } from '../../metrics/compose/window.ts';
import type { Bindings, Config } from '../../config/env.ts';
import type { Logger } from '../../lib/log.ts';
import type { Routing } from '../../metrics/routing/load.ts';
import type { Postgres } from '../../services/postgres.ts';
import { METRICS_MOVED } from './schema.ts';
import type { IngestEvent } from './schema.ts';
import { CoalescerMap } from '../../lib/coalesce.ts';
import { claimStatement, drainOutbox, publishClaimed } from './outbox.ts';
import { recordEvents } from './store.ts';
import type { ClaimedRow, Defer } from './outbox.ts';

export interface Published {
  event_id: string;
  seq: number | null;
}

/**
 * After the commit: the events claimed with it (`claimed`, when ingest claimed in the same round
 * trip) or the dashboard's outbox (this request's events and any older ones a failed publish left
 * behind) go to the hub's log. The hub answers once the events have their seqs; delivery to sockets
 * follows on its own, and recording the seqs is handed to `defer`. Answers the seq of every event
 * sent, and the events, for the KPI updates that follow.
 */
export async function publishEvents(
  env: Bindings,
  postgres: Pick<Postgres, 'query'>,
  dashboard: string,
  log: Logger,
  options: { claimed?: readonly ClaimedRow[]; defer?: Defer } = {},
): Promise<{ published: Published[]; events: IngestEvent[] }> {
  const drained = options.claimed
    ? await publishClaimed(env, postgres, dashboard, options.claimed, log, options.defer)
    : await drainOutbox(env, postgres, dashboard, log, options.defer);
  return {
    published: drained.published.map((p) => ({ event_id: p.event.event_id, seq: p.seq })),
    events: drained.published.map((p) => p.event),
  };
}

/**
 * Ingest's hand-off, for every path that stores events (the POST route, incident effects): the
 * batch is stored with the outbox claim in the same round trip and what it claimed is published;
 * a batch that held stored events (stored on a session instead) drains the outbox. `known` holds
 * the events seen before, as recordEvents answers it.
 */
export async function storeAndPublish(
  env: Bindings,
  postgres: Pick<Postgres, 'query' | 'batch' | 'transaction'>,
  events: readonly IngestEvent[],
  receivedBy: string | null,
  dashboard: string,
  log: Logger,
  defer?: Defer,
): Promise<{ known: Map<string, number | null>; published: Published[]; events: IngestEvent[] }> {
  const stored = await recordEvents<ClaimedRow>(postgres, events, receivedBy, dashboard, claimStatement(dashboard));
  const sent = await publishEvents(env, postgres, dashboard, log, { ...(stored.then ? { claimed: stored.then } : {}), ...(defer ? { defer } : {}) });
  return { known: stored.known, ...sent };
}

/** One ingest's ask for the KPI strip after its events were published. */
export interface KpiRequest {
  env: Bindings;
  events: readonly IngestEvent[];
  catalog: readonly Metric[];
  routing: Routing;
  log: Logger;
  /** Where the round's queries go, should this request open the round (and how to let go of it). */
  open: () => { postgres: Pick<Postgres, 'query' | 'batch'>; close: () => Promise<void> };
}

/** A round's queries on a connection of their own: the asking request's closes with its answer. */
export const ownPostgres = (config: Config, log: Logger) => (): ReturnType<KpiRequest['open']> => {
  const services = createServices(config, undefined, log);
  return { postgres: services.postgres, close: () => services.close() };
};

/** A round's queries on a connection the asking caller holds until its round is over. */
export const heldPostgres = (postgres: Pick<Postgres, 'query' | 'batch'>) => (): ReturnType<KpiRequest['open']> => ({ postgres, close: async () => undefined });

/**
 * Ingests of one dashboard that finish together (concurrent POSTs, queue batches, incidents) share
 * one recomputation of the strip: the round under way answers nobody who joined after it began,
 * and the next covers everyone who did (lib/coalesce.ts). The numbers are the same whoever asks.
 */
const kpiRounds = new CoalescerMap<KpiRequest, void>(async (dashboard, requests) => {
  const first = requests[0]!;
  const { postgres, close } = first.open();
  try {
    await publishKpiUpdates(first.env, postgres, dashboard, requests.flatMap((r) => r.events), first.catalog, first.routing, first.log);
  } finally {
    await close().catch(() => undefined);
  }
});

/**
 * After events were published: the KPIs they moved reach the hub, in a round shared with the
 * dashboard's other ingests. Never throws: a KPI that cannot be recomputed now is recomputed by
 * the next event, and the events themselves are already out.
 */
export async function kpiUpdatesAfterIngest(dashboard: string, request: KpiRequest): Promise<void> {
  if (request.events.length === 0) return;
  try {
    await kpiRounds.join(dashboard, request);
  } catch (err) {
    request.log.warn('kpi updates not published', { error: err });
  }
}

/**
 * The Postgres-routed KPIs the sent events moved, recomputed once and pushed as kpi_update. Runs
 * after the ingest answer (the route hands it to waitUntil), so a slow KPI query never holds up
 * ingest.
 */
export async function publishKpiUpdates(
  env: Bindings,
  postgres: Pick<Postgres, 'query' | 'batch'>,
  dashboard: string,
  events: readonly IngestEvent[],
  catalog: readonly Metric[],
  routing: Routing,
  log: Logger,
): Promise<void> {
  if (events.length === 0) return;
  const hub = env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));

  // The strip's KPIs the events moved are recomputed side by side, each over the strip's own
  // window (one HTTP round trip each), and reach the hub as one batch, right behind the events.
  // Lakehouse-routed KPIs are not recomputed here: their numbers come from the warehouse.
  const moved = new Set(events.flatMap((e) => METRICS_MOVED[e.type]));
  const byName = new Map(catalog.map((m) => [m.name, m]));
  const now = new Date();
  const kpis = KPI_STRIP.flatMap(({ metric: name, window: preset }) => {
    const metric = byName.get(name);
    const route = routing.routes.get(name);
    if (!metric || !moved.has(name) || route?.source !== 'postgres' || !metric.queries.postgres) return [];
    return [{ metric, sql: metric.queries.postgres, timeoutMs: route.timeout_ms, window: resolveWindow(preset, now, 1_000) }];
  });
  const answers = await Promise.allSettled(
    kpis.map(({ sql, timeoutMs, window }) =>
      runStatement(
        { postgres },
        { source: 'postgres', sql, params: { start: { value: window.start, type: 'TIMESTAMP' }, end: { value: window.end, type: 'TIMESTAMP' } }, timeoutMs },
      ),
    ),
  );
  const updates = answers.flatMap((answer, i) => {
    if (answer.status === 'rejected') {
      log.warn('kpi update skipped', { metric: kpis[i]!.metric.name, error: answer.reason });
      return [];
    }
    const { metric, window } = kpis[i]!;
    return [
      {
        type: 'kpi_update' as const,
        data: {
          metric: metric.name,
          source: 'postgres',
          as_of: new Date().toISOString(),
          window: { start: window.start.toISOString(), end: window.end.toISOString() },
          rows: answer.value.rows,
        },
      },
    ];
  });
  if (updates.length > 0) {
    try {
      const result = await hub.publishBatch(updates);
      if (!result.ok) log.warn('hub refused the kpi updates', { reason: result.reason });
    } catch (err) {
      log.warn('kpi updates not published', { error: err });
    }
  }
}
