import { useEffect } from 'preact/hooks';
import { REFRESH_BUDGET_MS, loadState } from '../lib/dashboard-data.ts';
import type { DashboardState } from '../lib/dashboard-data.ts';
import { LayoutUpdateSchema } from '../lib/live-updates.ts';
import { store } from '../lib/store.ts';
import type { MetricInfo } from './badges.tsx';
import type { ColumnInfoMap } from '../lib/column-info.ts';
import { ConnectionIndicator } from './dashboard/ConnectionIndicator.tsx';
import { KpiStrip } from './dashboard/KpiStrip.tsx';
import { LiveFeed } from './dashboard/LiveFeed.tsx';
import { SignalsPanel } from './signals/SignalsPanel.tsx';
import { RecordsDialog, useRecordsDialog } from './dashboard/RecordsDialog.tsx';
import { TileGrid } from './dashboard/TileGrid.tsx';
import { useKpis } from './dashboard/use-kpis.ts';
import { useLayout } from './dashboard/use-layout.ts';
import { useRefresh } from './dashboard/use-refresh.ts';
import { useTiles } from './dashboard/use-tiles.ts';

export type { DashboardState } from '../lib/dashboard-data.ts';

interface Props {
  userId: string;
  initial: DashboardState;
  metrics: Record<string, MetricInfo>;
  canEdit: boolean;
  /** Headers for the Rows dialog, from the dictionary. */
  columns: ColumnInfoMap;
}

/**
 * The live dashboard: the server-rendered state, kept current by the hub's stream (KPI updates,
 * events) through the page's store, with tiles a user can reorder by drag and drop or keyboard.
 * The server renders what it had within its time budget; whatever it marked pending shows as a
 * skeleton of its shape and is fetched here, one request per KPI or tile, so a slow source holds
 * back only its own tiles.
 */
export default function Dashboard({ userId, initial, metrics, canEdit, columns }: Props) {
  const kpis = useKpis(initial.kpis);
  const tiles = useTiles(initial.tiles);
  const layout = useLayout(initial.layout, tiles.tiles, tiles.reorder, reload);
  const records = useRecordsDialog();

  /**
   * After a layout change elsewhere, a snapshot from the hub, and now and then. What the server
   * could not answer within the budget keeps its current numbers on screen, marked as refreshing,
   * instead of blanking; only a tile with nothing to show yet becomes a skeleton.
   */
  async function reload() {
    const loaded = await loadState(REFRESH_BUDGET_MS);
    if (!loaded.ok) return;
    kpis.reloaded(loaded.value.kpis);
    // A read that started before this tab's last save answers an older layout: keep the newer one.
    if (!layout.accepts(loaded.value.layout)) return;
    tiles.reloaded(loaded.value.tiles);
    layout.reloaded(loaded.value.layout, loaded.value.tiles);
  }

  const degraded = kpis.kpis.some((k) => k.data?.live_data_unavailable) || tiles.tiles.some((t) => t.data?.live_data_unavailable);
  useRefresh(degraded, reload);

  useEffect(() => {
    const hub = store();
    const offLayout = hub.subscribe('layout_update', ({ data }) => {
      const update = LayoutUpdateSchema.safeParse(data);
      if (update.success && update.data.user_id === userId && update.data.version > layout.version()) void reload();
    });
    // The hub's log no longer covers what this page missed: start again from the server's state.
    const offSnapshot = hub.subscribe('snapshot', () => void reload());
    return () => {
      offLayout();
      offSnapshot();
    };
  }, []);

  return (
    <div class="dashboard">
      <ConnectionIndicator />
      {layout.notice && <p class="notice" role="alert">{layout.notice}</p>}
      <KpiStrip kpis={kpis.kpis} metrics={metrics} onRetry={kpis.retry} />
      <TileGrid
        tiles={tiles.tiles}
        sizes={layout.sizes}
        metrics={metrics}
        canEdit={canEdit}
        onMove={layout.move}
        onResize={layout.resize}
        onRows={(t) => void records.open(t)}
        onRetry={tiles.retry}
      />
      <SignalsPanel />
      <LiveFeed />
      <RecordsDialog {...records.dialog} columns={columns} />
    </div>
  );
}
