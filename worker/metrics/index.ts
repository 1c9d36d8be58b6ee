/**
 * Where a tile's number comes from. Routes ask this module, and only this module, for a tile's
 * answer, the rows behind it and a comparison of both sources. Behind it: the catalog snapshot,
 * the routing gate, window/bucket/group composition, the two-level cache and the one function
 * that runs a statement on a source (services/statements.ts).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import type { Metric } from './catalog/store.ts';
import { compareSources } from './compare.ts';
import type { Comparison } from './compare.ts';
import type { TimeWindow } from './compose/window.ts';
import { activeMetric, dataContext } from './context.ts';
import { tileRecords } from './records.ts';
import type { Records } from './records.ts';
import { routeFor } from './routing/gate.ts';
import type { Routing } from './routing/load.ts';
import type { MetricRoute } from './routing/schema.ts';
import { widgetData } from './tile-data.ts';
import type { DataContext, WidgetData } from './tile-data.ts';
import { metricBlock } from './widgets/store.ts';
import type { Widget } from './widgets/schema.ts';

export { WidgetDataSchema } from './tile-data.ts';
export type { WidgetData } from './tile-data.ts';
export { RecordsSchema } from './records.ts';
export { CompareSchema } from './compare.ts';
export type { Metric } from './catalog/store.ts';
export type { Routing } from './routing/load.ts';
// What routes need to check a definition before they store it.
export { safetyPolicy } from './context.ts';
export { admissionProblems } from './routing/gate.ts';
export { groupableColumns } from './compose/grouping.ts';
export { checkFilters } from './compose/filters.ts';
export type { Filter } from './compose/filters.ts';
export { checkPresentation } from './compose/presentation.ts';
export { resolveWindow } from './compose/window.ts';
export type { TimeWindow } from './compose/window.ts';
/** The demo reset replaces the data behind every cached answer. */
export { clearLocalCache } from './cache.ts';

export interface MetricsSession {
  /** The active catalog this request sees. */
  readonly catalog: readonly Metric[];
  readonly routing: Routing;
  /** A catalog metric by name, or undefined when it is retired or unknown. */
  metric(name: string): Metric | undefined;
  /** The metric's route, or undefined when the routing file does not name it. */
  route(name: string): MetricRoute | undefined;
  /** A stored widget's numbers, with source, freshness, cache state and the SQL that ran. */
  tile(widget: Widget): Promise<WidgetData>;
  /** A catalog metric as a KPI over a window: the strip's tiles. */
  kpi(metric: Metric, window: TimeWindow): Promise<WidgetData>;
  /** The rows behind a widget's number, a page at a time. */
  records(widget: Widget, page: number, pageSize: number): Promise<Records>;
  /** Both sources' answer for a metric that has both queries. */
  compare(name: string, window: TimeWindow): Promise<Comparison>;
}

/** The request's view of the metrics domain; the routing gate runs here (503 routing_invalid). */
export async function openMetrics(c: Context<AppEnv>): Promise<MetricsSession> {
  const { ctx, routing, catalog } = await dataContext(c);
  return session(ctx, routing, catalog);
}

function session(ctx: DataContext, routing: Routing, catalog: readonly Metric[]): MetricsSession {
  const byName = new Map(catalog.map((m) => [m.name, m]));
  const resolve = async (name: string) => {
    const metric = await activeMetric(ctx.services.postgres, catalog, name);
    return { metric, route: routeFor(routing, metric.name) };
  };
  return {
    catalog,
    routing,
    metric: (name) => byName.get(name),
    route: (name) => routing.routes.get(name),
    async tile(widget) {
      const { metric, route } = await resolve(widget.metric.name);
      return widgetData(ctx, widget, metric, route);
    },
    kpi(metric, window) {
      return widgetData(ctx, kpiWidget(metric, window), metric, routeFor(routing, metric.name));
    },
    async records(widget, page, pageSize) {
      const { metric, route } = await resolve(widget.metric.name);
      return tileRecords(ctx, widget, metric, route, page, pageSize);
    },
    async compare(name, window) {
      const { metric, route } = await resolve(name);
      return compareSources(ctx, metric, route, window);
    },
  };
}

/** A strip KPI is a widget nobody stored: the metric over the strip's window, unfiltered. */
function kpiWidget(metric: Metric, window: TimeWindow): Widget {
  const now = new Date().toISOString();
  return { id: `kpi:${metric.name}`, title: metric.display_name, metric: metricBlock(metric), visualization: 'kpi', time_window: window, filters: [], created_at: now, updated_at: now };
}
