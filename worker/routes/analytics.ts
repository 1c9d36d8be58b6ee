import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import {
  AnalyticsMetaSchema,
  BreakdownDataSchema,
  DIMENSIONS,
  FilterQueryShape,
  GRANULARITIES,
  MEASURE_NAMES,
  openAnalytics,
  SummaryDataSchema,
  TrendDataSchema,
} from '../analytics/index.ts';

const answerOf = <T extends z.ZodType>(data: T, name: string) => z.object({ data: data.nullable(), meta: AnalyticsMetaSchema }).openapi(name);

const DEGRADED =
  'When the lakehouse fails the answer is still 200, with `data: null`, `meta.live_data_unavailable: true` and the reason. Every change names the window it compares with (`meta.compared_with`): the equal window before, or for a period to date the same elapsed part of the previous period.';

const summaryRoute = createRoute({
  method: 'get',
  path: '/v1/analytics/summary',
  tags: ['analytics'],
  summary: 'KPI snapshot against the compared window: contacts, handle time, CSAT, NPS, FCR, transfer and repeat-contact rates',
  description: `Catalog metrics (avg_handle_time, csat_avg, first_contact_resolution, repeat_contact_rate) use the catalog’s definition, so tiles agree. ${DEGRADED}`,
  request: { query: z.strictObject(FilterQueryShape) },
  responses: { 200: jsonContent(answerOf(SummaryDataSchema, 'AnalyticsSummary'), 'The snapshot'), ...problems(401, 422, 503) },
});

const trendsRoute = createRoute({
  method: 'get',
  path: '/v1/analytics/trends',
  tags: ['analytics'],
  summary: 'One measure as a time series, each point beside the same position in the compared window',
  description: DEGRADED,
  request: {
    query: z.strictObject({
      ...FilterQueryShape,
      metric: z.enum(MEASURE_NAMES).optional().openapi({ description: 'The measure (default contacts)' }),
      granularity: z.enum(GRANULARITIES).optional().openapi({ description: 'Bucket size, calendar-aligned in UTC, weeks from Monday (default day)' }),
    }),
  },
  responses: { 200: jsonContent(answerOf(TrendDataSchema, 'AnalyticsTrend'), 'The series'), ...problems(401, 409, 422, 503) },
});

const breakdownsRoute = createRoute({
  method: 'get',
  path: '/v1/analytics/breakdowns',
  tags: ['analytics'],
  summary: 'Every KPI per channel, issue type, customer region or agent team, against the compared window',
  description: `The groups’ contacts add up to the summary’s. ${DEGRADED}`,
  request: { query: z.strictObject({ ...FilterQueryShape, by: z.enum(DIMENSIONS).openapi({ description: 'The dimension' }) }) },
  responses: { 200: jsonContent(answerOf(BreakdownDataSchema, 'AnalyticsBreakdown'), 'The breakdown'), ...problems(401, 422, 503) },
});

export const analyticsRoutes = newApp()
  .openapi(summaryRoute, async (c) => {
    const analytics = await openAnalytics(c);
    return c.json(await analytics.summary(c.req.valid('query')), 200);
  })
  .openapi(trendsRoute, async (c) => {
    const analytics = await openAnalytics(c);
    const query = c.req.valid('query');
    return c.json(await analytics.trend(query, query.metric ?? 'contacts', query.granularity ?? 'day'), 200);
  })
  .openapi(breakdownsRoute, async (c) => {
    const analytics = await openAnalytics(c);
    const query = c.req.valid('query');
    return c.json(await analytics.breakdown(query, query.by), 200);
  });
