import { z } from 'zod';

export const SOURCES = ['postgres', 'databricks'] as const;
export const FALLBACKS = ['none', 'postgres', 'template'] as const;

const RouteFields = {
  cache_seconds: z.number().int().min(0).max(86_400),
  timeout_ms: z.number().int().min(100).max(120_000),
  fallback: z.enum(FALLBACKS),
};

export const MetricRouteSchema = z.strictObject({
  source: z.enum(SOURCES),
  cache_seconds: RouteFields.cache_seconds.optional(),
  timeout_ms: RouteFields.timeout_ms.optional(),
  fallback: RouteFields.fallback.optional(),
});

/** config/metric_routing.yaml, validated; unknown keys are typos, and typos are errors. */
export const RoutingFileSchema = z.strictObject({
  version: z.literal(1),
  defaults: z.strictObject({
    cache_seconds: RouteFields.cache_seconds.default(60),
    timeout_ms: RouteFields.timeout_ms.default(5_000),
    fallback: RouteFields.fallback.default('none'),
  }),
  metrics: z.record(z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'metric names are snake_case'), MetricRouteSchema),
});

export type RoutingFile = z.infer<typeof RoutingFileSchema>;

export interface MetricRoute {
  source: (typeof SOURCES)[number];
  cache_seconds: number;
  timeout_ms: number;
  fallback: (typeof FALLBACKS)[number];
}
