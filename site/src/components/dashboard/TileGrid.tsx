import { useRef } from 'preact/hooks';
import type { Tile } from '../../lib/dashboard-data.ts';
import { TILE_WIDTHS, tileState, widthOf } from '../../lib/tile-layout.ts';
import type { Sizes } from '../../lib/tile-layout.ts';
import type { MetricInfo } from '../badges.tsx';
import { TileContent } from './TileContent.tsx';

interface Props {
  tiles: Tile[];
  sizes: Sizes;
  metrics: Record<string, MetricInfo>;
  canEdit: boolean;
  onMove: (from: number, to: number) => void;
  onResize: (id: string, step: 1 | -1) => void;
  onRows: (tile: Tile) => void;
  onRetry: (id: string) => void;
}

/** The user's tiles in their layout; an editor reorders them by drag and drop or ↑/↓, and resizes them with +/−. */
export function TileGrid({ tiles, sizes, metrics, canEdit, onMove, onResize, onRows, onRetry }: Props) {
  const dragged = useRef<number | null>(null);
  return (
    <section aria-labelledby="tiles-title">
      <h2 id="tiles-title">Your tiles</h2>
      {tiles.length === 0 && (
        <p class="empty">
          {canEdit
            ? 'No tiles yet. Choose “Add tile” and describe one in words, for example “claims by product over the last 30 days as a bar chart”.'
            : 'No tiles on your dashboard. The key indicators above stay live; an editor can build tiles of their own.'}
        </p>
      )}
      <ol class="tiles" data-testid="tiles">
        {tiles.map((t, i) => {
          const width = widthOf(sizes, t.widget.id);
          return (
            <li
              key={t.widget.id}
              class={`tile card w-${width}${t.pending ? (t.data ? ' refreshing' : ' loading') : ''}`}
              data-widget={t.widget.id}
              data-width={width}
              data-state={tileState(t)}
              aria-busy={t.pending ? 'true' : undefined}
              draggable={canEdit}
              onDragStart={() => (dragged.current = i)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (dragged.current !== null) onMove(dragged.current, i);
                dragged.current = null;
              }}
            >
              <TileContent tile={t} info={metrics[t.widget.metric.name]} onRows={() => onRows(t)} onRetry={() => onRetry(t.widget.id)} />
              {canEdit && (
                <div class="reorder">
                  <button type="button" onClick={() => onResize(t.widget.id, -1)} disabled={width === TILE_WIDTHS[0]} aria-label={`Make ${t.widget.title} narrower`}>−</button>
                  <button type="button" onClick={() => onResize(t.widget.id, 1)} disabled={width === TILE_WIDTHS.at(-1)} aria-label={`Make ${t.widget.title} wider`}>+</button>
                  <button type="button" onClick={() => onMove(i, i - 1)} disabled={i === 0} aria-label={`Move ${t.widget.title} earlier`}>↑</button>
                  <button type="button" onClick={() => onMove(i, i + 1)} disabled={i === tiles.length - 1} aria-label={`Move ${t.widget.title} later`}>↓</button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
