/** Small SVG charts: no chart runtime ships to the browser, and they render the same on the server. */
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
  return (
    <svg class="chart" viewBox={`0 0 320 ${data.length * rowH}`} role="img" aria-label={`${title}: bar chart`}>
      {data.map((d, i) => (
        <g key={d.label} transform={`translate(0 ${i * rowH})`}>
          <text x="0" y="15" class="axis">{d.label.slice(0, 16)}</text>
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

export function LineChart({ rows, title }: { rows: Row[]; title: string }) {
  const data = points(rows);
  if (data.length < 2) return <BarChart rows={rows} title={title} />;
  const max = Math.max(...data.map((d) => d.value), 1);
  const step = 300 / (data.length - 1);
  const path = data.map((d, i) => `${i === 0 ? 'M' : 'L'}${10 + i * step} ${90 - (d.value / max) * 80}`).join(' ');
  return (
    <svg class="chart" viewBox="0 0 320 100" role="img" aria-label={`${title}: line chart`}>
      <path d={path} fill="none" stroke={PALETTE[1]} stroke-width="2" />
    </svg>
  );
}

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
