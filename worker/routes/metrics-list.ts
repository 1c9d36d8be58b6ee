import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../lib/app.ts';
import { problems } from '../lib/schemas.ts';
import { MetricSchema, listMetrics } from '../catalog/metrics.ts';

export const ListMetricsResponseSchema = z
  .object({ metrics: z.array(MetricSchema) })
  .openapi('MetricList');

const route = createRoute({
  method: 'get',
  path: '/v1/metrics',
  tags: ['catalog'],
  summary: 'List the active metrics of the catalog',
  responses: {
    200: { description: 'The catalog', content: { 'application/json': { schema: ListMetricsResponseSchema } } },
    ...problems(503),
  },
});

export const metricsListRoutes = newApp().openapi(route, async (c) => {
  const metrics = await listMetrics(c.get('services').postgres);
  return c.json({ metrics }, 200);
});
