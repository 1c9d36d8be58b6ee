import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { DependencyError } from '../http/errors.ts';
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
    ...problems(401, 503, 504),
  },
});

export const databricksHealthRoutes = newApp().openapi(route, async (c) => {
  const databricks = c.get('services').databricks;
  if (!databricks.client) throw new DependencyError('databricks', 'not_configured', 'Databricks is not configured on this server.');
  // A failure is the client's DependencyError: the error handler answers it (503, or 504 on a timeout).
  const result = await databricks.client.health(TABLE, { timeoutMs: 10_000, sampleRows: 100 });
  return c.json({ status: 'ok' as const, table: result.table, rows_sampled: result.rowsSampled, latency_ms: result.latencyMs, mode: databricks.mode }, 200);
});
