// The request body of POST /api/2.0/sql/statements, validated as strictly as the real service does:
// wrong types, out-of-range waits and unknown fields are a 400 before anything runs.
import { z } from 'zod';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier');

export const statementParameter = z.strictObject({
  name: identifier,
  /** Omitted or null binds SQL NULL. */
  value: z.string().nullable().optional(),
  type: z.string().min(1).optional(),
});

export const executeStatementRequest = z.strictObject({
  statement: z.string().trim().min(1, 'statement must not be empty').max(16 * 1024 * 1024),
  warehouse_id: z.string().min(1),
  catalog: identifier.optional(),
  schema: identifier.optional(),
  parameters: z.array(statementParameter).max(256).optional(),
  wait_timeout: z
    .string()
    .regex(/^\d+s$/, 'must look like "10s"')
    .refine((value) => {
      const seconds = Number.parseInt(value, 10);
      return seconds === 0 || (seconds >= 5 && seconds <= 50);
    }, 'must be 0s or between 5s and 50s')
    .optional(),
  on_wait_timeout: z.enum(['CONTINUE', 'CANCEL']).optional(),
  disposition: z.enum(['INLINE', 'EXTERNAL_LINKS']).optional(),
  format: z.enum(['JSON_ARRAY', 'ARROW_STREAM', 'CSV']).optional(),
  row_limit: z.number().int().positive().optional(),
  byte_limit: z.number().int().positive().optional(),
});

export type StatementParameter = z.infer<typeof statementParameter>;
export type ExecuteStatementRequest = z.infer<typeof executeStatementRequest>;

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
