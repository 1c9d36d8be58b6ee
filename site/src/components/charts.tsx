/** Small SVG charts: no chart runtime ships to the browser, and they render the same on the server. */
import { fullTimeLabel, timeLabel } from '../lib/time-labels.ts';

type Row = Record<string, unknown>;

const PALETTE = ['#6639ba', '#0969da', '#1a7f37', '#bf8700', '#cf222e', '#8250df', '#1b7c83', '#9a6700'];

function points(rows: Row[]): Array<{ label: string; value: number }> {
  return rows
    .map((r) => ({ label: String(r.label ?? ''), value: typeof r.value === 'number' ? r.value : Number(r.value) }))
    .filter((p) => Number.isFinite(p.value));
}

export function BarChart({ rows, title }: { rows: Row[]; title: string }) {
  const data = points(rows).slice(0, 12);
  if (data.length === 0) return <p class="empty">No rows in this window.</p>;
  const max = Math.max(...data.map((d) => d.value), 1);
  const rowH = 22;
  // The picture is one image to assistive technology, so its label carries the numbers too.
  const summary = `${title}: bar chart. ${data.map((d) => `${d.label} ${formatNumber(d.value)}`).join(', ')}`;
  return (
    <svg class="chart" viewBox={`0 0 320 ${data.length * rowH}`} role="img" aria-label={summary}>
      {data.map((d, i) => (
        <g key={d.label} transform={`translate(0 ${i * rowH})`}>
          <title>{`${d.label}: ${formatNumber(d.value)}`}</title>
          <text x="0" y="15" class="axis">{d.label.length > 17 ? `${d.label.slice(0, 16)}…` : d.label}</text>
          <rect x="110" y="4" height="14" rx="2" width={Math.max(1, (d.value / max) * 160)} fill={PALETTE[0]} />
          <text x={114 + (d.value / max) * 160} y="15" class="axis">{formatNumber(d.value)}</text>
        </g>
      ))}
    </svg>
  );
}

