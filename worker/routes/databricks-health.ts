import { createRoute, z } from '@hono/zod-openapi';
import { isDatabricksError } from '../services/databricks/client.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const TABLE = 'claims';

const route = createRoute({
  method: 'get',
  path: '/v1/databricks/health',
  tags: ['operations'],
  summary: 'Sample a lakehouse table: rows read and latency',
  responses: {
    200: {
      description: 'Sampled',
      content: {
        'application/json': {
          schema: z.object({ status: z.literal('ok'), table: z.string(), rows_sampled: z.number(), latency_ms: z.number(), mode: z.string() }).openapi('DatabricksHealth'),
        },
      },
    },
    ...problems(401, 503),
  },
});

export const databricksHealthRoutes = newApp().openapi(route, async (c) => {
  const databricks = c.get('services').databricks;
  if (!databricks.client) throw new ApiError('databricks_unavailable', 'Databricks is not configured on this server.');
  try {
    const result = await databricks.client.health(TABLE, { timeoutMs: 10_000, sampleRows: 100 });
    return c.json({ status: 'ok' as const, table: result.table, rows_sampled: result.rowsSampled, latency_ms: result.latencyMs, mode: databricks.mode }, 200);
  } catch (err) {
    const reason = isDatabricksError(err) ? `${err.kind}: ${err.message}` : String(err);
    throw new ApiError('databricks_unavailable', `Databricks did not answer the sample: ${reason}`);
  }
});
