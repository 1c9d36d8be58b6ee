/**
 * The analysed window and the one it is compared with. Every comparison names its window, and a
 * period-to-date (month to date on the 10th) is compared with the same elapsed part of the
 * previous period (the 1st to the 10th of last month), never with the whole of it.
 */
import type { FieldProblem } from '../http/errors.ts';

export const ROLLING_PERIODS = ['24h', '7d', '30d', '90d'] as const;
export const TO_DATE_PERIODS = ['today', 'wtd', 'mtd', 'qtd', 'ytd'] as const;
export const PERIODS = [...ROLLING_PERIODS, ...TO_DATE_PERIODS] as const;
export type Period = (typeof PERIODS)[number];

export const DEFAULT_PERIOD: Period = '30d';
export const MAX_WINDOW_DAYS = 366;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Rolling windows end on a minute: every request inside that minute asks one cacheable question. */
const ALIGN_MS = MINUTE;

export interface Window {
  start: Date;
  end: Date;
}

export type ComparisonKind = 'previous_equal_window' | 'previous_period_to_date';

export interface PeriodPlan {
  /** `custom` for an explicit start and end. */
  period: Period | 'custom';
  current: Window;
  previous: Window;
  comparison: { kind: ComparisonKind; description: string };
}

const ROLLING_MS: Record<(typeof ROLLING_PERIODS)[number], number> = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY };

/** Per period to date: the unit it runs through (as in "5 hours into the day") and the previous one's name. */
const NAMES: Record<(typeof TO_DATE_PERIODS)[number], [string, string]> = {
  today: ['day', 'yesterday'],
  wtd: ['week', 'last week'],
  mtd: ['month', 'last month'],
  qtd: ['quarter', 'last quarter'],
  ytd: ['year', 'last year'],
};

