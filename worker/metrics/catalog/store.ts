import { z } from '@hono/zod-openapi';
import { ApiError } from '../../http/errors.ts';
import type { Postgres } from '../../services/postgres.ts';
import { invalidateCatalog } from './snapshot.ts';

export const METRIC_UNITS = ['count', 'usd', 'seconds', 'percent', 'score', 'points'] as const;
export const METRIC_DIRECTIONS = ['higher_is_better', 'lower_is_better'] as const;

type Db = Pick<Postgres, 'query'>;

export const MetricNameSchema = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'metric names are snake_case, 2-63 characters');

export const LineageSchema = z
  .strictObject({
    tables: z.array(z.string().max(128)).max(20),
    columns: z.array(z.string().max(256)).max(200),
  })
  .openapi('MetricLineage');

export const MetricQueriesSchema = z
  .strictObject({
    postgres: z.string().min(1).max(8_000).optional(),
    databricks: z.string().min(1).max(8_000).optional(),
  })
  .openapi('MetricQueries');

export const MetricSchema = z
  .object({
    name: MetricNameSchema,
    display_name: z.string(),
    description: z.string(),
    unit: z.enum(METRIC_UNITS),
    direction: z.enum(METRIC_DIRECTIONS),
    owner: z.string(),
    lineage: LineageSchema,
    queries: MetricQueriesSchema,
    version: z.number().int(),
    retired_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Metric');

export type Metric = z.infer<typeof MetricSchema>;

/** What an admin may set; name is the key and never changes. */
export const MetricDefinitionSchema = z.strictObject({
  display_name: z.string().trim().min(1).max(120),
  description: z.string().trim().min(1).max(2_000),
  unit: z.enum(METRIC_UNITS),
  direction: z.enum(METRIC_DIRECTIONS),
  owner: z.string().trim().min(1).max(120),
  lineage: LineageSchema,
  queries: MetricQueriesSchema.refine((q) => q.postgres || q.databricks, 'a metric needs a query for at least one source'),
});
export type MetricDefinition = z.infer<typeof MetricDefinitionSchema>;

export const CreateMetricSchema = MetricDefinitionSchema.extend({ name: MetricNameSchema }).openapi('CreateMetric');
export const UpdateMetricSchema = MetricDefinitionSchema.partial()
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change')
  .openapi('UpdateMetric');

export const MetricVersionSchema = z
  .object({
    version: z.number().int(),
    definition: MetricDefinitionSchema,
    changed_by: z.string().nullable(),
    changed_at: z.string(),
  })
  .openapi('MetricVersion');

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
  retired_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string): string => new Date(v).toISOString();
const COLUMNS = 'name, display_name, description, unit, direction, owner, lineage, queries, version, retired_at, created_at, updated_at';

/** Rows are parsed, not cast: a bad row in the catalog is an error, not a silently wrong tile. */
function toMetric(row: MetricRow): Metric {
  return MetricSchema.parse({
    ...row,
    retired_at: row.retired_at === null ? null : iso(row.retired_at),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  });
}

export function definitionOf(m: Metric): MetricDefinition {
  return {
    display_name: m.display_name,
    description: m.description,
    unit: m.unit,
    direction: m.direction,
    owner: m.owner,
    lineage: m.lineage,
    queries: m.queries,
  };
}

export async function listMetrics(db: Db, options: { includeRetired?: boolean } = {}): Promise<Metric[]> {
  const rows = await db.query<MetricRow>(
    `SELECT ${COLUMNS} FROM metrics ${options.includeRetired ? '' : 'WHERE retired_at IS NULL'} ORDER BY name`,
  );
  return rows.map(toMetric);
}

export async function getMetric(db: Db, name: string): Promise<Metric | null> {
  const rows = await db.query<MetricRow>(`SELECT ${COLUMNS} FROM metrics WHERE name = $1`, [name]);
  return rows[0] ? toMetric(rows[0]) : null;
}

export async function requireActiveMetric(db: Db, name: string): Promise<Metric> {
  const metric = await getMetric(db, name);
  if (!metric) throw new ApiError('not_found', `No metric named ${name}.`);
  if (metric.retired_at) throw new ApiError('conflict', `Metric ${name} was retired on ${metric.retired_at}.`);
  return metric;
}

/** Insert and first history row in one transaction. */
export async function createMetric(db: Pick<Postgres, 'transaction'>, name: string, def: MetricDefinition, userId: string): Promise<Metric> {
  return db.transaction(async (tx) => {
    const existing = await tx.query<{ name: string }>('SELECT name FROM metrics WHERE name = $1', [name]);
    if (existing.length > 0) throw new ApiError('conflict', `A metric named ${name} already exists.`);
    const rows = await tx.query<MetricRow>(
      `INSERT INTO metrics (name, display_name, description, unit, direction, owner, lineage, queries)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [name, def.display_name, def.description, def.unit, def.direction, def.owner, JSON.stringify(def.lineage), JSON.stringify(def.queries)],
    );
    await tx.query('INSERT INTO metric_versions (metric_name, version, definition, changed_by) VALUES ($1, 1, $2, $3)', [
      name,
      JSON.stringify(def),
      userId,
    ]);
    return toMetric(rows[0]!);
  }).finally(invalidateCatalog);
}

/** A change bumps the version and keeps the new definition in metric_versions. */
export async function updateMetric(
  db: Pick<Postgres, 'transaction'>,
  name: string,
  next: MetricDefinition,
  userId: string,
): Promise<Metric> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<MetricRow>(
      `UPDATE metrics SET display_name = $2, description = $3, unit = $4, direction = $5, owner = $6, lineage = $7,
              queries = $8, version = version + 1, updated_at = now()
        WHERE name = $1 AND retired_at IS NULL RETURNING ${COLUMNS}`,
      [name, next.display_name, next.description, next.unit, next.direction, next.owner, JSON.stringify(next.lineage), JSON.stringify(next.queries)],
    );
    const row = rows[0];
    if (!row) throw new ApiError('not_found', `No active metric named ${name}.`);
    await tx.query('INSERT INTO metric_versions (metric_name, version, definition, changed_by) VALUES ($1, $2, $3, $4)', [
      name,
      row.version,
      JSON.stringify(next),
      userId,
    ]);
    return toMetric(row);
  }).finally(invalidateCatalog);
}

export async function retireMetric(db: Db, name: string): Promise<Metric | null> {
  const rows = await db.query<MetricRow>(
    `UPDATE metrics SET retired_at = COALESCE(retired_at, now()), updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`,
    [name],
  );
  invalidateCatalog();
  return rows[0] ? toMetric(rows[0]) : null;
}

export async function metricHistory(db: Db, name: string): Promise<z.infer<typeof MetricVersionSchema>[]> {
  const rows = await db.query<{ version: number; definition: unknown; changed_by: string | null; changed_at: Date | string }>(
    'SELECT version, definition, changed_by, changed_at FROM metric_versions WHERE metric_name = $1 ORDER BY version DESC',
    [name],
  );
  return rows.map((r) => ({
    version: r.version,
    definition: MetricDefinitionSchema.parse(r.definition),
    changed_by: r.changed_by,
    changed_at: iso(r.changed_at),
  }));
}
