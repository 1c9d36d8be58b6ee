import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import { RecordsSchema, WidgetDataSchema, openMetrics } from '../metrics/index.ts';
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
  responses: { 200: jsonContent(WidgetDataSchema, 'Widget data'), ...problems(401, 404, 409, 422, 429, 503, 504) },
});

/**
 * How deep paging may go: a page is an OFFSET query the database answers by reading every row
 * before it, so without a bound one request could make it read 200,000 rows. 10,000 rows (the
 * safety layer's LIMIT) is 50 pages of 200, or 200 of 50; past that, narrow the window or filters.
 */
export const MAX_RECORDS_DEPTH = 10_000;

const RecordsRequestSchema = z
  .strictObject({
    page: z.number().int().min(1).max(MAX_RECORDS_DEPTH).default(1),
    page_size: z.number().int().min(1).max(200).default(50),
  })
  .refine((r) => r.page * r.page_size <= MAX_RECORDS_DEPTH, {
    path: ['page'],
    message: `page × page_size may be at most ${MAX_RECORDS_DEPTH}: narrow the window or the filters to see older rows.`,
  })
  .openapi('RecordsRequest');

const recordsRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/{id}/records',
  tags: ['widgets'],
  summary: 'The rows behind the widget’s number: same table, window, filters and source, paginated',
  description: `Newest first, at most ${MAX_RECORDS_DEPTH} rows deep (\`page × page_size\`). Limited per user (${BUDGETS.records.requests} per ${BUDGETS.records.window}; 429 with Retry-After).`,
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: RecordsRequestSchema } } } },
  responses: { 200: jsonContent(RecordsSchema, 'Records'), ...problems(401, 404, 409, 415, 422, 429, 503, 504) },
});

export const widgetDataRoutes = newApp()
  .openapi(dataRoute, async (c) => {
    await spend(c, BUDGETS.widgetData);
    const [metrics, widget] = await Promise.all([openMetrics(c), cachedWidget(c.get('services').postgres, c.get('identity')!.userId, c.req.valid('param').id)]);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    const data = await metrics.tile(widget);
    c.header('cache-control', 'no-store');
    return c.json(data, 200);
  })
  .openapi(recordsRoute, async (c) => {
    await spend(c, BUDGETS.records);
    const [metrics, widget] = await Promise.all([openMetrics(c), cachedWidget(c.get('services').postgres, c.get('identity')!.userId, c.req.valid('param').id)]);
    if (!widget) throw new ApiError('not_found', 'No such widget.');
    const { page, page_size } = c.req.valid('json') ?? { page: 1, page_size: 50 };
    return c.json(await metrics.records(widget, page, page_size), 200);
  });
