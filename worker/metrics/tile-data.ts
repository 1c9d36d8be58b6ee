import { z } from '@hono/zod-openapi';
import type { Metric } from './catalog/store.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import { ApiError } from '../http/errors.ts';
import type { MetricRoute } from './routing/schema.ts';
import type { Services } from '../services/index.ts';
import type { SafetyPolicy } from '../sqlgen/allowlist.ts';
import { MAX_SQL_LENGTH } from '../sqlgen/safety.ts';
import type { Widget } from './widgets/schema.ts';
import { cacheKey, readCache, writeCache } from './cache.ts';
import type { CacheState } from './cache.ts';
import { composeSeries, orderBuckets, planBuckets } from './compose/buckets.ts';
import type { BucketPlan } from './compose/buckets.ts';
import { applyFilters, DATABRICKS_MAX_PARAMETERS } from './compose/filters-cte.ts';
import { runStatement } from '../services/statements.ts';
import { isDependencyError } from '../http/errors.ts';
import { dependencySentence } from '../http/problem.ts';
import type { QueryAnswer, TypedValue } from '../services/statements.ts';
import { bindFilters } from './compose/filters.ts';
import type { Filter } from './compose/filters.ts';
import { composeGrouped, orderGroups } from './compose/grouping.ts';
import { presentationFor } from './compose/presentation.ts';
import type { Presentation } from './compose/presentation.ts';
import { periodDelta } from './compose/delta.ts';
import { previousWindow, resolveWindow } from './compose/window.ts';
import type { ResolvedWindow } from './compose/window.ts';

export const WidgetDataSchema = z
  .object({
    widget_id: z.string(),
    metric: z.string(),
    metric_version: z.number().int(),
    source: z.enum(['postgres', 'databricks', 'template']),
    routed_to: z.enum(['postgres', 'databricks']),
    as_of: z.string(),
    cache: z.enum(['hit', 'miss', 'bypass']),
    cache_problem: z.string().optional(),
    sql: z.string(),
    duration_ms: z.number(),
    window: z.object({ start: z.string(), end: z.string() }),
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())).openapi({
      description:
        'The metric’s rows. KPI: one `value`. Grouped widgets: one `{label, value}` per allowed value of `group_by`, largest value first, then an `(other)` row when rows hold a value the dictionary does not list (or none). Line widgets of a single-value metric: one `{label, value}` per time bucket, `label` the bucket’s start as an ISO timestamp, in time order; buckets exactly cover the window, so the first and last may be partial.',
    }),
    group_by: z.string().optional().openapi({ description: 'The column the rows are grouped by, when the widget groups.' }),
    series: z
      .object({
        step: z.string().openapi({ description: 'Bucket size: 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d, 7d, 14d, 28d … or `window` for one bucket' }),
        step_ms: z.number(),
        buckets: z.number().int(),
      })
      .optional()
      .openapi({ description: 'Present when the rows are a time series: how the window was bucketed.' }),
    delta: z
      .object({
        current: z.number().nullable(),
        previous: z.number().nullable(),
        absolute: z.number().nullable(),
        relative: z.number().nullable(),
        improving: z.boolean().nullable(),
      })
      .optional(),
    live_data_unavailable: z.boolean(),
    reason: z.string().optional(),
    fallback: z.enum(['postgres', 'template']).optional(),
  })
  .openapi('WidgetData');
export type WidgetData = z.infer<typeof WidgetDataSchema>;

export interface DataContext {
  services: Services;
  dictionary: DataDictionary;
  policy: SafetyPolicy;
  qualify: (table: string) => string;
  now: Date;
  /**
   * The current data versions of lakehouse tables (their Delta versions, worker/analytics/versions.ts).
   * A Databricks-routed answer's cache key carries those of the tables it reads, so when a refresh
   * run changes a table every cached tile over it is stale at once.
   */
  tableVersions: (tables: readonly string[]) => Promise<Record<string, string>>;
}

/** The lakehouse tables a metric reads: its lineage, or every table the dictionary has when it names none. */
export function lakehouseTablesOf(metric: Pick<Metric, 'lineage'>, dictionary: DataDictionary): string[] {
  const known = dictionary.tableDefinitions.map((t) => t.name);
  const named = metric.lineage.tables.map((t) => t.split('.').at(-1)!).filter((t) => known.includes(t));
  return named.length > 0 ? [...new Set(named)].sort() : known;
}

