import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../http/app.ts';
import { jsonContent, problems } from '../http/schemas.ts';
import { ManifestSchema, readManifest } from '../analytics/manifest.ts';
import { followRefresh, RefreshRunSchema, startRefresh } from '../analytics/refresh.ts';
import { hydrateAfterRefresh } from '../signals/after-refresh.ts';

const RefreshAnswerSchema = z.object({ data: RefreshRunSchema }).openapi('RefreshAnswer');

const manifestRoute = createRoute({
  method: 'get',
  path: '/v1/settings/manifest',
  tags: ['analytics'],
  summary: 'The data manifest: per lakehouse table its Delta version, last change, size, files, rows and how stale its newest data is',
  description:
    'From DESCRIBE DETAIL, DESCRIBE HISTORY and a count per table; cached for 30 seconds under the tables’ versions, so a refresh shows at once. Lakehouse down: 503 databricks_unavailable.',
  request: { query: z.strictObject({}) },
  responses: { 200: jsonContent(ManifestSchema, 'The manifest'), ...problems(401, 422, 503, 504) },
});

const startRoute = createRoute({
  method: 'post',
  path: '/v1/settings/refresh',
  tags: ['analytics'],
  summary: 'Start the lakehouse refresh job (admins): 202 with the run to follow',
  description:
    'Runs the Databricks job `DATABRICKS_REFRESH_JOB_NAME` (support_l3_refresh) through the Jobs API. While a run of it is active, 409 conflict with a Location header pointing at that run. When a run succeeds, every cached analytics answer over the tables it changed is stale at once.',
  responses: {
    202: { ...jsonContent(RefreshAnswerSchema, 'The run, started'), headers: z.object({ location: z.string() }) },
    ...problems(401, 403, 409, 503, 504),
  },
});

const followRoute = createRoute({
  method: 'get',
  path: '/v1/settings/refresh/{run_id}',
  tags: ['analytics'],
  summary: 'A refresh run’s state, until it ends (`done`); after a success, the tables’ new versions',
  request: {
    params: z.object({ run_id: z.string().regex(/^\d{1,18}$/, 'Expected a Databricks run id').openapi({ param: { name: 'run_id', in: 'path' } }) }),
  },
  responses: { 200: jsonContent(RefreshAnswerSchema, 'The run'), ...problems(401, 404, 422, 503, 504) },
});

export const settingsRoutes = newApp()
  .openapi(manifestRoute, async (c) => c.json(await readManifest(c), 200))
  .openapi(startRoute, async (c) => {
    const run = await startRefresh(c);
    return c.json({ data: run }, 202, { location: run.links.self });
  })
  .openapi(followRoute, async (c) => {
    const run = await followRefresh(c, Number(c.req.valid('param').run_id));
    // New marts come with every successful refresh: the signals follow them.
    if (run.done && run.result === 'SUCCESS') hydrateAfterRefresh(c, run.run_id);
    return c.json({ data: run }, 200);
  });
