import type { Loaded, Trend } from '../../lib/analytics-data.ts';
import { SourceBadge } from '../badges.tsx';
import { TrendChart } from '../trend-chart.tsx';
import { TileSkeleton } from '../dashboard/skeletons.tsx';
import { LiveUnavailable, provenance } from './LiveState.tsx';
import { comparedWith } from './SummaryCards.tsx';
import { formatMeasure, measuresOf } from './measures.ts';

const GRANULARITY_WORDS: Record<string, string> = { hour: 'by hour', day: 'by day', week: 'by week', month: 'by month' };

/** One measure over the window, the compared window dashed beneath it; the measure is chosen here. */
export function TrendPanel({ trend, metric, onMetric }: { trend: Loaded<Trend> | undefined; metric: string; onMetric: (name: string) => void }) {
  const meta = trend?.ok ? trend.value.meta : undefined;
  const measures = measuresOf(meta);
  const measure = measures.find((m) => m.name === metric) ?? measures[0]!;
  const compared = meta ? comparedWith(meta) : null;
  const data = trend?.ok ? trend.value.data : null;
  return (
    <section class="card trend-panel" aria-labelledby="trend-title" aria-busy={trend === undefined ? 'true' : undefined} data-testid="trend" data-state={trend === undefined ? 'loading' : !trend.ok ? 'failed' : data ? 'ready' : 'unavailable'}>
      <div class="section-head">
        <h2 id="trend-title">
          Trend{data && <span class="sub"> · {GRANULARITY_WORDS[data.granularity] ?? data.granularity} (UTC)</span>}
        </h2>
        <label class="inline">
          <span class="visually-hidden">Measure</span>
          <select value={measure.name} onChange={(e) => onMetric((e.target as HTMLSelectElement).value)} data-testid="trend-measure">
            {measures.map((m) => (
              <option key={m.name} value={m.name}>{m.label}</option>
            ))}
          </select>
        </label>
      </div>
      {trend === undefined ? (
        <TileSkeleton visualization="line" label={`Loading the ${measure.label} trend…`} />
      ) : !trend.ok ? (
        <LiveUnavailable problem={trend} />
      ) : data === null ? (
        <LiveUnavailable meta={trend.value.meta} />
      ) : (
        <>
          <ul class="legend trend-legend">
            <li><span class="key current" aria-hidden="true" />This period</li>
            {compared && (
              <li><span class="key previous" aria-hidden="true" />{compared.words} ({compared.range})</li>
            )}
          </ul>
          <TrendChart points={data.points} title={measure.label} unit={measure.unit} format={(v) => formatMeasure(v, measure.unit)} hourly={data.granularity === 'hour'} />
        </>
      )}
      {meta && (
        <div class="tile-foot">
          <SourceBadge data={provenance(meta)} />
        </div>
      )}
    </section>
  );
}
