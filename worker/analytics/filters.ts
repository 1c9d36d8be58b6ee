/**
 * The filters every analytics route shares, from the query string to bound SQL. The query string
 * is checked twice, once per layer: its shape by the route's zod schema (unknown parameters,
 * repeated scalars, thousands of values are 422 there), then its meaning here (allowed values,
 * ranges, a window that exists). Values reach SQL only as named parameters.
 */
import { z } from '@hono/zod-openapi';
import { bundledDictionary } from '../config/bundled.ts';
import { ApiError } from '../http/errors.ts';
import type { FieldProblem } from '../http/errors.ts';
import type { TypedValue } from '../services/statements.ts';
import { planPeriod, PERIODS } from './period.ts';
import type { PeriodPlan, Window } from './period.ts';

/** One filter may list this many values; together they stay far inside the statement's parameter limit. */
export const MAX_VALUES_PER_FILTER = 100;
export const MAX_VALUES_TOTAL = 150;

const ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

const listParam = (description: string) =>
  z
    .union([z.string().max(4_000), z.array(z.string().max(200)).max(MAX_VALUES_PER_FILTER)])
    .optional()
    .openapi({ description: `${description}; repeat the parameter or separate values with commas (at most ${MAX_VALUES_PER_FILTER})` });
const scalarParam = (description: string) => z.string().max(100).optional().openapi({ description });

/** The filter parameters, as the query string carries them. Routes spread this into a strict object. */
export const FilterQueryShape = {
  period: scalarParam(`A window ending now: ${PERIODS.join(', ')} (default 30d). Periods to date (wtd, mtd …) compare with the same elapsed part of the previous period`),
  start: scalarParam('Window start, ISO 8601 with a zone (with end; instead of period)'),
  end: scalarParam('Window end, exclusive, ISO 8601 with a zone'),
  region: listParam('Customer region'),
  channel: listParam('Contact channel'),
  issue_type: listParam('Issue type'),
  agent_id: listParam('Agent id'),
  team: listParam('Agent team'),
  fcr: scalarParam('true or false: resolved at first contact'),
  transferred: scalarParam('true or false: transferred'),
  csat_min: scalarParam('Lowest CSAT (1-5); contacts without a survey answer are excluded when set'),
  csat_max: scalarParam('Highest CSAT (1-5)'),
  nps_min: scalarParam('Lowest NPS answer (0-10); contacts without an answer are excluded when set'),
  nps_max: scalarParam('Highest NPS answer (0-10)'),
  q: scalarParam('Search on ids: contact, customer, agent or device id starting with this text'),
};

export type RawQuery = Record<string, string | string[] | undefined>;

export interface CallFilters {
  regions: string[];
  channels: string[];
  issueTypes: string[];
  agentIds: string[];
  teams: string[];
  fcr?: boolean;
  transferred?: boolean;
  csat?: { min?: number; max?: number };
  nps?: { min?: number; max?: number };
  /** Upper-cased id prefix. */
  q?: string;
}

export interface ParsedFilters {
  filters: CallFilters;
  period: PeriodPlan;
}

function values(raw: string | string[] | undefined): string[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return [...new Set(list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''))];
}

function allowed(table: string, column: string): string[] {
  return bundledDictionary().column(table, column)?.allowedValues ?? [];
}

/** The values a categorical filter can take, from the data dictionary. */
export const FILTER_VALUES = {
  region: () => allowed('customers', 'region'),
  channel: () => allowed('interactions', 'channel'),
  issue_type: () => allowed('interactions', 'issue_type'),
  team: () => allowed('agents', 'team'),
};

