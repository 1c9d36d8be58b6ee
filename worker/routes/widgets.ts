import { createRoute, z } from '@hono/zod-openapi';
import { checkFilters, checkPresentation, resolveWindow } from '../metrics/index.ts';
import type { Filter, TimeWindow } from '../metrics/index.ts';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { requireActiveMetric } from '../metrics/catalog/store.ts';
import { bundledDictionary } from '../config/bundled.ts';
import type { Metric } from '../metrics/catalog/store.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';
import { CreateWidgetSchema, UpdateWidgetSchema, WidgetSchema } from '../metrics/widgets/schema.ts';
import { createWidget, deleteWidget, getWidget, listWidgets, updateWidget } from '../metrics/widgets/store.ts';

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const listRoute = createRoute({
  method: 'get',
  path: '/v1/widgets',
  tags: ['widgets'],
  summary: "The caller's widgets",
  responses: { 200: jsonContent(z.object({ widgets: z.array(WidgetSchema) }), 'Widgets'), ...problems(401, 503) },
});
const getRoute = createRoute({
  method: 'get',
  path: '/v1/widgets/{id}',
  tags: ['widgets'],
  summary: 'One of the caller’s widgets (another user’s is 404)',
  request: { params: IdParam },
  responses: { 200: jsonContent(WidgetSchema, 'Widget'), ...problems(401, 404, 422, 503) },
});
const createWidgetRoute = createRoute({
  method: 'post',
  path: '/v1/widgets',
  tags: ['widgets'],
  summary: 'Add a widget for a catalog metric (editor)',
  description:
    'Filters name dictionary columns of the metric’s tables, with values of the column’s type. No SQL is accepted from the client. `group_by` splits a single-value metric by a categorical column of its tables (bar, pie, table); a `line` widget of a single-value metric is a time series over its window. Combinations that cannot run (group_by on a kpi or line, on a column without a listed set of values, or on a metric that already returns label rows; a line of a metric not measured over a window) answer 422 validation_failed with a pointer to the field.',
  request: jsonBody(CreateWidgetSchema),
  responses: { 201: jsonContent(WidgetSchema, 'Created'), ...problems(400, 401, 403, 404, 409, 415, 422, 503) },
});
const updateWidgetRoute = createRoute({
  method: 'patch',
  path: '/v1/widgets/{id}',
  tags: ['widgets'],
  summary: 'Change a widget (editor)',
  request: { params: IdParam, ...jsonBody(UpdateWidgetSchema) },
  responses: { 200: jsonContent(WidgetSchema, 'Changed'), ...problems(400, 401, 403, 404, 415, 422, 503) },
});
const deleteWidgetRoute = createRoute({
  method: 'delete',
  path: '/v1/widgets/{id}',
  tags: ['widgets'],
  summary: 'Delete a widget (editor)',
  request: { params: IdParam },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true), id: z.string() }), 'Deleted'), ...problems(401, 403, 404, 422, 503) },
});

interface Runnable {
  visualization: string;
  time_window: TimeWindow;
  filters: Filter[];
  group_by?: string | null | undefined;
}

/** Filters, grouping, chart and window are checked against the metric before anything is stored. */
function assertRunnable(c: Context<AppEnv>, widget: Runnable, metric: Metric): void {
  const dictionary = bundledDictionary();
  const filterProblems = checkFilters(widget.filters, metric.lineage.tables, dictionary);
  if (filterProblems.length > 0) throw new ApiError('validation_failed', 'A filter does not fit the metric’s data.', { errors: filterProblems });
  const config = c.get('config');
  const qualify = (table: string) => `${config.DATABRICKS_CATALOG}.${config.DATABRICKS_SCHEMA}.${table}`;
  const shapeProblems = checkPresentation(widget, metric, dictionary, qualify);
  if (shapeProblems.length > 0) throw new ApiError('validation_failed', 'The widget cannot show this metric this way.', { errors: shapeProblems });
  resolveWindow(widget.time_window, new Date());
}

const owner = (c: Context<AppEnv>) => c.get('identity')!.userId;

export const widgetRoutes = newApp()
  .openapi(listRoute, async (c) => c.json({ widgets: await listWidgets(c.get('services').postgres, owner(c)) }, 200))
  .openapi(getRoute, async (c) => {
    const widget = await getWidget(c.get('services').postgres, owner(c), c.req.valid('param').id);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    return c.json(widget, 200);
  })
  .openapi(createWidgetRoute, async (c) => {
    const input = c.req.valid('json');
    const db = c.get('services').postgres;
    const metric = await requireActiveMetric(db, input.metric);
    assertRunnable(c, input, metric);
    const widget = await createWidget(db, owner(c), { ...input, metric });
    return c.json(widget, 201);
  })
  .openapi(updateWidgetRoute, async (c) => {
    const db = c.get('services').postgres;
    const { id } = c.req.valid('param');
    const current = await getWidget(db, owner(c), id);
    if (!current) throw new ApiError('not_found', 'No such widget.');
    const patch = c.req.valid('json');
    const next = {
      title: current.title,
      visualization: current.visualization,
      time_window: current.time_window,
      filters: current.filters,
      group_by: current.group_by ?? null,
      ...patch,
    };
    const metric = await requireActiveMetric(db, current.metric.name);
    assertRunnable(c, next, metric);
    const widget = await updateWidget(db, owner(c), id, next);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    return c.json(widget, 200);
  })
  .openapi(deleteWidgetRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await deleteWidget(c.get('services').postgres, owner(c), id))) throw new ApiError('not_found', 'No such widget.');
    return c.json({ deleted: true as const, id }, 200);
  });
