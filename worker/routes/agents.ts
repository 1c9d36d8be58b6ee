import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import { AnalyticsMetaSchema, DEFAULT_MIN_CONTACTS, FilterQueryShape, LeaderboardEntrySchema, openAnalytics } from '../analytics/index.ts';

const SORT_FIELDS = ['name', 'contacts', 'avg_handle_time', 'csat_avg', 'first_contact_resolution', 'transfer_rate'] as const;
const SORTS = SORT_FIELDS.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];

const route = createRoute({
  method: 'get',
  path: '/v1/agents',
  tags: ['analytics'],
  summary: 'Agents (or teams) leaderboard: contacts, handle time, CSAT, FCR and transfer rate with ranks and percentile badges',
  description: `Entries with fewer than \`min_contacts\` contacts (default ${DEFAULT_MIN_CONTACTS}) are listed but not ranked. Badges: top_10_percent, top_quartile, bottom_quartile, by each measure’s direction. Same filters as the calls list. When the lakehouse fails the answer is 200 with \`data: null\` and \`meta.live_data_unavailable\`.`,
  request: {
    query: z.strictObject({
      ...FilterQueryShape,
      group: z.enum(['agent', 'team']).optional().openapi({ description: 'Rank agents (default) or teams' }),
      min_contacts: z
        .string()
        .regex(/^\d{1,6}$/, 'Expected a whole number')
        .refine((v) => Number(v) >= 1 && Number(v) <= 100_000, 'Expected 1 to 100000')
        .optional(),
      sort: z.enum(SORTS).optional().openapi({ description: 'A measure or name, `-` for descending (default -contacts); unranked entries sort last' }),
    }),
  },
  responses: {
    200: jsonContent(
      z
        .object({ data: z.array(LeaderboardEntrySchema).nullable(), meta: AnalyticsMetaSchema.extend({ min_contacts: z.number().int(), group: z.string() }) })
        .openapi('AgentsLeaderboard'),
      'The leaderboard',
    ),
    ...problems(401, 422, 503),
  },
});

export const agentRoutes = newApp().openapi(route, async (c) => {
  const analytics = await openAnalytics(c);
  const query = c.req.valid('query');
  const minContacts = query.min_contacts === undefined ? DEFAULT_MIN_CONTACTS : Number(query.min_contacts);
  return c.json(await analytics.agents(query, query.group ?? 'agent', minContacts, query.sort ?? '-contacts'), 200);
});
