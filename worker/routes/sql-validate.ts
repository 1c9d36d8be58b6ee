import { createRoute, z } from '@hono/zod-openapi';
import { safetyPolicy } from '../metrics/index.ts';
import { newApp } from '../http/app.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import { problems } from '../http/schemas.ts';
import { MAX_SQL_LENGTH, checkSql } from '../sqlgen/safety.ts';

const SAFETY_CODES = ['multiple_statements', 'not_select', 'table_not_allowed', 'forbidden_construct', 'forbidden_function', 'unparseable', 'empty'] as const;

export const SqlVerdictSchema = z
  .union([
    z.object({ ok: z.literal(true), sql: z.string().openapi({ description: 'The statement as it would run (LIMIT added or lowered)' }), tables: z.array(z.string()) }),
    z.object({ ok: z.literal(false), code: z.enum(SAFETY_CODES), detail: z.string(), offending: z.string().optional() }),
  ])
  .openapi('SqlVerdict');

// A little above the safety layer's own cap, so an over-long statement gets its verdict, not a 422.
const ValidateRequestSchema = z.strictObject({ sql: z.string().max(MAX_SQL_LENGTH + 1_000) }).openapi('SqlValidateRequest');

const validateRoute = createRoute({
  method: 'post',
  path: '/v1/sql/validate',
  tags: ['sql'],
  summary: 'Run a statement through the SQL safety layer without running it (editor)',
  description:
    'Exactly one read-only SELECT over the data dictionary’s tables passes, with a bounded LIMIT. A refusal is still 200: the verdict carries a stable `code` and the offending part.',
  request: { body: { required: true, content: { 'application/json': { schema: ValidateRequestSchema } } } },
  responses: {
    200: { description: 'The verdict', content: { 'application/json': { schema: SqlVerdictSchema } } },
    ...problems(400, 401, 403, 415, 422, 429, 503),
  },
});

export const sqlValidateRoutes = newApp().openapi(validateRoute, async (c) => {
  await spend(c, BUDGETS.sqlValidate);
  const config = c.get('config');
  const verdict = checkSql(c.req.valid('json').sql, safetyPolicy(config.DATABRICKS_CATALOG, config.DATABRICKS_SCHEMA));
  return c.json(verdict, 200);
});
