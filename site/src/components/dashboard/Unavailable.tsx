import type { WidgetData } from '../../lib/dashboard-data.ts';
import { SOURCE_LABEL } from '../badges.tsx';

/**
 * A live source failed and the route has no fallback: there are no numbers to draw, and an
 * empty chart would read as "nothing happened". Say so in a leader's words, keep the technical
 * reason one click away, and let the next refresh recover the tile.
 */
export function Unavailable({ data }: { data: Pick<WidgetData, 'source' | 'reason'> }) {
  return (
    <div class="unavailable" data-testid="unavailable">
      <p>{SOURCE_LABEL[data.source]} is not answering; this recovers by itself.</p>
      {data.reason && (
        <details>
          <summary>Why</summary>
          <p>{data.reason}</p>
        </details>
      )}
    </div>
  );
}

export const unavailable = (data: WidgetData) => data.live_data_unavailable && data.rows.length === 0;
