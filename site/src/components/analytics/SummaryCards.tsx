import type { AnalyticsMeta, Kpi, Loaded, Summary } from '../../lib/analytics-data.ts';
import { shortDay } from '../../lib/format.ts';
import { SourceBadge } from '../badges.tsx';
import { KpiSkeleton } from '../dashboard/skeletons.tsx';
import { formatAbsolute, formatMeasure, formatRelative, measuresOf } from './measures.ts';
import type { MeasureView } from './measures.ts';
import { LiveUnavailable, provenance } from './LiveState.tsx';

/** "the 30 days before: 1–30 Nov 2026 (UTC)" → its words, and the window in the viewer's dates. */
export function comparedWith(meta: AnalyticsMeta): { words: string; range: string } {
  const words = meta.compared_with.description.split(/: | \(/)[0]!;
  const start = new Date(meta.compared_with.start);
  const end = new Date(meta.compared_with.end);
  const DAY = 86_400_000;
  if (start.getTime() % DAY === 0 && end.getTime() % DAY === 0) {
    // Whole UTC days (a custom range of dates) are named as those days, the last one included.
    const utc = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    const last = new Date(end.getTime() - DAY);
    return { words, range: last.getTime() <= start.getTime() ? utc.format(start) : `${utc.format(start)} – ${utc.format(last)}` };
  }
  const withTime = end.getTime() - start.getTime() <= 3 * DAY;
  return { words, range: `${shortDay(start, withTime)} – ${shortDay(end, withTime)}` };
}

function Change({ kpi, measure, compared }: { kpi: Kpi; measure: MeasureView; compared: string }) {
  if (kpi.absolute === null) return <p class="delta flat">No comparison</p>;
  const tone = kpi.improving === null ? 'flat' : kpi.improving ? 'good' : 'bad';
  const arrow = kpi.absolute > 0 ? '▲' : kpi.absolute < 0 ? '▼' : '■';
  const before = kpi.previous === null ? 'no value' : formatMeasure(kpi.previous, measure.unit);
  const relative = kpi.relative === null ? '' : formatRelative(kpi.relative);
  return (
    <p class={`delta ${tone}`} title={`${before} in ${compared}`} data-testid="kpi-change">
      <span class="abs"><span aria-hidden="true">{arrow}</span> {formatAbsolute(kpi.absolute, measure.unit)}</span>
      {relative && <span class="rel">{relative}</span>}
      <span class="visually-hidden">
        {' '}against {before} in {compared}
        {kpi.improving === null ? '' : kpi.improving ? ', better' : ', worse'}
      </span>
    </p>
  );
}

/**
 * The KPI snapshot for the page's filters: each number with its change against the compared
 * window, absolute and relative (points for rates), and that window named once above the cards.
 */
export function SummaryCards({ summary }: { summary: Loaded<Summary> | undefined }) {
  const measures = measuresOf(summary?.ok ? summary.value.meta : undefined);
  const meta = summary?.ok ? summary.value.meta : undefined;
  const compared = meta ? comparedWith(meta) : null;
  return (
    <section class="analytics-summary" aria-labelledby="summary-title" aria-busy={summary === undefined ? 'true' : undefined} data-testid="summary" data-state={state(summary)}>
      <div class="section-head">
        <h2 id="summary-title">Summary</h2>
        {compared && (
          <p class="compared" data-testid="compared-with" title={meta?.compared_with.description}>
            Changes against {compared.words} <span class="range">({compared.range})</span>
          </p>
        )}
        {meta && <SourceBadge data={provenance(meta)} />}
      </div>
      {summary === undefined ? (
        <ul class="kpis">
          {measures.map((m) => (
            <li key={m.name} class="kpi card loading" aria-busy="true">
              <div class="kpi-head"><h3>{m.label}</h3></div>
              <KpiSkeleton label={`Loading ${m.label}…`} />
            </li>
          ))}
        </ul>
      ) : !summary.ok ? (
        <LiveUnavailable problem={summary} />
      ) : summary.value.data === null ? (
        <LiveUnavailable meta={summary.value.meta} />
      ) : (
        <ul class="kpis">
          {measures.map((m) => {
            const kpi = summary.value.data!.kpis.find((k) => k.name === m.name);
            return (
              <li key={m.name} class="kpi card" data-measure={m.name}>
                <div class="kpi-head"><h3 title={m.label}>{m.label}</h3></div>
                <p class="kpi-value" data-testid="kpi-value">{kpi && kpi.current !== null ? formatMeasure(kpi.current, m.unit) : '—'}</p>
                {kpi ? <Change kpi={kpi} measure={m} compared={compared!.words} /> : <p class="delta flat">Not available</p>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function state(x: Loaded<{ data: unknown }> | undefined): string {
  if (x === undefined) return 'loading';
  if (!x.ok) return 'failed';
  return x.value.data === null ? 'unavailable' : 'ready';
}
