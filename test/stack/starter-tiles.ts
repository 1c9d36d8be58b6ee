import { Client } from '@neondatabase/serverless';

/**
 * Tiles a local user starts with under `npm run dev`, so the first sign-in shows a working
 * dashboard: both sources, a grouped bar, time series, a pie and a table. Only users without any
 * tile get them; what a user changes afterwards is theirs. Test stacks never call this.
 */
const STARTER_TILES = [
  { title: 'NPS impact by channel', metric: 'nps_impact', visualization: 'bar', window: '7d', groupBy: 'channel' },
  { title: 'Claims filed per day', metric: 'claim_volume', visualization: 'line', window: '30d', groupBy: null },
  { title: 'NPS impact per 6 hours', metric: 'nps_impact', visualization: 'line', window: '7d', groupBy: null },
  { title: 'Claim status mix', metric: 'claim_status_mix', visualization: 'pie', window: '30d', groupBy: null },
  { title: 'Claims by product', metric: 'claims_by_product', visualization: 'table', window: '30d', groupBy: null },
] as const;

export async function ensureStarterTiles(databaseUrl: string, emails: readonly string[]): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let added = 0;
  try {
    for (const email of emails) {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; tiles: number }>(
        'SELECT u.id, (SELECT count(*)::int FROM widgets w WHERE w.owner_id = u.id) AS tiles FROM users u WHERE u.email = $1 FOR UPDATE',
        [email],
      );
      const user = rows[0];
      if (user && user.tiles === 0) {
        for (const t of STARTER_TILES) {
          // The metric block is the catalog's current definition, as the API would embed it.
          const inserted = await client.query(
            `INSERT INTO widgets (owner_id, title, metric_name, metric, visualization, time_window, filters, group_by)
             SELECT $1, $2, m.name,
                    jsonb_build_object('name', m.name, 'version', m.version, 'display_name', m.display_name, 'unit', m.unit, 'direction', m.direction),
                    $3, jsonb_build_object('preset', $4::text), '[]'::jsonb, $5
               FROM metrics m WHERE m.name = $6 AND m.retired_at IS NULL`,
            [user.id, t.title, t.visualization, t.window, t.groupBy, t.metric],
          );
          added += inserted.rowCount ?? 0;
        }
      }
      await client.query('COMMIT');
    }
    return added;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
