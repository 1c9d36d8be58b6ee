import { z } from '@hono/zod-openapi';
import { ERROR_CODES } from './errors.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES as [string, ...string[]]),
    request_id: z.string(),
    errors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** The problem+json responses a route can give, for its OpenAPI declaration. */
export function problems<S extends number>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>;
  for (const status of statuses) {
    out[status] = {
      description: 'Problem details (RFC 9457)',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    };
  }
  return out;
}

/** A JSON response for a route's OpenAPI declaration. */
export function jsonContent<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A required JSON request body for a route's OpenAPI declaration. */
export function jsonBody<T>(schema: T) {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}