/** Reads the filters; any problem is one 422 naming every offending parameter. */
export function parseFilters(raw: RawQuery, now: Date): ParsedFilters {
  const problems: FieldProblem[] = [];
  const scalar = (name: string): string | undefined => {
    const v = raw[name];
    if (Array.isArray(v)) {
      problems.push({ pointer: `query/${name}`, message: 'Give this parameter once.' });
      return undefined;
    }
    return v === undefined || v === '' ? undefined : v;
  };
  let total = 0;
  const list = (name: string, check: (v: string) => string | null): string[] => {
    const found = values(raw[name]);
    total += found.length;
    if (found.length > MAX_VALUES_PER_FILTER) problems.push({ pointer: `query/${name}`, message: `At most ${MAX_VALUES_PER_FILTER} values.` });
    for (const v of found) {
      const problem = check(v);
      if (problem) {
        problems.push({ pointer: `query/${name}`, message: problem });
        break;
      }
    }
    return found;
  };
  const oneOf = (choices: string[]) => (v: string) => (choices.includes(v) ? null : `${JSON.stringify(v.slice(0, 40))} is not one of ${choices.join(', ')}.`);
  const bool = (name: string): boolean | undefined => {
    const v = scalar(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') problems.push({ pointer: `query/${name}`, message: 'Expected true or false.' });
    return v === 'true';
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = scalar(name);
    if (v === undefined) return undefined;
    if (!/^\d{1,3}$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push({ pointer: `query/${name}`, message: `Expected a whole number from ${min} to ${max}.` });
      return undefined;
    }
    return Number(v);
  };
  const range = (prefix: string, min: number, max: number) => {
    const lo = int(`${prefix}_min`, min, max);
    const hi = int(`${prefix}_max`, min, max);
    if (lo !== undefined && hi !== undefined && lo > hi) problems.push({ pointer: `query/${prefix}_min`, message: `${prefix}_min is above ${prefix}_max: the range is empty.` });
    return lo === undefined && hi === undefined ? undefined : { ...(lo !== undefined ? { min: lo } : {}), ...(hi !== undefined ? { max: hi } : {}) };
  };

  const filters: CallFilters = {
    regions: list('region', oneOf(FILTER_VALUES.region())),
    channels: list('channel', oneOf(FILTER_VALUES.channel())),
    issueTypes: list('issue_type', oneOf(FILTER_VALUES.issue_type())),
    agentIds: list('agent_id', (v) => (ID.test(v) ? null : `${JSON.stringify(v.slice(0, 40))} is not an agent id.`)),
    teams: list('team', oneOf(FILTER_VALUES.team())),
  };
  if (total > MAX_VALUES_TOTAL) problems.push({ pointer: 'query', message: `At most ${MAX_VALUES_TOTAL} filter values in all.` });
  const fcr = bool('fcr');
  const transferred = bool('transferred');
  const csat = range('csat', 1, 5);
  const nps = range('nps', 0, 10);
  const q = scalar('q');
  if (q !== undefined && !ID.test(q)) problems.push({ pointer: 'query/q', message: 'Search ids with letters, digits and dashes only (up to 64).' });
  if (fcr !== undefined) filters.fcr = fcr;
  if (transferred !== undefined) filters.transferred = transferred;
  if (csat) filters.csat = csat;
  if (nps) filters.nps = nps;
  if (q !== undefined) filters.q = q.toUpperCase();

  const planned = planPeriod({ period: scalar('period'), start: scalar('start'), end: scalar('end') }, now);
  if ('problems' in planned) problems.push(...planned.problems);
  if (problems.length > 0 || 'problems' in planned) {
    throw new ApiError('validation_failed', `The query parameters are not valid: ${problems.map((p) => `${p.pointer.replace('query/', '')}: ${p.message}`).join(' ')}`, { errors: problems });
  }
  return { filters, period: planned.plan };
}

/** The filters as a stable, readable record: cache keys, cursors and export labels use it. */
export function canonicalFilters(f: CallFilters): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string[] | undefined) => {
    if (v && v.length > 0) out[k] = [...v].sort().join(',');
  };
  put('region', f.regions);
  put('channel', f.channels);
  put('issue_type', f.issueTypes);
  put('agent_id', f.agentIds);
  put('team', f.teams);
  if (f.fcr !== undefined) out.fcr = String(f.fcr);
  if (f.transferred !== undefined) out.transferred = String(f.transferred);
  if (f.csat?.min !== undefined) out.csat_min = String(f.csat.min);
  if (f.csat?.max !== undefined) out.csat_max = String(f.csat.max);
  if (f.nps?.min !== undefined) out.nps_min = String(f.nps.min);
  if (f.nps?.max !== undefined) out.nps_max = String(f.nps.max);
  if (f.q !== undefined) out.q = f.q;
  return out;
}

