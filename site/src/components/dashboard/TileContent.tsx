import type { Tile } from '../../lib/dashboard-data.ts';
import { MetricInfoBadge, SourceBadge } from '../badges.tsx';
import type { MetricInfo } from '../badges.tsx';
import { BarChart, DataTable, LineChart, PieChart, formatNumber } from '../charts.tsx';
import { TileSkeleton } from './skeletons.tsx';
import { Unavailable, unavailable } from './Unavailable.tsx';

/** A tile's head, then its chart (or skeleton, or problem with Retry), then where the numbers came from and Rows. */
export function TileContent({ tile: t, info, onRows, onRetry }: { tile: Tile; info: MetricInfo | undefined; onRows: () => void; onRetry: () => void }) {
  const head = (
    <div class="tile-head">
      <h3>{t.widget.title}</h3>
      {t.data && <MetricInfoBadge metric={info} sql={t.data.sql} />}
    </div>
  );
  if (!t.data) {
    return (
      <>
        {head}
        {t.pending ? (
          <TileSkeleton visualization={t.widget.visualization} label={`Loading ${t.widget.title}…`} />
        ) : (
          <div class="tile-problem">
            <p class="notice error">{t.problem}</p>
            {t.retryable && <button type="button" onClick={onRetry}>Retry<span class="visually-hidden"> {t.widget.title}</span></button>}
          </div>
        )}
      </>
    );
  }
  return (
    <>
      {head}
      <div class="tile-body">
        <TileBody tile={t} />
      </div>
      {!t.pending && t.problem && <p class="problem" role="alert">Could not refresh: {t.problem}</p>}
      <div class="tile-foot">
        <SourceBadge data={t.data} />
        {t.pending ? <span class="refresh-note">Refreshing…</span> : <button type="button" class="link" onClick={onRows}>Rows</button>}
      </div>
    </>
  );
}

function TileBody({ tile }: { tile: Tile }) {
  const data = tile.data!;
  const title = tile.widget.title;
  if (unavailable(data)) return <Unavailable data={data} />;
  switch (tile.widget.visualization) {
    case 'kpi': {
      const v = data.rows[0]?.value;
      return <p class="kpi-value">{typeof v === 'number' ? formatNumber(v, tile.widget.metric.unit) : '—'}</p>;
    }
    case 'bar':
      return <BarChart rows={data.rows} title={title} />;
    case 'pie':
      return <PieChart rows={data.rows} title={title} />;
    case 'line':
      return <LineChart rows={data.rows} title={title} />;
    default:
      return <DataTable rows={data.rows} columns={data.columns} />;
  }
}
