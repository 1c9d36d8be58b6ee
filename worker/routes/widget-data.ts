import { createRoute, z } from '@hono/zod-openapi';
import { applyFilters } from '../metrics/compose/filters-cte.ts';
import { activeMetric, dataContext } from '../metrics/context.ts';
import { LiveSourceError, runDatabricks, runPostgres } from '../services/statements.ts';
import type { TypedValue } from '../services/statements.ts';
import { bindFilters } from '../metrics/compose/filters.ts';
import { WidgetDataSchema, widgetData } from '../metrics/tile-data.ts';
import { resolveWindow } from '../metrics/compose/window.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';
import { routeFor } from '../metrics/routing/gate.ts';
import { cachedWidget } from '../metrics/widgets/store.ts';

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const dataRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/{id}/data',
  tags: ['widgets'],
  summary: 'The widget’s numbers, with source, freshness, cache state and the SQL that ran',
  description:
    'When Databricks fails or times out the answer is still 200, with `live_data_unavailable: true` and the reason; rows from a fallback appear only when the metric’s route opts in. KPI widgets include the delta against the previous equal window. Widgets with `group_by` answer one `{label, value}` row per allowed value of the column (one statement, the metric computed per group, filters still applied). `line` widgets of a single-value metric answer a time series: one `{label, value}` row per time bucket, `label` the bucket start (ISO, UTC), with `series` describing the bucketing. A grouping the metric no longer supports (its definition changed) answers 409 conflict.',
  request: { params: IdParam },
  responses: { 200: jsonContent(WidgetDataSchema, 'Widget data'), ...problems(401, 404, 409, 422, 503, 504) },
});

const RecordsRequestSchema = z
  .strictObject({
    page: z.number().int().min(1).max(1_000).default(1),
    page_size: z.number().int().min(1).max(200).default(50),
  })
  .openapi('RecordsRequest');

export const RecordsSchema = z
  .object({
    widget_id: z.string(),
    source: z.enum(['postgres', 'databricks']),
    table: z.string(),
    window: z.object({ start: z.string(), end: z.string() }),
    page: z.number(),
    page_size: z.number(),
    has_more: z.boolean(),
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
    sql: z.string(),
  })
  .openapi('WidgetRecords');

const recordsRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/{id}/records',
  tags: ['widgets'],
  summary: 'The rows behind the widget’s number: same table, window, filters and source, paginated',
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: RecordsRequestSchema } } } },
  responses: { 200: jsonContent(RecordsSchema, 'Records'), ...problems(401, 404, 409, 415, 422, 503, 504) },
});

export const widgetDataRoutes = newApp()
  .openapi(dataRoute, async (c) => {
    const [{ ctx, routing, catalog }, widget] = await Promise.all([
      dataContext(c),
      cachedWidget(c.get('services').postgres, c.get('identity')!.userId, c.req.valid('param').id),
    ]);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    const metric = await activeMetric(ctx.services.postgres, catalog, widget.metric.name);
    const data = await widgetData(ctx, widget, metric, routeFor(routing, metric.name));
    c.header('cache-control', 'no-store');
    return c.json(data, 200);
  })
  .openapi(recordsRoute, async (c) => {
    const [{ ctx, routing, catalog }, widget] = await Promise.all([
      dataContext(c),
      cachedWidget(c.get('services').postgres, c.get('identity')!.userId, c.req.valid('param').id),
    ]);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    const metric = await activeMetric(ctx.services.postgres, catalog, widget.metric.name);
    const route = routeFor(routing, metric.name);
    const { page, page_size } = c.req.valid('json') ?? { page: 1, page_size: 50 };

    // The rows behind a number live in the metric's first lineage table, ordered by its time column.
    const table = metric.lineage.tables[0];
    const tableDef = table ? ctx.dictionary.table(table) : undefined;
    if (!table || !tableDef) throw new ApiError('conflict', `Metric ${metric.name} has no table to drill into.`);
    const lineageTime = metric.lineage.columns
      .map((col) => col.split('.'))
      .find(([t, name]) => t === table && ctx.dictionary.column(t, name!)?.type.kind === 'TIMESTAMP')?.[1];
    const timeColumn = lineageTime ?? tableDef.columns.find((col) => col.type.kind === 'TIMESTAMP')?.name;
    if (!timeColumn) throw new ApiError('conflict', `Metric ${metric.name} has no time column to drill by.`);

    const window = resolveWindow(widget.time_window, ctx.now, Math.max(60, route.cache_seconds) * 1000);
    const bound = bindFilters(widget.filters, [table], ctx.dictionary);
    const source = route.source;
    const from = source === 'postgres' ? table : ctx.qualify(table);
    // One row more than the page tells whether another page exists.
    const base = `SELECT * FROM ${from} WHERE ${timeColumn} >= :start AND ${timeColumn} < :end ORDER BY ${timeColumn} DESC LIMIT ${page_size + 1} OFFSET ${(page - 1) * page_size}`;
    const sql = applyFilters(base, bound, source, ctx.qualify);
    const params: Record<string, TypedValue> = {
      start: { value: window.start, type: 'TIMESTAMP' },
      end: { value: window.end, type: 'TIMESTAMP' },
    };
    for (const f of bound) for (const p of f.params) params[p.name] = { value: p.value, type: p.type };
    let answer;
    try {
      answer =
        source === 'postgres'
          ? await runPostgres(ctx.services.postgres, sql, params, route.timeout_ms)
          : await runDatabricks(ctx.services.databricks.client, ctx.policy, sql, params, route.timeout_ms);
    } catch (err) {
      if (err instanceof LiveSourceError) throw new ApiError('databricks_unavailable', `The records cannot be read now: ${err.reason}`);
      throw err;
    }
    return c.json(
      {
        widget_id: widget.id,
        source,
        table,
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
        page,
        page_size,
        has_more: answer.rows.length > page_size,
        columns: answer.columns,
        rows: answer.rows.slice(0, page_size),
        sql: answer.sql,
      },
      200,
    );
  });
