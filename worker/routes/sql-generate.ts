import { createRoute, z } from '@hono/zod-openapi';
import { MetricNameSchema, requireActiveMetric } from '../metrics/catalog/store.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import type { Budget } from '../http/rate-limit.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { safetyPolicy } from '../metrics/index.ts';
import { runStatement } from '../services/statements.ts';
import type { QueryAnswer } from '../services/statements.ts';
import { resolveWindow } from '../metrics/index.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../http/problem.ts';
import { ProblemSchema, problems } from '../http/schemas.ts';
import { generateSql } from '../sqlgen/generator.ts';
import { GenerationRecordSchema, listGenerations } from '../sqlgen/store.ts';

/** Generated SQL that runs gets the dashboard's default window, as named parameters. */
const RUN_WINDOW = { preset: '30d' } as const;
const RUN_TIMEOUT_MS = 10_000;

const GenerateRequestSchema = z
  .strictObject({
    metric: MetricNameSchema,
    question: z.string().trim().max(2_000).optional().openapi({ description: 'What to change about the metric: a filter, a breakdown, a bucket' }),
    dry_run: z.boolean().default(true).openapi({ description: 'true: return the checked SQL without running it' }),
  })
  .openapi('SqlGenerateRequest');

const RejectCode = z.enum(['multiple_statements', 'not_select', 'table_not_allowed', 'forbidden_construct', 'forbidden_function', 'unparseable', 'empty']);

export const SqlGenerationSchema = z
  .object({
    generation_id: z.string(),
    metric: z.string(),
    metric_version: z.number().int(),
    source: z.enum(['bedrock', 'template']),
    model: z.string().nullable(),
    prompt_digest: z.string(),
    sql: z.string().openapi({ description: 'The statement as it passed the safety layer' }),
    tables: z.array(z.string()),
    tables_used: z.array(z.string()).openapi({ description: 'The tables the model said it read' }),
    explanation: z.string(),
    dry_run: z.boolean(),
    latency_ms: z.number(),
    window: z.object({ start: z.string(), end: z.string() }).optional(),
    columns: z.array(z.string()).optional(),
    rows: z.array(z.record(z.string(), z.unknown())).optional(),
    duration_ms: z.number().optional(),
  })
  .openapi('SqlGeneration');

const RefusedProblemSchema = ProblemSchema.extend({
  generation_id: z.string().optional(),
  verdict: z
    .object({
      ok: z.literal(false),
      code: RejectCode,
      detail: z.string(),
      offending: z.string().optional(),
      safety_code: RejectCode.optional().openapi({ description: 'The safety layer’s own code when the generator reports another' }),
    })
    .optional(),
}).openapi('SqlGenerationRefused');

const generateRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/sql/generate',
  tags: ['sql'],
  summary: 'Generate the Databricks SQL for a catalog metric (editor)',
  description:
    'The model writes the query from the metric, the data dictionary and the query guidelines; the safety layer judges it. A refused statement is 422 with `verdict.code` (an answer that is not a SELECT is reported as `forbidden_construct`) and is never run. A model failure is 503 `llm_unavailable`. With BUILDER_MODE=offline the answer is the metric’s own catalog query, marked `source: template`.',
  request: { body: { required: true, content: { 'application/json': { schema: GenerateRequestSchema } } } },
  responses: {
    200: { description: 'The checked SQL (and its rows unless dry_run)', content: { 'application/json': { schema: SqlGenerationSchema } } },
    422: { description: 'Request invalid, or the generated SQL refused', content: { 'application/problem+json': { schema: RefusedProblemSchema } } },
    ...problems(400, 401, 403, 404, 409, 415, 429, 503, 504),
  },
});

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  metric: MetricNameSchema.optional(),
  before: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only records older than this (the last created_at of the previous page)' }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/widgets/sql/generations',
  tags: ['sql'],
  summary: 'Every SQL generation, newest first (admin)',
  request: { query: ListQuery },
  responses: {
    200: { description: 'Generations', content: { 'application/json': { schema: z.object({ generations: z.array(GenerationRecordSchema) }) } } },
    ...problems(401, 403, 422, 503),
  },
});

export interface SqlGenerateOptions {
  limit?: Budget;
}

export function createSqlGenerateRoutes(options: SqlGenerateOptions = {}) {
  const limit = options.limit ?? BUDGETS.generate;
  return newApp()
    .openapi(generateRoute, async (c) => {
      const config = c.get('config');
      const services = c.get('services');
      const userId = c.get('identity')!.userId;
      const body = c.req.valid('json');
      await spend(c, limit);
      const metric = await requireActiveMetric(services.postgres, body.metric);
      const policy = safetyPolicy(config.DATABRICKS_CATALOG, config.DATABRICKS_SCHEMA);
      const generation = await generateSql(
        { db: services.postgres, bedrock: services.bedrock.client, mode: config.BUILDER_MODE, dictionary: bundledDictionary(), policy },
        { userId, metric, question: body.question, dryRun: body.dry_run },
      );
      const verdict = generation.verdict;
      if (!verdict.ok) {
        const problem = {
          ...problemBody('validation_failed', `The generated SQL was refused by the safety layer (${verdict.code}): ${verdict.detail}`, c.get('requestId')),
          generation_id: generation.record.id,
          verdict,
        };
        return c.json(problem, 422, { 'Content-Type': PROBLEM_CONTENT_TYPE });
      }

      let ran: { window: { start: string; end: string }; answer: QueryAnswer } | undefined;
      if (!body.dry_run) {
        const window = resolveWindow(RUN_WINDOW, new Date());
        // A Databricks failure is answered by the error handler (databricks_unavailable or dependency_timeout).
        const params = { start: { value: window.start, type: 'TIMESTAMP' }, end: { value: window.end, type: 'TIMESTAMP' } };
        const answer = await runStatement(services, { source: 'databricks', sql: verdict.sql, params, timeoutMs: RUN_TIMEOUT_MS, policy });
        ran = { window: { start: window.start.toISOString(), end: window.end.toISOString() }, answer };
      }
      c.header('cache-control', 'no-store');
      return c.json(
        {
          generation_id: generation.record.id,
          metric: metric.name,
          metric_version: metric.version,
          source: generation.source,
          model: generation.model,
          prompt_digest: generation.promptDigest,
          sql: verdict.sql,
          tables: verdict.tables,
          tables_used: generation.tablesUsed,
          explanation: generation.explanation,
          dry_run: body.dry_run,
          latency_ms: generation.latencyMs,
          ...(ran ? { window: ran.window, columns: ran.answer.columns, rows: ran.answer.rows, duration_ms: ran.answer.durationMs } : {}),
        },
        200,
      );
    })
    .openapi(listRoute, async (c) => {
      const query = c.req.valid('query');
      const generations = await listGenerations(c.get('services').postgres, { limit: query.limit, metric: query.metric, before: query.before });
      return c.json({ generations }, 200);
    });
}

export const sqlGenerateRoutes = createSqlGenerateRoutes();
