import type { Kpi } from '../../lib/dashboard-data.ts';
import { MetricInfoBadge, SourceBadge } from '../badges.tsx';
import type { MetricInfo } from '../badges.tsx';
import { formatNumber } from '../charts.tsx';
import { KpiSkeleton } from './skeletons.tsx';
import { Unavailable, unavailable } from './Unavailable.tsx';

/** One key indicator: its value, the change against the previous period, and where it came from. */
export function KpiCard({ kpi: k, info, onRetry }: { kpi: Kpi; info: MetricInfo | undefined; onRetry: () => void }) {
  if (!k.data) {
    return (
      <li class={`kpi card${k.pending ? ' loading' : ''}`} data-metric={k.metric} data-state={k.pending ? 'loading' : 'failed'} aria-busy={k.pending ? 'true' : undefined}>
        <div class="kpi-head">
          <h3 title={k.display_name}>{k.display_name}</h3>
        </div>
        {k.pending ? (
          <KpiSkeleton label={`Loading ${k.display_name}…`} />
        ) : (
          <>
            <p class="kpi-value" data-testid="kpi-value">—</p>
            <p class="problem" role="alert">{k.problem ?? 'Not available right now.'}</p>
            <button type="button" class="link" onClick={onRetry}>Retry<span class="visually-hidden"> {k.display_name}</span></button>
          </>
        )}
      </li>
    );
  }
  const value = k.data.rows[0]?.value;
  const d = k.data.delta;
  return (
    <li class={`kpi card${k.pending ? ' refreshing' : ''}`} data-metric={k.metric} data-state={k.pending ? 'refreshing' : 'ready'} aria-busy={k.pending ? 'true' : undefined}>
      <div class="kpi-head">
        <h3 title={k.display_name}>{k.display_name}</h3>
        <MetricInfoBadge metric={info} sql={k.data.sql} />
      </div>
      <p class="kpi-value" data-testid="kpi-value">{typeof value === 'number' ? formatNumber(value, k.unit) : '—'}</p>
      {unavailable(k.data) ? (
        <Unavailable data={k.data} />
      ) : d && d.relative !== null ? (
        <p class={`delta ${d.improving === null ? 'flat' : d.improving ? 'good' : 'bad'}`}>
          <span aria-hidden="true">{d.relative > 0 ? '▲' : d.relative < 0 ? '▼' : '■'}</span>{' '}
          {Math.abs(d.relative * 100).toFixed(1)}% <span class="visually-hidden">{d.improving ? 'better' : 'worse'} than the previous period</span>
        </p>
      ) : (
        <p class="delta flat">No comparison</p>
      )}
      <SourceBadge data={k.data} />
      {k.pending && <span class="refresh-note">Refreshing…</span>}
      {!k.pending && k.problem && <p class="problem" role="alert">Could not refresh: {k.problem}</p>}
    </li>
  );
}
