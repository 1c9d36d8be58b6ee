/** Chart axis labels. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Bucket starts are UTC instants and the buckets are aligned in UTC, so the axis speaks UTC: the
 * server-rendered chart and the hydrated one then read the same in every time zone.
 */
export function timeLabel(ms: number, withHours: boolean): string {
  const d = new Date(ms);
  return withHours ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

export function fullTimeLabel(ms: number, withHours: boolean): string {
  const d = new Date(ms);
  const date = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
  return withHours ? `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC` : date;
}
