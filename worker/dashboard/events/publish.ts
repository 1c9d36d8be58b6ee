import type { Metric } from '../../metrics/catalog/store.ts';
import { KPI_STRIP } from '../kpi-strip.ts';
import { runStatement } from '../../services/statements.ts';
import { resolveWindow } from '../../metrics/compose/window.ts';
import type { Bindings } from '../../config/env.ts';
import type { Logger } from '../../lib/log.ts';
import type { Routing } from '../../metrics/routing/load.ts';
import type { Postgres } from '../../services/postgres.ts';
import type { IngestEvent } from './schema.ts';
import { METRICS_MOVED } from './schema.ts';

export interface Published {
  event_id: string;
  seq: number | null;
}

/**
 * After the commit: each event goes to the hub (its seq is recorded on the row), then the
 * Postgres-routed KPIs the events moved are recomputed once and pushed as kpi_update. A hub
 * failure leaves published_seq empty, and a retry of the same event publishes it then.
 */
export async function publishEvents(
  env: Bindings,
  postgres: Pick<Postgres, 'query' | 'batch'>,
  dashboard: string,
  events: readonly IngestEvent[],
  catalog: readonly Metric[],
  routing: Routing,
  log: Logger,
): Promise<Published[]> {
  const hub = env.DASHBOARD_HUB.get(env.DASHBOARD_HUB.idFromName(dashboard));
  // One batch per request: consecutive seqs, one frame per socket, one UPDATE for all rows.
  let firstSeq: number | null = null;
  if (events.length > 0) {
    try {
      const result = await hub.publishBatch(
        events.map((e) => ({ type: 'event' as const, data: { event_id: e.event_id, event_type: e.type, occurred_at: e.occurred_at, ...e.data } })),
      );
      if (result.ok) firstSeq = result.firstSeq;
      else log.warn('hub refused the events', { reason: result.reason });
    } catch (err) {
      log.warn('hub publish failed; the events stay unpublished', { error: err });
    }
  }
  const out: Published[] = events.map((e, i) => ({ event_id: e.event_id, seq: firstSeq === null ? null : firstSeq + i }));
  if (firstSeq !== null) {
    await postgres.query(
      'UPDATE events SET published_seq = p.seq FROM unnest($1::text[], $2::bigint[]) AS p(event_id, seq) WHERE events.event_id = p.event_id',
      [out.map((p) => p.event_id), out.map((p) => p.seq)],
    );
  }

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
  return out;
}
