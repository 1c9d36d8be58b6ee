/**
 * How values read on screen: times in the viewer's locale and zone (the exact UTC instant is the
 * element's title), numbers and money through Intl. On the server the locale is the runtime's
 * and the zone UTC; hydration replaces the text with the viewer's own, while `datetime` and the
 * UTC title are the same on both sides.
 */

/** What a column holds, which decides how its cells read and align. */
export type ValueFormat = 'time' | 'date' | 'number' | 'money' | 'duration' | 'percent' | 'score' | 'signed' | 'boolean' | 'id' | 'text';

const NUMERIC: ReadonlySet<ValueFormat> = new Set(['number', 'money', 'duration', 'percent', 'score', 'signed']);
export const isNumericFormat = (f: ValueFormat) => NUMERIC.has(f);

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function nf(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n${JSON.stringify(options)}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) cache.set(key, (f = new Intl.NumberFormat(undefined, options)));
  return f;
}
function df(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d${JSON.stringify(options)}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(undefined, options)));
  return f;
}

/**
 * A timestamp from either source: ISO with a zone, or a zoneless `YYYY-MM-DD HH:MM:SS`, which the
 * lakehouse's columns are documented to hold in UTC. Null for anything else.
 */
export function parseInstant(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  let text = value.trim().replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00Z';
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text += 'Z';
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The exact instant, unambiguous in every locale: what a title shows on hover. */
export function utcExact(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '').replace(/\.\d{3}$/, '')} UTC`;
}

/** Date and time in the viewer's locale and zone, short enough not to wrap in a table cell. */
export function localTime(d: Date): string {
  return df({ dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A calendar date (a DATE column) stays the date it names, whatever the viewer's zone. */
export function localDate(d: Date): string {
  return df({ dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** A day or a day and hour, for window names and axis labels, in the viewer's zone. */
export function shortDay(d: Date, withTime = false): string {
  return withTime ? df({ month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(d) : df({ month: 'short', day: 'numeric' }).format(d);
}

export function formatCount(v: number): string {
  return nf({ maximumFractionDigits: 0 }).format(v);
}

export function formatMoney(v: number, currency = 'USD'): string {
  return nf({ style: 'currency', currency, maximumFractionDigits: Math.abs(v) >= 1000 ? 0 : 2 }).format(v);
}

/** A handle time in a table: minutes and seconds on a clock ("10:17"), hours when it runs past one. */
export function formatClock(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${seconds < 0 ? '−' : ''}${h > 0 ? `${h}:${two(m)}` : m}:${two(sec)}`;
}

/** A time as a headline number: seconds below a minute and a half, then minutes to one decimal (as KPI tiles read). */
export function formatDuration(seconds: number): string {
  if (Math.abs(seconds) < 90) return `${formatCount(seconds)} s`;
  return `${nf({ minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(seconds / 60)} min`;
}

export function formatPercent(v: number, digits = 1): string {
  return `${nf({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v)} %`;
}

export function formatDecimal(v: number, digits = 2): string {
  return nf({ maximumFractionDigits: digits }).format(v);
}

/** Always `digits` decimals: scores compare at a glance (4.00 beside 4.02). */
export function formatFixed(v: number, digits: number): string {
  return nf({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
}

export function formatSigned(v: number, digits = 2): string {
  return nf({ maximumFractionDigits: digits, signDisplay: 'exceptZero' }).format(v);
}

/** A measure's value by its unit, as the analytics answer them (`count`, `seconds`, `percent`, `score`, `usd`, `points`). */
export function formatUnit(v: number, unit: string): string {
  switch (unit) {
    case 'count':
      return formatCount(v);
    case 'seconds':
      return formatDuration(v);
    case 'percent':
      return formatPercent(v);
    case 'usd':
      return formatMoney(v);
    default:
      return formatDecimal(v);
  }
}

/** A cell's text and, for times, the exact instant for its title. */
export function formatValue(value: unknown, format: ValueFormat): { text: string; title?: string; iso?: string } {
  if (value === null || value === undefined || value === '') return { text: '—' };
  if (format === 'time' || format === 'date') {
    const d = parseInstant(value);
    if (!d) return { text: String(value) };
    return format === 'time' ? { text: localTime(d), title: utcExact(d), iso: d.toISOString() } : { text: localDate(d), iso: d.toISOString().slice(0, 10) };
  }
  if (format === 'boolean') return { text: value === true || value === 'true' ? 'Yes' : value === false || value === 'false' ? 'No' : String(value) };
  if (isNumericFormat(format)) {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n)) return { text: String(value) };
    switch (format) {
      case 'money':
        return { text: formatMoney(n) };
      case 'duration':
        return { text: formatClock(n), title: `${formatCount(n)} seconds` };
      case 'percent':
        return { text: formatPercent(n) };
      case 'signed':
        return { text: formatSigned(n) };
      case 'score':
        return { text: formatDecimal(n) };
      default:
        return { text: formatDecimal(n) };
    }
  }
  return { text: String(value) };
}
