import type { Token } from './lexer.ts';

/** A replacement of sql[start, end) by `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

const UNITS: Readonly<Record<string, string>> = {
  YEAR: 'YEAR', YEARS: 'YEAR',
  MONTH: 'MONTH', MONTHS: 'MONTH',
  WEEK: 'WEEK', WEEKS: 'WEEK',
  DAY: 'DAY', DAYS: 'DAY',
  HOUR: 'HOUR', HOURS: 'HOUR',
  MINUTE: 'MINUTE', MINUTES: 'MINUTE',
  SECOND: 'SECOND', SECONDS: 'SECOND',
};

const INTEGER = /^\d+$/;

/**
 * Spark accepts `INTERVAL 30 DAYS` and `INTERVAL 7 DAY`; no node-sql-parser grammar accepts the
 * plural, and the dictionary's guidelines write `INTERVAL '30' DAY`. Rewriting to that form keeps
 * the meaning in Databricks and lets the statement be parsed. Only single-unit integer intervals
 * are rewritten; anything more exotic is left for the parser to accept or refuse.
 */
export function intervalEdits(tokens: readonly Token[]): Edit[] {
  const edits: Edit[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'word' || t.value !== 'INTERVAL') continue;
    const a = tokens[k + 1];
    const b = tokens[k + 2];
    const c = tokens[k + 3];
    if (a?.kind === 'number' && INTEGER.test(a.value) && b?.kind === 'word' && UNITS[b.value]) {
      edits.push({ start: a.start, end: b.end, text: `'${a.value}' ${UNITS[b.value]}` });
      k += 2;
    } else if (a?.kind === 'punct' && a.value === '-' && b?.kind === 'number' && INTEGER.test(b.value) && c?.kind === 'word' && UNITS[c.value]) {
      edits.push({ start: a.start, end: c.end, text: `'-${b.value}' ${UNITS[c.value]}` });
      k += 3;
    } else if (a?.kind === 'string' && /^-?\d+$/.test(a.value) && b?.kind === 'word' && UNITS[b.value] && UNITS[b.value] !== b.value) {
      edits.push({ start: b.start, end: b.end, text: UNITS[b.value]! });
      k += 2;
    }
  }
  return edits;
}

/** Applies non-overlapping edits given in ascending order. */
export function applyEdits(sql: string, edits: readonly Edit[]): string {
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += sql.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + sql.slice(at);
}
