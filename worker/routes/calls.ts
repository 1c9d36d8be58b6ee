import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import { CallDetailSchema, CallSchema, EXPORT_COLUMNS, EXPORT_MAX_ROWS, FilterQueryShape, openAnalytics, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, SORTS } from '../analytics/index.ts';

const SortParam = z.enum(SORTS).optional().openapi({ description: 'Sort key, `-` for descending; ties break on interaction_id. Default -started_at. Unanswered CSAT sorts below 1.' });

const ListQuery = z.strictObject({
  ...FilterQueryShape,
  sort: SortParam,
  'page[size]': z
    .string()
    .regex(/^\d{1,3}$/, 'Expected a whole number')
    .refine((v) => Number(v) >= 1 && Number(v) <= PAGE_SIZE_MAX, `Expected 1 to ${PAGE_SIZE_MAX}`)
    .optional()
    .openapi({ description: `Rows per page, 1-${PAGE_SIZE_MAX} (default ${PAGE_SIZE_DEFAULT})` }),
  'page[after]': z.string().max(1_000).optional().openapi({ description: 'The opaque cursor from `links.next`; valid only with the same sort and filters' }),
  'page[before]': z.string().max(1_000).optional().openapi({ description: 'The opaque cursor from `links.prev`: the page before; same rules as page[after], and not with it' }),
});

const ExportQuery = z.strictObject({ ...FilterQueryShape, sort: SortParam });

const CallsPageSchema = z
  .object({
    data: z.array(CallSchema),
    meta: z.object({
      has_more: z.boolean(),
      total: z.number().int().openapi({ description: 'Contacts matching the filters in the window (equals the summary’s contacts)' }),
      page_size: z.number().int(),
      sort: z.enum(SORTS),
      window: z.object({ start: z.string(), end: z.string() }).openapi({ description: 'The window the first page resolved; later pages keep it' }),
      filters: z.record(z.string(), z.string()),
      as_of: z.string(),
      cache: z.enum(['hit', 'miss', 'bypass']),
      source: z.literal('databricks'),
    }),
    links: z.object({
      self: z.string(),
      next: z.string().nullable(),
      prev: z.string().nullable().openapi({ description: 'The page before this one (keyset backwards, a signed cursor like next); null on the first page' }),
    }),
  })
  .openapi('CallsPage');

const listRoute = createRoute({
  method: 'get',
  path: '/v1/calls',
  tags: ['analytics'],
  summary: 'Support contacts from the lakehouse, filtered, sorted, cursor-paginated',
  description:
    'Keyset pagination: `links.next` and `links.prev` carry a signed cursor bound to this sort and these filters (another sort or filter set, or an edited cursor, is 422). Page 500 reads what page 1 reads. Lakehouse down: 503 databricks_unavailable.',
  request: { query: ListQuery },
  responses: { 200: jsonContent(CallsPageSchema, 'A page of contacts'), ...problems(401, 422, 503) },
});

const exportRoute = createRoute({
  method: 'get',
  path: '/v1/calls/export',
  tags: ['analytics'],
  summary: `The filtered contacts as CSV, streamed, at most ${EXPORT_MAX_ROWS.toLocaleString('en-US')} rows`,
  description: `Comment lines starting with \`#\` name the as-of time, window, filters, sort and row count before the header (${EXPORT_COLUMNS.join(', ')}).`,
  request: { query: ExportQuery },
  responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...problems(401, 422, 503) },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/v1/calls/{id}',
  tags: ['analytics'],
  summary: 'One contact with its agent, customer, device, and the customer’s claims and sessions around it',
  request: { params: z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, 'Expected a contact id').openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: jsonContent(CallDetailSchema.extend({ as_of: z.string(), cache: z.enum(['hit', 'miss', 'bypass']) }).openapi('CallDetailAnswer'), 'The contact'),
    ...problems(401, 404, 422, 503),
  },
});

export const callRoutes = newApp()
  .openapi(listRoute, async (c) => {
    const analytics = await openAnalytics(c);
    return c.json(await analytics.calls(c.req.valid('query'), new URL(c.req.url)), 200);
  })
  .openapi(exportRoute, async (c) => {
    const analytics = await openAnalytics(c);
    return (await analytics.exportCalls(c.req.valid('query'))) as never;
  })
  .openapi(detailRoute, async (c) => {
    const analytics = await openAnalytics(c);
    return c.json(await analytics.call(c.req.valid('param').id), 200);
  });
