import { z } from '@hono/zod-openapi';
import { METRIC_DIRECTIONS, METRIC_UNITS, MetricNameSchema } from '../catalog/metrics.ts';
import { FilterSchema } from '../data/filters.ts';
import { TimeWindowSchema } from '../data/window.ts';

export const VISUALIZATIONS = ['kpi', 'line', 'bar', 'table', 'pie'] as const;

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
    visualization: z.enum(VISUALIZATIONS),
    time_window: TimeWindowSchema,
    filters: z.array(FilterSchema),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Widget');
export type Widget = z.infer<typeof WidgetSchema>;

export const CreateWidgetSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(120),
    metric: MetricNameSchema,
    visualization: z.enum(VISUALIZATIONS),
    time_window: TimeWindowSchema.default({ preset: '30d' }),
    filters: z.array(FilterSchema).max(10).default([]),
  })
  .openapi('CreateWidget');

export const UpdateWidgetSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(120).optional(),
    visualization: z.enum(VISUALIZATIONS).optional(),
    time_window: TimeWindowSchema.optional(),
    filters: z.array(FilterSchema).max(10).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change')
  .openapi('UpdateWidget');
