import type { Metric } from '../catalog/store.ts';
import type { Filter } from '../compose/filters.ts';
import type { TimeWindow } from '../compose/window.ts';
import type { Postgres } from '../../services/postgres.ts';
import { WidgetSchema } from './schema.ts';
import type { Widget } from './schema.ts';
import { Lru } from '../../lib/lru.ts';

type Db = Pick<Postgres, 'query'>;

interface WidgetRow extends Record<string, unknown> {
  id: string;
  title: string;
  metric: unknown;
  visualization: string;
  time_window: unknown;
  filters: unknown;
  group_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, title, metric, visualization, time_window, filters, group_by, created_at, updated_at';
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

/**
 * Widgets as tile data requests read them, remembered in the isolate for a few seconds: a tile
 * refresh is the hottest path in the product, and the definition rarely changes. Changes through
 * this isolate replace or drop the entry at once; an edit through another isolate shows within
 * WIDGET_TTL_MS. Edits themselves always read the stored row (getWidget), so they never merge into
 * a stale copy.
 */
export const WIDGET_TTL_MS = 5_000;
const remembered = new Lru<string, Widget>(2_000);
const rememberKey = (ownerId: string, id: string) => `${ownerId}:${id}`;

function remember(ownerId: string, widget: Widget): void {
  remembered.set(rememberKey(ownerId, widget.id), widget, WIDGET_TTL_MS);
}

export async function cachedWidget(db: Db, ownerId: string, id: string): Promise<Widget | null> {
  const hit = remembered.get(rememberKey(ownerId, id));
  if (hit) return hit;
  const widget = await getWidget(db, ownerId, id);
  if (widget) remember(ownerId, widget);
  else remembered.delete(rememberKey(ownerId, id));
  return widget;
}

export async function createWidget(
  db: Db,
  ownerId: string,
  input: { title: string; metric: Metric; visualization: string; time_window: TimeWindow; filters: Filter[]; group_by?: string | null | undefined },
): Promise<Widget> {
  const rows = await db.query<WidgetRow>(
    `INSERT INTO widgets (owner_id, title, metric_name, metric, visualization, time_window, filters, group_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      ownerId,
      input.title,
      input.metric.name,
      JSON.stringify(metricBlock(input.metric)),
      input.visualization,
      JSON.stringify(input.time_window),
      JSON.stringify(input.filters),
      input.group_by ?? null,
    ],
  );
  const widget = toWidget(rows[0]!);
  remember(ownerId, widget);
  return widget;
}

export async function updateWidget(
  db: Db,
  ownerId: string,
  id: string,
  next: { title: string; visualization: string; time_window: TimeWindow; filters: Filter[]; group_by?: string | null | undefined },
): Promise<Widget | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<WidgetRow>(
    `UPDATE widgets SET title = $3, visualization = $4, time_window = $5, filters = $6, group_by = $7, updated_at = now()
      WHERE id = $1 AND owner_id = $2 RETURNING ${COLUMNS}`,
    [id, ownerId, next.title, next.visualization, JSON.stringify(next.time_window), JSON.stringify(next.filters), next.group_by ?? null],
  );
  const widget = rows[0] ? toWidget(rows[0]) : null;
  if (widget) remember(ownerId, widget);
  else remembered.delete(rememberKey(ownerId, id));
  return widget;
}

export async function deleteWidget(db: Db, ownerId: string, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  remembered.delete(rememberKey(ownerId, id));
  const rows = await db.query<{ id: string }>('DELETE FROM widgets WHERE id = $1 AND owner_id = $2 RETURNING id', [id, ownerId]);
  remembered.delete(rememberKey(ownerId, id));
  return rows.length > 0;
}
