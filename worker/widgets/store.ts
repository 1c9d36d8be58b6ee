import type { Metric } from '../catalog/metrics.ts';
import type { Filter } from '../data/filters.ts';
import type { TimeWindow } from '../data/window.ts';
import type { Postgres } from '../services/postgres.ts';
import { WidgetSchema } from './schema.ts';
import type { Widget } from './schema.ts';

type Db = Pick<Postgres, 'query'>;

interface WidgetRow extends Record<string, unknown> {
  id: string;
  title: string;
  metric: unknown;
  visualization: string;
  time_window: unknown;
  filters: unknown;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, title, metric, visualization, time_window, filters, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toWidget(row: WidgetRow): Widget {
  return WidgetSchema.parse({ ...row, created_at: new Date(row.created_at).toISOString(), updated_at: new Date(row.updated_at).toISOString() });
}

export function metricBlock(m: Metric) {
  return { name: m.name, version: m.version, display_name: m.display_name, unit: m.unit, direction: m.direction };
}

export async function listWidgets(db: Db, ownerId: string): Promise<Widget[]> {
  const rows = await db.query<WidgetRow>(`SELECT ${COLUMNS} FROM widgets WHERE owner_id = $1 ORDER BY created_at`, [ownerId]);
  return rows.map(toWidget);
}

/** Another user's widget is indistinguishable from a missing one. */
export async function getWidget(db: Db, ownerId: string, id: string): Promise<Widget | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<WidgetRow>(`SELECT ${COLUMNS} FROM widgets WHERE id = $1 AND owner_id = $2`, [id, ownerId]);
  return rows[0] ? toWidget(rows[0]) : null;
}

export async function createWidget(
  db: Db,
  ownerId: string,
  input: { title: string; metric: Metric; visualization: string; time_window: TimeWindow; filters: Filter[] },
): Promise<Widget> {
  const rows = await db.query<WidgetRow>(
    `INSERT INTO widgets (owner_id, title, metric_name, metric, visualization, time_window, filters)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [ownerId, input.title, input.metric.name, JSON.stringify(metricBlock(input.metric)), input.visualization, JSON.stringify(input.time_window), JSON.stringify(input.filters)],
  );
  return toWidget(rows[0]!);
}

export async function updateWidget(
  db: Db,
  ownerId: string,
  id: string,
  next: { title: string; visualization: string; time_window: TimeWindow; filters: Filter[] },
): Promise<Widget | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<WidgetRow>(
    `UPDATE widgets SET title = $3, visualization = $4, time_window = $5, filters = $6, updated_at = now()
      WHERE id = $1 AND owner_id = $2 RETURNING ${COLUMNS}`,
    [id, ownerId, next.title, next.visualization, JSON.stringify(next.time_window), JSON.stringify(next.filters)],
  );
  return rows[0] ? toWidget(rows[0]) : null;
}

export async function deleteWidget(db: Db, ownerId: string, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const rows = await db.query<{ id: string }>('DELETE FROM widgets WHERE id = $1 AND owner_id = $2 RETURNING id', [id, ownerId]);
  return rows.length > 0;
}
