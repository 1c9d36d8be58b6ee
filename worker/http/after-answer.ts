import type { Context } from 'hono';

/**
 * Hands work that must finish, but need not hold up the answer, to the request's waitUntil.
 * Without an execution context (the app called directly, as unit tests do) there is nothing to
 * outlive the request, so the work is awaited before the answer instead.
 */
export async function afterAnswer(c: Context, work: Promise<unknown>): Promise<void> {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    await work;
  }
}
