import { createRoute, z } from '@hono/zod-openapi';
import { startBudget } from '../dashboard/budget.ts';
import { KPI_STRIP } from '../dashboard/kpi-strip.ts';
import { WidgetDataSchema, openMetrics } from '../metrics/index.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { toProblem } from '../http/problem.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import { problems } from '../http/schemas.ts';
import { WidgetSchema } from '../metrics/widgets/schema.ts';
import { listWidgets } from '../metrics/widgets/store.ts';
import { LayoutSchema } from './dashboard-layout.ts';

/** Past this a caller is better served by the full answer: it is the default route timeout. */
export const MAX_BUDGET_MS = 5_000;

const QuerySchema = z.strictObject({
  budget_ms: z
    .string()
    .regex(/^\d{1,4}$/, 'Expected a whole number of milliseconds.')
    .refine((v) => Number(v) <= MAX_BUDGET_MS, `At most ${MAX_BUDGET_MS} ms.`)
    .optional()
    .openapi({
      param: { name: 'budget_ms', in: 'query' },
      description:
        `How long to wait for KPI and tile data, 0–${MAX_BUDGET_MS} ms, counted from when their queries start. ` +
        'Whatever is not ready by then comes back `pending: true` with `data: null` and keeps running after the response, ' +
        'so the follow-up request finds it cached. Without it, every KPI and tile is awaited in full.',
      example: '150',
    }),
  kpi: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/)
    .optional()
    .openapi({
      param: { name: 'kpi', in: 'query' },
      description: 'Answer only this KPI of the strip (and no tiles): how a client fills in a KPI that came back pending.',
      example: 'claim_volume',
    }),
});

const KpiSchema = z
  .object({
    metric: z.string(),
    display_name: z.string(),
    unit: z.string(),
    direction: z.string(),
    data: WidgetDataSchema.nullable().openapi({ description: 'Null while `pending`, or when `problem` says why' }),
    problem: z.string().nullable().openapi({ description: 'Why this KPI has no data (its metric cannot be served), in words' }),
    pending: z.boolean().openapi({ description: 'Not ready within `budget_ms`; fetch it with `?kpi=<metric>`' }),
  })
  .openapi('DashboardKpi');

const TileSchema = z
  .object({
    widget: WidgetSchema,
    data: WidgetDataSchema.nullable().openapi({ description: 'Null while `pending`, or when `problem` says why' }),
    problem: z.string().nullable(),
    pending: z.boolean().openapi({ description: 'Not ready within `budget_ms`; fetch it from POST /v1/widgets/{id}/data' }),
  })
  .openapi('DashboardTile');

const StateSchema = z
  .object({
    generated_at: z.string(),
    kpis: z.array(KpiSchema),
    layout: LayoutSchema,
    tiles: z.array(TileSchema),
  })
  .openapi('DashboardState');

const route = createRoute({
  method: 'get',
  path: '/v1/dashboard/state',
  tags: ['dashboard'],
  summary: 'The KPI strip and the caller’s tiles in layout order, each with source and freshness',
  description:
    'With `budget_ms` the answer never waits on a slow source for longer than the budget: each KPI or tile not ready by then is marked `pending`. ' +
    'A page can render at once with placeholders and fetch the pending ones individually.',
  request: { query: QuerySchema },
  responses: { 200: { description: 'State', content: { 'application/json': { schema: StateSchema } } }, ...problems(401, 404, 422, 429, 503) },
});

export const dashboardStateRoutes = newApp().openapi(route, async (c) => {
  const query = c.req.valid('query');
  const identity = c.get('identity')!;
  await spend(c, BUDGETS.dashboardState);
  const metrics = await openMetrics(c);
  const strip = KPI_STRIP.filter((k) => metrics.metric(k.metric) !== undefined && (query.kpi === undefined || k.metric === query.kpi));
  if (query.kpi !== undefined && strip.length === 0) throw new ApiError('not_found', `No KPI ${query.kpi} on the dashboard strip.`);
  const [layout, widgets] = await Promise.all([
    c.env.USER_SPACE.get(c.env.USER_SPACE.idFromName(identity.userId)).getLayout(),
    // A single KPI answers no tiles, so it does not read them.
    query.kpi === undefined ? listWidgets(c.get('services').postgres, identity.userId) : Promise.resolve([]),
  ]);

  const budget = startBudget(query.budget_ms === undefined ? undefined : Number(query.budget_ms), (work) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // No execution context (a route tested on its own): the work still runs to its end.
    }
  }, c.get('log'));

  const kpis = Promise.all(
    strip.map(async (k) => {
      const metric = metrics.metric(k.metric)!;
      const head = { metric: metric.name, display_name: metric.display_name, unit: metric.unit, direction: metric.direction };
      // A metric the routing cannot serve fails alone, named; the rest of the strip still answers.
      if (!metrics.route(metric.name)) return { ...head, data: null, problem: `Metric ${metric.name} is not routed to a source it can run on.`, pending: false };
      const data = await budget.race(metrics.kpi(metric, k.window));
      return data.ready ? { ...head, data: data.value, problem: null, pending: false } : { ...head, data: null, problem: null, pending: true };
    }),
  );

  // Layout order first, then widgets the layout does not place yet.
  const placed = layout.tiles.map((t) => t.widget_id);
  const ordered = [...placed.map((id) => widgets.find((w) => w.id === id)).filter((w) => w !== undefined), ...widgets.filter((w) => !placed.includes(w.id))];
  const tiles = Promise.all(
    ordered.map(async (widget) => {
      if (!metrics.metric(widget.metric.name) || !metrics.route(widget.metric.name)) return { widget, data: null, problem: `Metric ${widget.metric.name} is retired or unrouted.`, pending: false };
      const answer = await budget.race(
        metrics.tile(widget).then(
          (data) => ({ data, problem: null }),
          (err: unknown) => {
            // A tile says what went wrong as the error handler would; what the error itself says is logged.
            c.get('log').warn('tile failed', { widget_id: widget.id, metric: widget.metric.name, error: err });
            return { data: null, problem: toProblem(err).detail };
          },
        ),
      );
      return answer.ready ? { widget, ...answer.value, pending: false } : { widget, data: null, problem: null, pending: true };
    }),
  );

  try {
    const body = { generated_at: new Date().toISOString(), kpis: await kpis, layout, tiles: await tiles };
    c.header('cache-control', 'no-store');
    return c.json(body, 200);
  } finally {
    budget.release();
  }
});
