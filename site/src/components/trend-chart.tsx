import { fullTimeLabel, timeLabel } from '../lib/time-labels.ts';

export interface TrendPoint {
  start: string;
  end: string;
  value: number | null;
  previous: { start: string; value: number | null } | null;
}

const TREND = { width: 1000, height: 250, left: 70, right: 988, top: 12, bottom: 218 };

/** The value axis runs from 0 (or the lowest value) to a round number a little past the highest. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(v));
  // Each is four round quarters (0.25, 0.3, 0.5, 0.6, 1, 1.5, 2, 2.5 of the step), so the gridlines read 0, 50, 100 …
  return [1, 1.2, 2, 2.4, 4, 6, 8, 10].map((m) => m * step).find((m) => m >= v) ?? v;
}

/**
 * A measure over time with the compared window drawn under it, bucket for bucket (the same
 * position in the previous window), so "this Tuesday against last Tuesday" reads at a glance.
 * Axis dates are UTC like the buckets; every point's two values are in its title and in the
 * table that stands in for the picture.
 */
export function TrendChart({ points: data, title, unit, format, hourly }: { points: TrendPoint[]; title: string; unit: string; format: (v: number) => string; hourly: boolean }) {
  const values = data.flatMap((p) => [p.value, p.previous?.value ?? null]).filter((v): v is number => v !== null);
  if (values.length === 0) return <p class="empty">No contacts in this window.</p>;
  const low = Math.min(0, ...values);
  const high = niceMax(Math.max(...values));
  const n = data.length;
  const x = (i: number) => (n === 1 ? (TREND.left + TREND.right) / 2 : TREND.left + (i / (n - 1)) * (TREND.right - TREND.left));
  const y = (v: number) => TREND.bottom - ((v - low) / (high - low || 1)) * (TREND.bottom - TREND.top);
  // A window rarely starts and ends on a bucket boundary: its first and last buckets can be a
  // fraction of the others. Their points are hollow and joined by a dotted line, so a short
  // first day does not read as a collapse.
  const lengths = data.map((p) => Date.parse(p.end) - Date.parse(p.start));
  const full = [...lengths].sort((a, b) => a - b)[Math.floor(lengths.length / 2)] ?? 0;
  const partial = (i: number) => lengths[i]! < full * 0.9;
  const path = (pick: (p: TrendPoint) => number | null, segments: 'whole' | 'partial' | 'all') => {
    let d = '';
    let prev: number | null = null;
    data.forEach((p, i) => {
      const v = pick(p);
      if (v === null) return void (prev = null);
      const touchesPartial = partial(i) || (prev !== null && partial(prev));
      const draw = segments === 'all' || (segments === 'partial') === touchesPartial;
      d += `${prev !== null && draw ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      prev = i;
    });
    return d.trim();
  };
  const at = (iso: string) => Date.parse(iso);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => low + f * (high - low));
  const ticks = [...new Set(Array.from({ length: Math.min(6, n) }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, Math.min(6, n) - 1))))];
  const band = (TREND.right - TREND.left) / Math.max(1, n - 1);
  const current = data.filter((p) => p.value !== null);
  const latest = current.at(-1);
  const summary =
    `${title}: line chart of ${n} ${hourly ? 'hours' : 'periods'} from ${fullTimeLabel(at(data[0]!.start), hourly)} to ${fullTimeLabel(at(data.at(-1)!.start), hourly)}, ` +
    `with the compared window as a dashed line${latest ? `; latest ${format(latest.value!)}${latest.previous?.value != null ? ` against ${format(latest.previous.value)}` : ''}` : ''}.`;
  return (
    <>
      <svg class="chart trend" viewBox={`0 0 ${TREND.width} ${TREND.height}`} role="img" aria-label={summary} data-unit={unit}>
        {grid.map((g) => (
          <g key={g}>
            <line x1={TREND.left} x2={TREND.right} y1={y(g)} y2={y(g)} class="grid" />
            <text x={TREND.left - 8} y={y(g) + 4} class="axis" text-anchor="end">{format(g)}</text>
          </g>
        ))}
        <path d={path((p) => p.previous?.value ?? null, 'all')} class="series previous" />
        <path d={path((p) => p.value, 'whole')} class="series current" />
        <path d={path((p) => p.value, 'partial')} class="series current partial" />
        {data.map((p, i) =>
          p.value === null ? null : <circle key={p.start} cx={x(i).toFixed(1)} cy={y(p.value).toFixed(1)} r={n > 60 && !partial(i) ? 0 : 3} class={`dot current${partial(i) ? ' partial' : ''}`} />,
        )}
        {data.map((p, i) => (
          <rect key={`h${p.start}`} x={(x(i) - band / 2).toFixed(1)} y={TREND.top} width={band.toFixed(1)} height={TREND.bottom - TREND.top} class="hit">
            <title>
              {`${fullTimeLabel(at(p.start), hourly)}${partial(i) ? ` (part: ${Math.round(lengths[i]! / 60_000)} min)` : ''}: ${p.value === null ? 'no data' : format(p.value)}` +
                (p.previous ? `\nCompared (${fullTimeLabel(at(p.previous.start), hourly)}): ${p.previous.value === null ? 'no data' : format(p.previous.value)}` : '')}
            </title>
          </rect>
        ))}
        {ticks.map((i, k) => (
          <text key={i} x={x(i).toFixed(1)} y={TREND.height - 8} class="axis" text-anchor={k === 0 && ticks.length > 1 ? 'start' : k === ticks.length - 1 && ticks.length > 1 ? 'end' : 'middle'}>
            {timeLabel(at(data[i]!.start), hourly)}
          </text>
        ))}
      </svg>
      <table class="visually-hidden">
        <caption>{title}, by {hourly ? 'hour' : 'period'} (UTC), with the compared window</caption>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col">Value</th>
            <th scope="col">Compared period</th>
            <th scope="col">Compared value</th>
          </tr>
        </thead>
        <tbody>
          {data.map((p) => (
            <tr key={p.start}>
              <td>{fullTimeLabel(at(p.start), hourly)}</td>
              <td>{p.value === null ? 'no data' : format(p.value)}</td>
              <td>{p.previous ? fullTimeLabel(at(p.previous.start), hourly) : '—'}</td>
              <td>{p.previous?.value == null ? 'no data' : format(p.previous.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
