import { createRoute, z } from '@hono/zod-openapi';
import type { Metric } from '../catalog/metrics.ts';
import { dataContext } from '../data/context.ts';
import { WidgetDataSchema, widgetData } from '../data/widget-data.ts';
import { newApp } from '../lib/app.ts';
import { problems } from '../lib/schemas.ts';
import { WidgetSchema } from '../widgets/schema.ts';
import type { Widget } from '../widgets/schema.ts';
import { listWidgets } from '../widgets/store.ts';
import { metricBlock } from '../widgets/store.ts';
import { LayoutSchema } from './dashboard-layout.ts';

/** The headline strip every dashboard opens with, in display order. */
export const KPI_STRIP: ReadonlyArray<{ metric: string; window: Widget['time_window'] }> = [
  { metric: 'nps_impact', window: { preset: '24h' } },
  { metric: 'claim_volume', window: { preset: '24h' } },
  { metric: 'cost_avoided_mtd', window: { preset: 'mtd' } },
  { metric: 'avg_handle_time', window: { preset: '24h' } },
  { metric: 'sla_breach_rate', window: { preset: '7d' } },
  { metric: 'issue_sessions_active', window: { preset: '24h' } },
  { metric: 'open_alerts', window: { preset: '24h' } },
];

const StateSchema = z
  .object({
    generated_at: z.string(),
    kpis: z.array(z.object({ metric: z.string(), display_name: z.string(), unit: z.string(), direction: z.string(), data: WidgetDataSchema })),
    layout: LayoutSchema,
    tiles: z.array(z.object({ widget: WidgetSchema, data: WidgetDataSchema.nullable(), problem: z.string().nullable() })),
  })
  .openapi('DashboardState');

const route = createRoute({
  method: 'get',
  path: '/v1/dashboard/state',
  tags: ['dashboard'],
  summary: 'The KPI strip and the caller’s tiles in layout order, each with source and freshness',
  responses: { 200: { description: 'State', content: { 'application/json': { schema: StateSchema } } }, ...problems(401, 503) },
});

function kpiWidget(metric: Metric, window: Widget['time_window']): Widget {
  const now = new Date().toISOString();
  return { id: `kpi:${metric.name}`, title: metric.display_name, metric: metricBlock(metric), visualization: 'kpi', time_window: window, filters: [], created_at: now, updated_at: now };
}

export const dashboardStateRoutes = newApp().openapi(route, async (c) => {
  const { ctx, routing, catalog } = await dataContext(c);
  const identity = c.get('identity')!;
  const byName = new Map(catalog.map((m) => [m.name, m]));
  const [layout, widgets] = await Promise.all([
    c.env.USER_SPACE.get(c.env.USER_SPACE.idFromName(identity.userId)).getLayout(),
    listWidgets(ctx.services.postgres, identity.userId),
  ]);

  const kpis = await Promise.all(
    KPI_STRIP.filter((k) => byName.has(k.metric)).map(async (k) => {
      const metric = byName.get(k.metric)!;
      const data = await widgetData(ctx, kpiWidget(metric, k.window), metric, routing.routes.get(metric.name)!);
      return { metric: metric.name, display_name: metric.display_name, unit: metric.unit, direction: metric.direction, data };
    }),
  );

  // Layout order first, then widgets the layout does not place yet.
  const placed = layout.tiles.map((t) => t.widget_id);
  const ordered = [...placed.map((id) => widgets.find((w) => w.id === id)).filter((w) => w !== undefined), ...widgets.filter((w) => !placed.includes(w.id))];
  const tiles = await Promise.all(
    ordered.map(async (widget) => {
      const metric = byName.get(widget.metric.name);
      const route = routing.routes.get(widget.metric.name);
      if (!metric || !route) return { widget, data: null, problem: `Metric ${widget.metric.name} is retired or unrouted.` };
      try {
        return { widget, data: await widgetData(ctx, widget, metric, route), problem: null };
      } catch (err) {
        return { widget, data: null, problem: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  c.header('cache-control', 'no-store');
  return c.json({ generated_at: new Date().toISOString(), kpis, layout, tiles }, 200);
});
