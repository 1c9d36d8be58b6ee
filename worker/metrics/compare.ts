import { z } from '@hono/zod-openapi';
import type { Metric } from './catalog/store.ts';
import { resolveWindow } from './compose/window.ts';
import type { TimeWindow } from './compose/window.ts';
import type { MetricRoute } from './routing/schema.ts';
import { ask } from './tile-data.ts';
import type { DataContext } from './tile-data.ts';
import { ApiError, isDependencyError } from '../http/errors.ts';
import { dependencySentence } from '../http/problem.ts';

export const CompareSchema = z
  .object({
    metric: z.string(),
    window: z.object({ start: z.string(), end: z.string() }),
    postgres: z.object({ value: z.number().nullable(), duration_ms: z.number(), sql: z.string() }),
    databricks: z.object({ value: z.number().nullable(), duration_ms: z.number(), sql: z.string(), error: z.string().optional() }),
    drift: z.number().nullable().openapi({ description: '(databricks − postgres) / |postgres|' }),
  })
  .openapi('MetricCompare');
export type Comparison = z.infer<typeof CompareSchema>;

/** Both sources' answer to the same question, and how far the lakehouse drifts from Postgres. */
export async function compareSources(ctx: DataContext, metric: Metric, route: MetricRoute, preset: TimeWindow): Promise<Comparison> {
  if (!metric.queries.postgres || !metric.queries.databricks) {
    throw new ApiError('conflict', `Metric ${metric.name} does not have both a Postgres and a Databricks query.`);
  }
  const window = resolveWindow(preset, ctx.now);
  const pg = (await ask(ctx, metric, 'postgres', window, [], route)).answer;
  let dbx: Comparison['databricks'];
  try {
    const answer = (await ask(ctx, metric, 'databricks', window, [], route)).answer;
    dbx = { value: numberOf(answer.rows[0]?.value), duration_ms: answer.durationMs, sql: answer.sql };
  } catch (err) {
    if (!isDependencyError(err, 'databricks')) throw err;
    ctx.services.log.warn('live source failed', { metric: metric.name, source: 'databricks', error: err });
    dbx = { value: null, duration_ms: 0, sql: metric.queries.databricks, error: dependencySentence(err) };
  }
  const pgValue = numberOf(pg.rows[0]?.value);
  const drift = pgValue !== null && dbx.value !== null && pgValue !== 0 ? (dbx.value - pgValue) / Math.abs(pgValue) : null;
  return {
    metric: metric.name,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    postgres: { value: pgValue, duration_ms: pg.durationMs, sql: pg.sql },
    databricks: dbx,
    drift,
  };
}

function numberOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
