import { z } from '@hono/zod-openapi';
import { METRIC_DIRECTIONS, METRIC_UNITS, MetricNameSchema } from '../catalog/store.ts';
import { FilterSchema } from '../compose/filters.ts';
import { TimeWindowSchema } from '../compose/window.ts';

export const VISUALIZATIONS = ['kpi', 'line', 'bar', 'table', 'pie'] as const;

const VISUALIZATION_DESCRIPTION =
  'kpi: one number with the delta against the previous equal window. line: for a metric that returns one value, a time series — the metric computed per time bucket of the window (5-minute buckets for 1h, hourly for 24h, 6-hourly for 7d, daily for 30d and mtd, weekly for 90d; at most 32), one `{label, value}` row per bucket; a metric whose query is not measured over the window (no :start/:end) cannot be a line. bar, pie, table: the metric’s rows, or its groups with `group_by`.';

const GroupBySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/)
  .nullable()
  .openapi({
    description:
      'Split the metric by a categorical data-dictionary column of one of its tables — one with a listed set of at most 24 allowed values (GET /v1/metrics lists each metric’s `groupable` columns). The metric is computed once per allowed value, with filters still applied, giving one `{label, value}` row per value, largest first, and a last `(other)` row when rows hold a value the dictionary does not list (or none). For bar, pie and table widgets of metrics that return a single value; not for kpi or line widgets, nor for metrics that already return label rows.',
    example: 'region',
  });

/** The metric definition block a widget carries (ADR-007 in the reference design). */
export const WidgetMetricSchema = z
  .object({
    name: MetricNameSchema,
    version: z.number().int(),
    display_name: z.string(),
    unit: z.enum(METRIC_UNITS),
    direction: z.enum(METRIC_DIRECTIONS),
  })
  .openapi('WidgetMetric');

export const WidgetSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    metric: WidgetMetricSchema,
    visualization: z.enum(VISUALIZATIONS).openapi({ description: VISUALIZATION_DESCRIPTION }),
    time_window: TimeWindowSchema,
    filters: z.array(FilterSchema),
    group_by: GroupBySchema.optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Widget');
export type Widget = z.infer<typeof WidgetSchema>;

export const CreateWidgetSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(120),
    metric: MetricNameSchema,
    visualization: z.enum(VISUALIZATIONS).openapi({ description: VISUALIZATION_DESCRIPTION }),
    time_window: TimeWindowSchema.default({ preset: '30d' }),
    filters: z.array(FilterSchema).max(10).default([]),
    group_by: GroupBySchema.optional(),
  })
  .openapi('CreateWidget');

export const UpdateWidgetSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(120).optional(),
    visualization: z.enum(VISUALIZATIONS).optional().openapi({ description: VISUALIZATION_DESCRIPTION }),
    time_window: TimeWindowSchema.optional(),
    filters: z.array(FilterSchema).max(10).optional(),
    group_by: GroupBySchema.optional().openapi({ description: 'A column to group by, or null to stop grouping; omitted keeps the current grouping.' }),
  })
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change')
  .openapi('UpdateWidget');
