/**
 * The signal's two explanations as small SVG bar charts in the dashboard's chart style (class
 * `chart`, muted axis text): how much of the deviation each slice accounts for, and which model
 * features pushed it up or down. Each picture is one image to assistive technology, with the
 * numbers in its label and in a visually hidden table.
 */
import type { SignalDetail } from '../../lib/signals-data.ts';
import { formatDecimal, formatSigned } from '../../lib/format.ts';
import { readable } from '../../lib/signals-text.ts';

const ROW = 24;
const LABEL_W = 150;
const BAR_W = 200;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const pct = (v: number) => `${formatDecimal(v * 100, Math.abs(v) < 0.1 ? 1 : 0)} %`;

export function ContributionsChart({ rows }: { rows: SignalDetail['contributions'] }) {
  const data = [...rows].sort((a, b) => a.rank - b.rank).slice(0, 8);
  if (data.length === 0) return <p class="empty">The marts attribute this deviation to no single slice.</p>;
  const max = Math.max(...data.map((d) => Math.abs(d.contribution)), 0.01);
  const label = (d: (typeof data)[number]) => `${readable(d.dimension)}: ${readable(d.dimension_value)}`;
  const summary = `Contributions to the deviation, bar chart: ${data.map((d) => `${label(d)} ${pct(d.contribution)}`).join(', ')}`;
  return (
    <figure class="sig-chart" data-testid="contributions-chart">
      <svg class="chart" viewBox={`0 0 ${LABEL_W + BAR_W + 60} ${data.length * ROW}`} role="img" aria-label={summary}>
        {data.map((d, i) => {
          const w = Math.max(1.5, (Math.abs(d.contribution) / max) * BAR_W);
          return (
            <g key={`${d.dimension}:${d.dimension_value}`} transform={`translate(0 ${i * ROW})`}>
              <title>{`${label(d)}: ${pct(d.contribution)} of the deviation`}</title>
              <text x="0" y="16" class="axis">{clip(label(d), 24)}</text>
              <rect x={LABEL_W} y="5" height="14" rx="2" width={w} class={d.contribution < 0 ? 'bar neg' : 'bar'} />
              <text x={LABEL_W + w + 5} y="16" class="axis value">{pct(d.contribution)}</text>
            </g>
          );
        })}
      </svg>
      <table class="visually-hidden">
        <caption>Contributions to the deviation</caption>
        <thead><tr><th scope="col">Slice</th><th scope="col">Share</th></tr></thead>
        <tbody>{data.map((d) => <tr key={label(d)}><td>{label(d)}</td><td>{pct(d.contribution)}</td></tr>)}</tbody>
      </table>
    </figure>
  );
}

/** SHAP values around a zero line: right of it pushed the metric up, left pulled it down. */
export function DriversChart({ rows }: { rows: SignalDetail['drivers'] }) {
  const data = [...rows].sort((a, b) => a.rank - b.rank).slice(0, 8);
  if (data.length === 0) return <p class="empty">No model attributions for this signal.</p>;
  const max = Math.max(...data.map((d) => Math.abs(d.shap_value)), 1e-9);
  const half = BAR_W / 2;
  const zero = LABEL_W + half + 20;
  const label = (d: (typeof data)[number]) => (d.feature_value === '' ? readable(d.feature) : `${readable(d.feature)} = ${d.feature_value}`);
  const summary = `Model drivers, SHAP values: ${data.map((d) => `${label(d)} ${formatSigned(d.shap_value, 3)}`).join(', ')}`;
  return (
    <figure class="sig-chart" data-testid="drivers-chart">
      <svg class="chart" viewBox={`0 0 ${LABEL_W + BAR_W + 80} ${data.length * ROW + 4}`} role="img" aria-label={summary}>
        <line x1={zero} x2={zero} y1="0" y2={data.length * ROW + 4} class="zero" />
        {data.map((d, i) => {
          const w = Math.max(1.5, (Math.abs(d.shap_value) / max) * half);
          const up = d.shap_value >= 0;
          return (
            <g key={d.feature} transform={`translate(0 ${i * ROW + 2})`}>
              <title>{`${label(d)}: ${formatSigned(d.shap_value, 3)} (${up ? 'pushes the metric up' : 'pulls the metric down'})`}</title>
              <text x="0" y="16" class="axis">{clip(label(d), 24)}</text>
              <rect x={up ? zero : zero - w} y="5" height="14" rx="2" width={w} class={up ? 'bar up' : 'bar down'} />
              <text x={up ? zero + w + 4 : zero - w - 4} y="16" class="axis value" text-anchor={up ? 'start' : 'end'}>
                {formatSigned(d.shap_value, 2)}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="visually-hidden">
        <caption>Model drivers</caption>
        <thead><tr><th scope="col">Feature</th><th scope="col">SHAP value</th></tr></thead>
        <tbody>{data.map((d) => <tr key={d.feature}><td>{label(d)}</td><td>{formatSigned(d.shap_value, 3)}</td></tr>)}</tbody>
      </table>
    </figure>
  );
}