interface SourcedAnswer extends QueryAnswer {
  source: 'postgres' | 'databricks';
  as_of: string;
  series?: { step: string; step_ms: number; buckets: number };
}

/** What tells two presentations' answers apart in the cache (nothing for the plain value). */
function presentationKey(presentation: Presentation, plan: BucketPlan | null): Record<string, unknown> {
  if (presentation.kind === 'grouped') return { g: [presentation.plan.column, presentation.plan.tables, presentation.plan.values] };
  if (presentation.kind === 'series' && plan) return { b: [plan.step, plan.buckets.length] };
  return {};
}

// Room left for the LIMIT the safety layer appends.
const DATABRICKS_BUDGET = MAX_SQL_LENGTH - 32;

/** One question to one source: the metric's query for a window and filters, through the cache. */
export async function ask(
  ctx: DataContext,
  metric: Metric,
  source: 'postgres' | 'databricks',
  window: ResolvedWindow,
  filters: readonly Filter[],
  route: MetricRoute,
  presentation: Presentation = { kind: 'value' },
): Promise<{ answer: SourcedAnswer; cache: CacheState; cacheProblem?: string }> {
  const query = metric.queries[source];
  if (!query) throw new ApiError('routing_invalid', `Metric ${metric.name} has no ${source} query.`);
  const bound = bindFilters(filters, metric.lineage.tables, ctx.dictionary);
  const params: Record<string, TypedValue> = {
    start: { value: window.start, type: 'TIMESTAMP' },
    end: { value: window.end, type: 'TIMESTAMP' },
  };
  for (const f of bound) for (const p of f.params) params[p.name] = { value: p.value, type: p.type };

  let sql: string;
  let plan: BucketPlan | null = null;
  if (presentation.kind === 'grouped') {
    const composed = composeGrouped(query, bound, presentation.plan, source, ctx.qualify);
    sql = composed.sql;
    Object.assign(params, composed.params);
  } else if (presentation.kind === 'series') {
    const filtered = applyFilters(query, bound, source, ctx.qualify);
    // Finer buckets repeat the query more often; a Databricks statement must stay within what the
    // safety layer reads and the parameters the API takes.
    const filterParams = Object.keys(params).length - 2;
    plan = planBuckets(window, (p) => {
      if (source !== 'databricks') return true;
      const candidate = composeSeries(filtered, p, source);
      return candidate.sql.length <= DATABRICKS_BUDGET && Object.keys(candidate.params).length + filterParams <= DATABRICKS_MAX_PARAMETERS;
    });
    const composed = composeSeries(filtered, plan, source);
    sql = composed.sql;
    delete params.start;
    delete params.end;
    Object.assign(params, composed.params);
  } else {
    sql = applyFilters(query, bound, source, ctx.qualify);
  }

  const versions = source === 'databricks' ? { tv: await ctx.tableVersions(lakehouseTablesOf(metric, ctx.dictionary)) } : {};
  const key = await cacheKey({ m: metric.name, v: metric.version, s: source, w: [window.start, window.end], f: filters, ...presentationKey(presentation, plan), ...versions });
  const cached = await readCache<SourcedAnswer>(ctx.services.redis, key);
  if (cached.value) return { answer: cached.value, cache: 'hit' };

  const result = await runStatement(ctx.services, { source, sql, params, timeoutMs: route.timeout_ms, policy: ctx.policy });
  const rows =
    presentation.kind === 'grouped' ? orderGroups(result.rows, presentation.plan) : presentation.kind === 'series' ? orderBuckets(result.rows) : result.rows;
  const answer: SourcedAnswer = {
    ...result,
    rows,
    source,
    as_of: new Date().toISOString(),
    ...(plan ? { series: { step: plan.step, step_ms: plan.stepMs, buckets: plan.buckets.length } } : {}),
  };
  // Writes finish after the response: the tile has its answer, and a failed write shows up as
  // the next read's cache_problem. The last good answer per question (any window) backs the
  // opt-in `template` fallback.
  ctx.services.defer(writeCache(ctx.services.redis, key, answer, route.cache_seconds));
  ctx.services.defer(writeCache(ctx.services.redis, lastGoodKey(metric, filters, presentation), answer, 7 * 86_400));
  return { answer, cache: cached.state === 'bypass' ? 'bypass' : 'miss', ...(cached.problem ? { cacheProblem: cached.problem } : {}) };
}

