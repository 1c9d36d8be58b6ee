import { z } from '@hono/zod-openapi';
import type { Postgres } from '../services/postgres.ts';

export const METRIC_UNITS = ['count', 'usd', 'seconds', 'percent', 'score', 'points'] as const;
export const METRIC_DIRECTIONS = ['higher_is_better', 'lower_is_better'] as const;
export const METRIC_SOURCES = ['postgres', 'databricks'] as const;

export const LineageSchema = z
  .object({
    tables: z.array(z.string()),
    columns: z.array(z.string()),
  })
  .openapi('MetricLineage');

export const MetricSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/),
    display_name: z.string(),
    description: z.string(),
    unit: z.enum(METRIC_UNITS),
    direction: z.enum(METRIC_DIRECTIONS),
    owner: z.string(),
    lineage: LineageSchema,
    queries: z.object({ postgres: z.string().optional(), databricks: z.string().optional() }),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Metric');

export type Metric = z.infer<typeof MetricSchema>;

interface MetricRow extends Record<string, unknown> {
  name: string;
  display_name: string;
  description: string;
  unit: string;
  direction: string;
  owner: string;
  lineage: unknown;
  queries: unknown;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/** Rows are parsed, not cast: a bad row in the catalog is an error, not a silently wrong tile. */
function toMetric(row: MetricRow): Metric {
  return MetricSchema.parse({ ...row, created_at: iso(row.created_at), updated_at: iso(row.updated_at) });
}

export async function listMetrics(db: Pick<Postgres, 'query'>): Promise<Metric[]> {
  const rows = await db.query<MetricRow>(
    `SELECT name, display_name, description, unit, direction, owner, lineage, queries, version, created_at, updated_at
       FROM metrics WHERE retired_at IS NULL ORDER BY name`,
  );
  return rows.map(toMetric);
}
