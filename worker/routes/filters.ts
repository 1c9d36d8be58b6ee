import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import { FilterOptionsSchema, openAnalytics } from '../analytics/index.ts';

const route = createRoute({
  method: 'get',
  path: '/v1/filters/options',
  tags: ['analytics'],
  summary: 'What the analytics filters can offer: regions, channels, issue types, teams, agents, value ranges, the data’s date bounds',
  description:
    'Read from the lakehouse and cached (15 minutes), so no page scans the data for its dropdowns. When the lakehouse fails, the dictionary’s listed values are served with `meta.source: "dictionary"` and `live_data_unavailable`.',
  request: { query: z.strictObject({}) },
  responses: {
    200: jsonContent(
      z
        .object({
          data: FilterOptionsSchema,
          meta: z.object({
            as_of: z.string(),
            cache: z.enum(['hit', 'miss', 'bypass']),
            source: z.enum(['databricks', 'dictionary']),
            live_data_unavailable: z.boolean(),
            reason: z.string().optional(),
          }),
        })
        .openapi('FilterOptions'),
      'The options',
    ),
    ...problems(401, 422, 503),
  },
});

export const filterOptionRoutes = newApp().openapi(route, async (c) => {
  const analytics = await openAnalytics(c);
  return c.json(await analytics.options(), 200);
});
