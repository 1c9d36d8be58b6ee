import type { Loaded } from './dashboard-data.ts';

/**
 * How long an analytics page's first paint waits for the lakehouse, as the dashboard does: an
 * answer from the cache arrives well inside it, a miss (100–300 ms, up to the route's deadline
 * when Databricks struggles) would hold the whole page. What is not ready renders as a skeleton
 * and the island asks for it; the server lets the started request finish so that ask usually
 * finds it cached.
 */
export const FIRST_PAINT_BUDGET_MS = 150;

interface Answer {
  status: number;
  json(): Promise<unknown>;
}

/** A server-side API answer as data or a sentence (with the problem's code), like the islands' loaders. */
async function settled<T>(res: Promise<Answer>): Promise<Loaded<T>> {
  try {
    const answer = await res;
    const body = (await answer.json().catch(() => undefined)) as { detail?: unknown; code?: unknown } | undefined;
    if (answer.status === 200 && body !== undefined) return { ok: true, value: body as T };
    return {
      ok: false,
      problem: typeof body?.detail === 'string' ? body.detail : `The server answered ${answer.status}.`,
      ...(typeof body?.code === 'string' ? { code: body.code } : {}),
    };
  } catch {
    return { ok: false, problem: 'The server could not answer.' };
  }
}

/**
 * Each request settled, or `undefined` when it had not answered within the budget. They all
 * share one deadline, and keep running after it (`waitUntil`) to fill the cache.
 */
export async function firstView<T extends Record<string, Promise<Answer> | undefined>>(
  requests: T,
  ctx: { waitUntil(p: Promise<unknown>): void },
  budgetMs = FIRST_PAINT_BUDGET_MS,
): Promise<{ [K in keyof T]: Loaded<unknown> | undefined }> {
  const deadline = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), budgetMs));
  const entries = await Promise.all(
    Object.entries(requests).map(async ([key, req]) => {
      if (!req) return [key, undefined] as const;
      const done = settled(req);
      ctx.waitUntil(done);
      return [key, await Promise.race([done, deadline])] as const;
    }),
  );
  return Object.fromEntries(entries) as never;
}