export function PieChart({ rows, title }: { rows: Row[]; title: string }) {
  const data = points(rows).slice(0, 8);
  const total = data.reduce((s, d) => s + d.value, 0);
  if (total <= 0) return <p class="empty">No rows in this window.</p>;
  let angle = -Math.PI / 2;
  const arcs = data.map((d, i) => {
    const sweep = (d.value / total) * Math.PI * 2;
    const [x1, y1] = [50 + 40 * Math.cos(angle), 50 + 40 * Math.sin(angle)];
    angle += sweep;
    const [x2, y2] = [50 + 40 * Math.cos(angle), 50 + 40 * Math.sin(angle)];
    const path = data.length === 1 ? 'M50 10 A40 40 0 1 1 49.99 10 Z' : `M50 50 L${x1} ${y1} A40 40 0 ${sweep > Math.PI ? 1 : 0} 1 ${x2} ${y2} Z`;
    return <path key={d.label} d={path} fill={PALETTE[i % PALETTE.length]} />;
  });
  return (
    <div class="pie">
      <svg class="chart" viewBox="0 0 100 100" role="img" aria-label={`${title}: pie chart`}>{arcs}</svg>
      <ul class="legend">
        {data.map((d, i) => (
          <li key={d.label}>
            <span class="swatch" style={undefined} data-color={i % PALETTE.length} aria-hidden="true" />
            {d.label} · {Math.round((d.value / total) * 100)}%
          </li>
        ))}
      </ul>
    </div>
  );
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** Rows whose labels are all timestamps are a time series; empty buckets stay as gaps. */
function timeSeries(rows: Row[]): Array<{ at: number; value: number | null }> | null {
  if (rows.length === 0 || !rows.every((r) => typeof r.label === 'string' && ISO_TIME.test(r.label) && !Number.isNaN(Date.parse(r.label)))) return null;
  return rows
    .map((r) => {
      const v = typeof r.value === 'number' ? r.value : r.value === null || r.value === undefined ? null : Number(r.value);
      return { at: Date.parse(r.label as string), value: v !== null && Number.isFinite(v) ? v : null };
    })
    .sort((a, b) => a.at - b.at);
}

const PLOT = { left: 40, right: 312, top: 8, bottom: 92 };

/**
 * A time series: x is time (hours and minutes for a window of a day or less, dates beyond),
 * y the value from zero (or the lowest value when it is negative). Rows that are not a time
 * series (a breakdown metric on a line tile) are drawn as a line across their labels.
 */
export function LineChart({ rows, title, unit }: { rows: Row[]; title: string; unit?: string }) {
  const series = timeSeries(rows);
  if (!series) return <CategoryLine rows={rows} title={title} />;
  const present = series.filter((p): p is { at: number; value: number } => p.value !== null);
  if (present.length === 0) return <p class="empty">No rows in this window.</p>;
  const first = series[0]!.at;
  const last = series.at(-1)!.at;
  const withHours = last - first <= 86_400_000;
  const max = Math.max(...present.map((p) => p.value), 0);
  const min = Math.min(...present.map((p) => p.value), 0);
  const span = max - min || 1;
  const x = (at: number) => (last === first ? (PLOT.left + PLOT.right) / 2 : PLOT.left + ((at - first) / (last - first)) * (PLOT.right - PLOT.left));
  const y = (v: number) => PLOT.bottom - ((v - min) / span) * (PLOT.bottom - PLOT.top);

  // A gap in the data is a gap in the line, not a fall to zero.
  let path = '';
  let pen = false;
  for (const p of series) {
    if (p.value === null) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${x(p.at).toFixed(1)} ${y(p.value).toFixed(1)} `;
    pen = true;
  }
  const tickCount = Math.min(5, series.length);
  const ticks = [...new Set(Array.from({ length: tickCount }, (_, i) => Math.round((i * (series.length - 1)) / Math.max(1, tickCount - 1))))];
  const low = present.reduce((a, b) => (b.value < a.value ? b : a));
  const high = present.reduce((a, b) => (b.value > a.value ? b : a));
  const fmt = (v: number) => formatNumber(v, unit);
  const summary =
    `${title}: line chart of ${series.length} points from ${fullTimeLabel(first, withHours)} to ${fullTimeLabel(last, withHours)}` +
    `; lowest ${fmt(low.value)} at ${fullTimeLabel(low.at, withHours)}, highest ${fmt(high.value)} at ${fullTimeLabel(high.at, withHours)}` +
    `; latest ${present.at(-1) ? fmt(present.at(-1)!.value) : 'none'}.`;

  return (
    <>
      <svg class="chart" viewBox="0 0 320 116" role="img" aria-label={summary}>
        <line x1={PLOT.left} x2={PLOT.right} y1={y(0)} y2={y(0)} stroke="currentColor" stroke-opacity="0.25" />
        <text x={PLOT.left - 4} y={PLOT.top + 4} class="axis" text-anchor="end">{fmt(max)}</text>
        <text x={PLOT.left - 4} y={PLOT.bottom} class="axis" text-anchor="end">{fmt(min)}</text>
        <path d={path.trim()} fill="none" stroke={PALETTE[1]} stroke-width="2" stroke-linejoin="round" />
        {present.map((p) => (
          <circle key={p.at} cx={x(p.at).toFixed(1)} cy={y(p.value).toFixed(1)} r="2" fill={PALETTE[1]}>
            <title>{`${fullTimeLabel(p.at, withHours)}: ${fmt(p.value)}`}</title>
          </circle>
        ))}
        {ticks.map((i, k) => (
          <text
            key={i}
            x={x(series[i]!.at).toFixed(1)}
            y="108"
            class="axis"
            text-anchor={ticks.length > 1 && k === 0 ? 'start' : k === ticks.length - 1 && ticks.length > 1 ? 'end' : 'middle'}
          >
            {timeLabel(series[i]!.at, withHours)}
          </text>
        ))}
      </svg>
      <table class="visually-hidden">
        <caption>{title}, by {withHours ? 'time (UTC)' : 'date (UTC)'}</caption>
        <thead>
          <tr>
            <th scope="col">{withHours ? 'Time' : 'Date'}</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {series.map((p) => (
            <tr key={p.at}>
              <td>{fullTimeLabel(p.at, withHours)}</td>
              <td>{p.value === null ? 'no data' : fmt(p.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function CategoryLine({ rows, title }: { rows: Row[]; title: string }) {
  const data = points(rows);
  if (data.length < 2) return <BarChart rows={rows} title={title} />;
  const max = Math.max(...data.map((d) => d.value), 1);
  const step = 300 / (data.length - 1);
  const path = data.map((d, i) => `${i === 0 ? 'M' : 'L'}${10 + i * step} ${90 - (d.value / max) * 80}`).join(' ');
  const label = `${title}: line chart across ${data.map((d) => `${d.label} ${formatNumber(d.value)}`).join(', ')}`;
  return (
    <svg class="chart" viewBox="0 0 320 100" role="img" aria-label={label}>
      <path d={path} fill="none" stroke={PALETTE[1]} stroke-width="2" />
    </svg>
  );
}

/** A tile drawn as a table: the metric's own label and value rows (the records behind it open in the Rows dialog). */
export function DataTable({ rows, columns }: { rows: Row[]; columns: string[] }) {
  if (rows.length === 0) return <p class="empty">No rows in this window.</p>;
  return (
    <table class="data">
      <thead>
        <tr>{columns.map((c) => <th scope="col" key={c}>{c}</th>)}</tr>
      </thead>
      <tbody>
        {rows.slice(0, 20).map((r, i) => (
          <tr key={i}>{columns.map((c) => <td key={c}>{typeof r[c] === 'number' ? formatNumber(r[c] as number) : String(r[c] ?? '')}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

export function formatNumber(v: number, unit?: string): string {
  if (unit === 'usd') return v.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  if (unit === 'percent') return `${v.toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
  if (unit === 'seconds') return v >= 90 ? `${(v / 60).toFixed(1)} min` : `${Math.round(v)} s`;
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
