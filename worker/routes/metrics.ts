import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateMetricSchema,
  MetricNameSchema,
  MetricSchema,
  MetricVersionSchema,
  UpdateMetricSchema,
  createMetric,
  definitionOf,
  getMetric,
  listMetrics,
  type MetricDefinition,
  metricHistory,
  requireActiveMetric,
  retireMetric,
  updateMetric,
} from '../metrics/catalog/store.ts';
import { validateDefinition } from '../metrics/catalog/validate.ts';
import { bundledDictionary } from '../config/bundled.ts';
import type { Config } from '../config/env.ts';
import type { Postgres } from '../services/postgres.ts';
import { newApp } from '../http/app.ts';
import { CompareSchema, admissionProblems, groupableColumns, openMetrics, safetyPolicy } from '../metrics/index.ts';
import { ApiError } from '../http/errors.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';

const ListedMetricSchema = MetricSchema.extend({
  groupable: z.array(z.string()).openapi({
    description: 'Columns a widget of this metric may `group_by`: categorical dictionary columns of its tables with at most 24 allowed values. Empty for metrics that already return label rows.',
  }),
}).openapi('ListedMetric');
export const ListMetricsResponseSchema = z.object({ metrics: z.array(ListedMetricSchema) }).openapi('MetricList');
const NameParam = z.object({ name: MetricNameSchema.openapi({ param: { name: 'name', in: 'path' } }) });
const ListQuery = z.strictObject({ include_retired: z.enum(['true', 'false']).optional() });


const listRoute = createRoute({
  method: 'get',
  path: '/v1/metrics',
  tags: ['catalog'],
  summary: 'List the metrics of the catalog',
  request: { query: ListQuery },
  responses: { 200: jsonContent(ListMetricsResponseSchema, 'The catalog'), ...problems(401, 422, 503) },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/metrics/{name}',
  tags: ['catalog'],
  summary: 'One metric, retired or not',
  request: { params: NameParam },
  responses: { 200: jsonContent(MetricSchema, 'The metric'), ...problems(401, 404, 422, 503) },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/v1/metrics/{name}/history',
  tags: ['catalog'],
  summary: 'Every definition the metric has had, newest first',
  request: { params: NameParam },
  responses: { 200: jsonContent(z.object({ versions: z.array(MetricVersionSchema) }), 'History'), ...problems(401, 404, 422, 503) },
});

const createMetricRoute = createRoute({
  method: 'post',
  path: '/v1/metrics',
  tags: ['catalog'],
  summary: 'Add a metric (admin)',
  description: 'Lineage must name dictionary tables and columns; the Databricks query must pass the SQL safety layer; the Postgres query must plan.',
  request: { body: { required: true, content: { 'application/json': { schema: CreateMetricSchema } } } },
  responses: { 201: jsonContent(MetricSchema, 'Created'), ...problems(400, 401, 403, 409, 415, 422, 503) },
});

const updateMetricRoute = createRoute({
  method: 'patch',
  path: '/v1/metrics/{name}',
  tags: ['catalog'],
  summary: 'Change a metric (admin); the version goes up and the old definition stays in history',
  request: { params: NameParam, body: { required: true, content: { 'application/json': { schema: UpdateMetricSchema } } } },
  responses: { 200: jsonContent(MetricSchema, 'Changed'), ...problems(400, 401, 403, 404, 415, 422, 503) },
});

const retireRoute = createRoute({
  method: 'delete',
  path: '/v1/metrics/{name}',
  tags: ['catalog'],
  summary: 'Retire a metric (admin); its history and existing widgets remain',
  request: { params: NameParam },
  responses: { 200: jsonContent(MetricSchema, 'Retired'), ...problems(401, 403, 404, 422, 503) },
});

const compareRoute = createRoute({
  method: 'get',
  path: '/v1/metrics/{name}/compare',
  tags: ['catalog'],
  summary: 'Run the Postgres and the Databricks query side by side and report their drift (admin)',
  request: { params: NameParam, query: z.strictObject({ window: z.enum(['24h', '7d', '30d', '90d', 'mtd']).default('30d') }) },
  responses: { 200: jsonContent(CompareSchema, 'Both values'), ...problems(401, 403, 404, 409, 422, 503) },
});

/**
 * A definition is stored only when it can run and the routing this worker was deployed with can
 * serve it; otherwise the write is refused and nothing already stored changes.
 */
async function mustRun(config: Config, postgres: Postgres, routingText: string, name: string, def: MetricDefinition): Promise<void> {
  const policy = safetyPolicy(config.DATABRICKS_CATALOG, config.DATABRICKS_SCHEMA);
  const found = await validateDefinition(def, bundledDictionary(), policy, postgres);
  if (found.length > 0) throw new ApiError('validation_failed', 'The metric definition cannot run as written.', { errors: found });
  const unroutable = admissionProblems(routingText, { name, queries: def.queries });
  if (unroutable.length > 0) {
    throw new ApiError('validation_failed', `Metric ${name} cannot be served by the deployed routing; add its route first.`, { errors: unroutable });
  }
}

export const metricRoutes = newApp()
  .openapi(listRoute, async (c) => {
    const metrics = await listMetrics(c.get('services').postgres, { includeRetired: c.req.valid('query').include_retired === 'true' });
    const config = c.get('config');
    const qualify = (table: string) => `${config.DATABRICKS_CATALOG}.${config.DATABRICKS_SCHEMA}.${table}`;
    const dictionary = bundledDictionary();
    return c.json({ metrics: metrics.map((m) => ({ ...m, groupable: groupableColumns(m, dictionary, qualify) })) }, 200);
  })
  .openapi(getRoute, async (c) => {
    const metric = await getMetric(c.get('services').postgres, c.req.valid('param').name);
    if (!metric) throw new ApiError('not_found', `No metric named ${c.req.valid('param').name}.`);
    return c.json(metric, 200);
  })
  .openapi(historyRoute, async (c) => {
    const { name } = c.req.valid('param');
    const db = c.get('services').postgres;
    if (!(await getMetric(db, name))) throw new ApiError('not_found', `No metric named ${name}.`);
    return c.json({ versions: await metricHistory(db, name) }, 200);
  })
  .openapi(createMetricRoute, async (c) => {
    const { name, ...def } = c.req.valid('json');
    await mustRun(c.get('config'), c.get('services').postgres, c.get('routingText'), name, def);
    const metric = await createMetric(c.get('services').postgres, name, def, c.get('identity')!.userId);
    return c.json(metric, 201);
  })
  .openapi(updateMetricRoute, async (c) => {
    const { name } = c.req.valid('param');
    const db = c.get('services').postgres;
    const current = await requireActiveMetric(db, name);
    const next = { ...definitionOf(current), ...c.req.valid('json') };
    await mustRun(c.get('config'), db, c.get('routingText'), name, next);
    return c.json(await updateMetric(db, name, next, c.get('identity')!.userId), 200);
  })
  .openapi(retireRoute, async (c) => {
    const metric = await retireMetric(c.get('services').postgres, c.req.valid('param').name);
    if (!metric) throw new ApiError('not_found', `No metric named ${c.req.valid('param').name}.`);
    return c.json(metric, 200);
  })
  .openapi(compareRoute, async (c) => {
    const metrics = await openMetrics(c);
    return c.json(await metrics.compare(c.req.valid('param').name, { preset: c.req.valid('query').window }), 200);
  });
