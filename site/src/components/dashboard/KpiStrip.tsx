import type { Kpi } from '../../lib/dashboard-data.ts';
import type { MetricInfo } from '../badges.tsx';
import { KpiCard } from './KpiCard.tsx';

/** The key indicators, one card each. */
export function KpiStrip({ kpis, metrics, onRetry }: { kpis: Kpi[]; metrics: Record<string, MetricInfo>; onRetry: (metric: string) => void }) {
  return (
    <section aria-labelledby="kpi-title">
      <h2 id="kpi-title">Key indicators</h2>
      <ul class="kpis" data-testid="kpi-strip">
        {kpis.map((k) => (
          <KpiCard key={k.metric} kpi={k} info={metrics[k.metric]} onRetry={() => onRetry(k.metric)} />
        ))}
      </ul>
    </section>
  );
}