export interface BoundPredicate {
  /** Conditions on the interactions table's own columns (no alias), joined by AND; `TRUE` when none. */
  where: string;
  params: Record<string, TypedValue>;
}

/**
 * The filters as one condition over `interactions`, optionally restricted to windows of
 * `started_at`. Region and team are customer and agent attributes: they narrow by a semi-join,
 * so an unfiltered question reads exactly the rows the catalog's metric reads.
 */
export function filterPredicate(f: CallFilters, windows: readonly Window[], qualify: (table: string) => string): BoundPredicate {
  const conditions: string[] = [];
  const params: Record<string, TypedValue> = {};
  const bind = (name: string, value: TypedValue['value'], type: string) => {
    params[name] = { value, type };
    return `:${name}`;
  };
  const inList = (column: string, prefix: string, list: string[]) => list.map((v, i) => bind(`${prefix}${i}`, v, 'STRING')).join(', ');

  if (windows.length > 0) {
    const ranges = windows.map((w, i) => `(started_at >= ${bind(`w${i}_start`, w.start, 'TIMESTAMP')} AND started_at < ${bind(`w${i}_end`, w.end, 'TIMESTAMP')})`);
    conditions.push(ranges.length === 1 ? ranges[0]! : `(${ranges.join(' OR ')})`);
  }
  if (f.channels.length > 0) conditions.push(`channel IN (${inList('channel', 'f_ch', f.channels)})`);
  if (f.issueTypes.length > 0) conditions.push(`issue_type IN (${inList('issue_type', 'f_it', f.issueTypes)})`);
  if (f.agentIds.length > 0) conditions.push(`agent_id IN (${inList('agent_id', 'f_ag', f.agentIds)})`);
  if (f.regions.length > 0) {
    conditions.push(`customer_id IN (SELECT customer_id FROM ${qualify('customers')} WHERE region IN (${inList('region', 'f_rg', f.regions)}))`);
  }
  if (f.teams.length > 0) {
    conditions.push(`agent_id IN (SELECT agent_id FROM ${qualify('agents')} WHERE team IN (${inList('team', 'f_tm', f.teams)}))`);
  }
  if (f.fcr !== undefined) conditions.push(`resolved_first_contact = ${bind('f_fcr', f.fcr, 'BOOLEAN')}`);
  if (f.transferred !== undefined) conditions.push(`transferred = ${bind('f_tr', f.transferred, 'BOOLEAN')}`);
  if (f.csat?.min !== undefined) conditions.push(`csat >= ${bind('f_csat_min', f.csat.min, 'INT')}`);
  if (f.csat?.max !== undefined) conditions.push(`csat <= ${bind('f_csat_max', f.csat.max, 'INT')}`);
  if (f.nps?.min !== undefined) conditions.push(`nps >= ${bind('f_nps_min', f.nps.min, 'INT')}`);
  if (f.nps?.max !== undefined) conditions.push(`nps <= ${bind('f_nps_max', f.nps.max, 'INT')}`);
  if (f.q !== undefined) {
    // The search text is letters, digits and dashes only, so no LIKE wildcard can hide in it.
    const p = bind('f_q', `${f.q}%`, 'STRING');
    conditions.push(`(interaction_id LIKE ${p} OR customer_id LIKE ${p} OR agent_id LIKE ${p} OR device_id LIKE ${p})`);
  }
  return { where: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', params };
}
