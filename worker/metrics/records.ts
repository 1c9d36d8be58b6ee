import { z } from '@hono/zod-openapi';
import type { Metric } from './catalog/store.ts';
import { applyFilters } from './compose/filters-cte.ts';
import { bindFilters } from './compose/filters.ts';
import { resolveWindow } from './compose/window.ts';
import type { MetricRoute } from './routing/schema.ts';
import type { DataContext } from './tile-data.ts';
import type { Widget } from './widgets/schema.ts';
import { ApiError } from '../http/errors.ts';
import { runStatement } from '../services/statements.ts';
import type { TypedValue } from '../services/statements.ts';

export const RecordsSchema = z
  .object({
    widget_id: z.string(),
    source: z.enum(['postgres', 'databricks']),
    table: z.string(),
    window: z.object({ start: z.string(), end: z.string() }),
    page: z.number(),
    page_size: z.number(),
    has_more: z.boolean(),
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
    sql: z.string(),
  })
  .openapi('WidgetRecords');
export type Records = z.infer<typeof RecordsSchema>;

/**
 * The rows behind a tile's number: the metric's first lineage table, in the tile's window and
 * filters, on the routed source, newest first by the table's time column.
 */
export async function tileRecords(
  ctx: DataContext,
  widget: Widget,
  metric: Metric,
  route: MetricRoute,
  page: number,
  pageSize: number,
): Promise<Records> {
  const table = metric.lineage.tables[0];
  const tableDef = table ? ctx.dictionary.table(table) : undefined;
  if (!table || !tableDef) throw new ApiError('conflict', `Metric ${metric.name} has no table to drill into.`);
  const lineageTime = metric.lineage.columns
    .map((col) => col.split('.'))
    .find(([t, name]) => t === table && ctx.dictionary.column(t, name!)?.type.kind === 'TIMESTAMP')?.[1];
  const timeColumn = lineageTime ?? tableDef.columns.find((col) => col.type.kind === 'TIMESTAMP')?.name;
  if (!timeColumn) throw new ApiError('conflict', `Metric ${metric.name} has no time column to drill by.`);

  const window = resolveWindow(widget.time_window, ctx.now, Math.max(60, route.cache_seconds) * 1000);
  const bound = bindFilters(widget.filters, [table], ctx.dictionary);
  const source = route.source;
  const from = source === 'postgres' ? table : ctx.qualify(table);
  // One row more than the page tells whether another page exists.
  const base = `SELECT * FROM ${from} WHERE ${timeColumn} >= :start AND ${timeColumn} < :end ORDER BY ${timeColumn} DESC LIMIT ${pageSize + 1} OFFSET ${(page - 1) * pageSize}`;
  const sql = applyFilters(base, bound, source, ctx.qualify);
  const params: Record<string, TypedValue> = {
    start: { value: window.start, type: 'TIMESTAMP' },
    end: { value: window.end, type: 'TIMESTAMP' },
  };
  for (const f of bound) for (const p of f.params) params[p.name] = { value: p.value, type: p.type };
  // Records have no fallback: a source's failure is answered by the error handler (503, or 504 on a timeout).
  const answer = await runStatement(ctx.services, { source, sql, params, timeoutMs: route.timeout_ms, policy: ctx.policy });
  return {
    widget_id: widget.id,
    source,
    table,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    page,
    page_size: pageSize,
    has_more: answer.rows.length > pageSize,
    columns: answer.columns,
    rows: answer.rows.slice(0, pageSize),
    sql: answer.sql,
  };
}