function lastGoodKey(metric: Metric, filters: readonly Filter[], presentation: Presentation): string {
  const base = `cc:lastgood:${metric.name}:${metric.version}:${JSON.stringify(filters)}`;
  if (presentation.kind === 'grouped') return `${base}:group:${presentation.plan.column}`;
  return presentation.kind === 'series' ? `${base}:series` : base;
}

function scalar(answer: { rows: Record<string, unknown>[] }): number | null {
  const v = answer.rows[0]?.value;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The widget's numbers: routed to the metric's source, cached, and degraded visibly when a
 * live source fails: `live_data_unavailable` with the reason, and fallback rows only when the
 * route opts in. Postgres failing on a Postgres route is a 503 (nothing to degrade to).
 */
export async function widgetData(ctx: DataContext, widget: Widget, metric: Metric, route: MetricRoute): Promise<WidgetData> {
  const window = resolveWindow(widget.time_window, ctx.now, Math.max(60, route.cache_seconds) * 1000);
  const presentation = presentationFor(widget, metric, ctx.dictionary, ctx.qualify);
  const base = {
    widget_id: widget.id,
    metric: metric.name,
    metric_version: metric.version,
    routed_to: route.source,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    ...(presentation.kind === 'grouped' ? { group_by: presentation.plan.column } : {}),
  };

  let served: Awaited<ReturnType<typeof ask>>;
  let degraded: { reason: string; fallback?: 'postgres' | 'template' } | null = null;
  try {
    served = await ask(ctx, metric, route.source, window, widget.filters, route, presentation);
  } catch (err) {
    if (!isDependencyError(err, 'databricks')) throw err;
    // The log keeps what Databricks said; the tile shows a fixed sentence for what went wrong.
    ctx.services.log.warn('live source failed', { metric: metric.name, source: route.source, error: err });
    const reason = dependencySentence(err);
    if (route.fallback === 'postgres' && metric.queries.postgres) {
      served = await ask(ctx, metric, 'postgres', window, widget.filters, route, presentation);
      degraded = { reason, fallback: 'postgres' };
    } else if (route.fallback === 'template') {
      const last = await readCache<SourcedAnswer>(ctx.services.redis, lastGoodKey(metric, widget.filters, presentation));
      return {
        ...base,
        source: 'template',
        as_of: last.value?.as_of ?? new Date(0).toISOString(),
        cache: 'bypass',
        sql: last.value?.sql ?? metric.queries[route.source] ?? '',
        duration_ms: 0,
        columns: last.value?.columns ?? [],
        rows: last.value?.rows ?? [],
        ...(last.value?.series ? { series: last.value.series } : {}),
        live_data_unavailable: true,
        reason,
        fallback: 'template',
      };
    } else {
      return {
        ...base,
        source: route.source,
        as_of: new Date().toISOString(),
        cache: 'bypass',
        sql: metric.queries[route.source] ?? '',
        duration_ms: 0,
        columns: [],
        rows: [],
        live_data_unavailable: true,
        reason,
      };
    }
  }

  const answer = served.answer;
  const out: WidgetData = {
    ...base,
    source: answer.source,
    as_of: answer.as_of,
    cache: served.cache,
    ...(served.cacheProblem ? { cache_problem: served.cacheProblem } : {}),
    sql: answer.sql,
    duration_ms: answer.durationMs,
    columns: answer.columns,
    rows: answer.rows,
    ...(answer.series ? { series: answer.series } : {}),
    live_data_unavailable: degraded !== null,
    ...(degraded ? { reason: degraded.reason, ...(degraded.fallback ? { fallback: degraded.fallback } : {}) } : {}),
  };

  if (widget.visualization === 'kpi') {
    const current = scalar(answer);
    let previous: number | null = null;
    try {
      previous = scalar((await ask(ctx, metric, answer.source, previousWindow(window), widget.filters, route)).answer);
    } catch (err) {
      if (!isDependencyError(err, 'databricks')) throw err;
    }
    out.delta = periodDelta(current, previous, metric.direction);
  }
  return out;
}