/** Start of the calendar period (UTC) holding `at`, and of the one before it. Weeks start on Monday. */
function periodStarts(period: (typeof TO_DATE_PERIODS)[number], at: Date): { start: Date; previousStart: Date } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (period) {
    case 'today':
      return { start: new Date(Date.UTC(y, m, d)), previousStart: new Date(Date.UTC(y, m, d - 1)) };
    case 'wtd': {
      const monday = d - ((at.getUTCDay() + 6) % 7);
      return { start: new Date(Date.UTC(y, m, monday)), previousStart: new Date(Date.UTC(y, m, monday - 7)) };
    }
    case 'mtd':
      return { start: new Date(Date.UTC(y, m, 1)), previousStart: new Date(Date.UTC(y, m - 1, 1)) };
    case 'qtd': {
      const q = m - (m % 3);
      return { start: new Date(Date.UTC(y, q, 1)), previousStart: new Date(Date.UTC(y, q - 3, 1)) };
    }
    case 'ytd':
      return { start: new Date(Date.UTC(y, 0, 1)), previousStart: new Date(Date.UTC(y - 1, 0, 1)) };
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A window as a person reads it, in UTC, its end exclusive: whole days as "1–7 Dec 2026 (UTC)"
 * (the last day named is the last one included), anything else with its times, "6 Dec 2026,
 * 00:00–14:00 (UTC)". The exact bounds travel beside it as `start` and `end`.
 */
export function describeRange(start: Date, end: Date): string {
  const day = (d: Date) => d.getUTCDate();
  const month = (d: Date) => MONTHS[d.getUTCMonth()]!;
  const year = (d: Date) => d.getUTCFullYear();
  const date = (d: Date) => `${day(d)} ${month(d)} ${year(d)}`;
  const time = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  if (start.getTime() % DAY === 0 && end.getTime() % DAY === 0) {
    const last = new Date(end.getTime() - DAY);
    if (last.getTime() <= start.getTime()) return `${date(start)} (UTC)`;
    if (year(start) !== year(last)) return `${date(start)} – ${date(last)} (UTC)`;
    if (month(start) !== month(last)) return `${day(start)} ${month(start)} – ${date(last)} (UTC)`;
    return `${day(start)}–${date(last)} (UTC)`;
  }
  if (end.getTime() - start.getTime() <= DAY && date(start) === date(new Date(end.getTime() - 1))) {
    return `${date(start)}, ${time(start)}–${end.getTime() % DAY === 0 ? '24:00' : time(end)} (UTC)`;
  }
  return `${date(start)}, ${time(start)} – ${date(end)}, ${time(end)} (UTC)`;
}

/** The window of `period` at `now`, or of an explicit start and end, with its comparison window. */
export function planPeriod(
  input: { period?: string | undefined; start?: string | undefined; end?: string | undefined },
  now: Date,
): { plan: PeriodPlan } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (input.period !== undefined && (input.start !== undefined || input.end !== undefined)) {
    problems.push({ pointer: 'query/period', message: 'Give either period or start and end, not both.' });
  }
  if ((input.start === undefined) !== (input.end === undefined)) {
    problems.push({ pointer: `query/${input.start === undefined ? 'start' : 'end'}`, message: 'start and end go together.' });
  }
  if (problems.length > 0) return { problems };

  if (input.start !== undefined && input.end !== undefined) {
    const start = parseInstant(input.start);
    const end = parseInstant(input.end);
    if (!start) problems.push({ pointer: 'query/start', message: 'Expected an ISO 8601 date-time with a time zone, e.g. 2025-03-01T00:00:00Z.' });
    if (!end) problems.push({ pointer: 'query/end', message: 'Expected an ISO 8601 date-time with a time zone, e.g. 2025-03-31T00:00:00Z.' });
    if (!start || !end) return { problems };
    if (!(start < end)) return { problems: [{ pointer: 'query/end', message: 'end must be after start.' }] };
    if (end.getTime() - start.getTime() > MAX_WINDOW_DAYS * DAY) {
      return { problems: [{ pointer: 'query/start', message: `The window may span at most ${MAX_WINDOW_DAYS} days.` }] };
    }
    const length = end.getTime() - start.getTime();
    const previous = { start: new Date(start.getTime() - length), end: start };
    return {
      plan: {
        period: 'custom',
        current: { start, end },
        previous,
        comparison: { kind: 'previous_equal_window', description: `the ${describeLength(length)} before: ${describeRange(previous.start, previous.end)}` },
      },
    };
  }

  const period = (input.period ?? DEFAULT_PERIOD) as Period;
  if (!(PERIODS as readonly string[]).includes(period)) {
    return { problems: [{ pointer: 'query/period', message: `Expected one of ${PERIODS.join(', ')}.` }] };
  }
  const end = new Date(Math.floor(now.getTime() / ALIGN_MS) * ALIGN_MS);
  if (period in ROLLING_MS) {
    const length = ROLLING_MS[period as keyof typeof ROLLING_MS];
    const start = new Date(end.getTime() - length);
    const previous = { start: new Date(start.getTime() - length), end: start };
    return {
      plan: {
        period,
        current: { start, end },
        previous,
        comparison: { kind: 'previous_equal_window', description: `the ${describeLength(length)} before: ${describeRange(previous.start, previous.end)}` },
      },
    };
  }
  const toDate = period as (typeof TO_DATE_PERIODS)[number];
  const { start, previousStart } = periodStarts(toDate, end);
  const elapsed = end.getTime() - start.getTime();
  // The same elapsed part of the previous period; a longer current period (31 days after 28) is
  // capped at the previous period's end, never running into the current one.
  // In the period's first minute the window is that minute, and so is the compared one.
  const current = { start, end: elapsed > 0 ? end : new Date(start.getTime() + ALIGN_MS) };
  const cut = new Date(Math.min(previousStart.getTime() + Math.max(elapsed, ALIGN_MS), start.getTime()));
  const previous = { start: previousStart, end: cut };
  const [unit, last] = NAMES[toDate];
  return {
    plan: {
      period,
      current,
      previous,
      comparison: {
        kind: 'previous_period_to_date',
        description: `the same elapsed part of ${last} (${describeLength(current.end.getTime() - current.start.getTime())} into the ${unit}): ${describeRange(previous.start, previous.end)}`,
      },
    },
  };
}

function parseInstant(text: string): Date | null {
  // A zone is required: a bare local time would mean something different to every viewer.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

function describeLength(ms: number): string {
  if (ms % DAY === 0) return ms === DAY ? '24 hours' : `${ms / DAY} days`;
  if (ms % HOUR === 0) return `${ms / HOUR} hours`;
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.round((ms % HOUR) / MINUTE);
  return hours === 0 ? `${minutes} min` : `${hours} h ${minutes} min`;
}
