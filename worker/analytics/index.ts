/**
 * Support-call analytics from the lakehouse. Routes ask this module, and only this module, for
 * the calls list, one call, the CSV export, the agents leaderboard, the KPI summary, trends,
 * breakdowns and the filter options. Behind it: filter parsing and binding, the keyset cursor,
 * the measures (catalog metrics read from the catalog), the one aggregate question shape, the
 * statement runner and the cache.
 *
 * Failure: where a degraded answer means something (the summary, trends, breakdowns, the
 * leaderboard, the filter options) a lakehouse failure answers 200 with `live_data_unavailable`
 * and the reason, as tiles do; the list, a call and the export answer 503 databricks_unavailable.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { ApiError, isDependencyError } from '../http/errors.ts';
import { dependencySentence } from '../http/problem.ts';
import { openMetrics } from '../metrics/index.ts';
import { composedSliceCount, MAX_COMPOSED_SLICES } from './aggregate.ts';
import type { Granularity } from './aggregate.ts';
import { countCalls, DEFAULT_SORT, fetchDetail, fetchPage, toCall } from './calls.ts';
import type { Call, CallDetail, Sort } from './calls.ts';
import { decodeCursor, encodeCursor, scopeHash } from './cursor.ts';
import { exportResponse } from './export.ts';
import { canonicalFilters, parseFilters } from './filters.ts';
import type { ParsedFilters, RawQuery } from './filters.ts';
import { breakdown, measureInfo, MAX_POINTS, summary, trend, trendPoints } from './insights.ts';
import type { BreakdownData, Dimension, SummaryData, TrendData } from './insights.ts';
import { DEFAULT_MIN_CONTACTS, LEADERBOARD_MEASURES, leaderboard, sortEntries } from './leaderboard.ts';
import type { LeaderboardEntry } from './leaderboard.ts';
import { MEASURE_NAMES, resolveMeasures } from './measures.ts';
import type { Measure, MeasureName } from './measures.ts';
import { dictionaryOptions, readOptions } from './options.ts';
import type { FilterOptions } from './options.ts';
import { openRun, unavailable } from './run.ts';
import type { Run } from './run.ts';

export { FilterQueryShape, MAX_VALUES_PER_FILTER } from './filters.ts';
export { CallSchema, CallDetailSchema, SORTS, EXPORT_COLUMNS } from './calls.ts';
export { SummaryDataSchema, BreakdownDataSchema, TrendDataSchema, MeasureInfoSchema, DIMENSIONS, GRANULARITIES } from './insights.ts';
export { LeaderboardEntrySchema, DEFAULT_MIN_CONTACTS } from './leaderboard.ts';
export { FilterOptionsSchema } from './options.ts';
export { MEASURE_NAMES } from './measures.ts';
export { EXPORT_MAX_ROWS } from './export.ts';

/** How long answers are reused. Pages are short-lived; options change only with the data. */
const SECONDS = { aggregate: 300, page: 60, count: 300, detail: 300, options: 900 } as const;

export const PAGE_SIZE_MAX = 100;
export const PAGE_SIZE_DEFAULT = 25;

const CacheStateSchema = z.enum(['hit', 'miss', 'bypass']);

/** What every aggregate answer says about itself. */
export const AnalyticsMetaSchema = z
  .object({
    window: z.object({ start: z.string(), end: z.string() }),
    period: z.string().openapi({ description: 'The period asked for, or `custom` for start and end' }),
    compared_with: z
      .object({ start: z.string(), end: z.string(), kind: z.enum(['previous_equal_window', 'previous_period_to_date']), description: z.string() })
      .openapi({ description: 'The window every change is measured against, named' }),
    filters: z.record(z.string(), z.string()),
    measures: z.array(z.object({ name: z.string() }).passthrough()),
    as_of: z.string(),
    cache: CacheStateSchema,
    source: z.literal('databricks'),
    live_data_unavailable: z.boolean(),
    reason: z.string().optional(),
  })
  .openapi('AnalyticsMeta');
type AnalyticsMeta = z.infer<typeof AnalyticsMetaSchema>;

export interface Answer<T> {
  data: T | null;
  meta: AnalyticsMeta;
}

export interface CallsPage {
  data: Call[];
  meta: { has_more: boolean; total: number; page_size: number; sort: Sort; window: { start: string; end: string }; filters: Record<string, string>; as_of: string; cache: 'hit' | 'miss' | 'bypass'; source: 'databricks' };
  links: { self: string; next: string | null; prev: string | null };
}

export interface AnalyticsSession {
  calls(query: RawQuery, url: URL): Promise<CallsPage>;
  call(id: string): Promise<CallDetail & { as_of: string; cache: 'hit' | 'miss' | 'bypass' }>;
  exportCalls(query: RawQuery): Promise<Response>;
  summary(query: RawQuery): Promise<Answer<SummaryData>>;
  trend(query: RawQuery, measure: MeasureName, granularity: Granularity): Promise<Answer<TrendData>>;
  breakdown(query: RawQuery, dimension: Dimension): Promise<Answer<BreakdownData>>;
  agents(query: RawQuery, group: 'agent' | 'team', minContacts: number, sort: string): Promise<Answer<LeaderboardEntry[]> & { meta: { min_contacts: number; group: string } }>;
  options(): Promise<{ data: FilterOptions; meta: { as_of: string; cache: 'hit' | 'miss' | 'bypass'; source: 'databricks' | 'dictionary'; live_data_unavailable: boolean; reason?: string } }>;
}

export async function openAnalytics(c: Context<AppEnv>): Promise<AnalyticsSession> {
  const run = openRun(c);
  // The catalog is only needed for the measures; the list and a call do not wait for it.
  let measuresOnce: Promise<Measure[]> | undefined;
  const measures = (names: readonly MeasureName[] = MEASURE_NAMES) => {
    measuresOnce ??= openMetrics(c).then((m) => resolveMeasures(MEASURE_NAMES, (n) => m.metric(n), run.qualify('interactions')));
    return measuresOnce.then((all) => all.filter((m) => names.includes(m.name)));
  };
  return {
    calls: (query, url) => listCalls(run, query, url),
    async call(id) {
      try {
        const answer = await run.cached({ op: 'call', id }, SECONDS.detail, () => fetchDetail(run, id));
        if (!answer.value) throw new ApiError('not_found', `No contact ${id}.`);
        return { ...answer.value, as_of: answer.as_of, cache: answer.cache };
      } catch (err) {
        return unavailable(err, 'The contact', run.log);
      }
    },
    exportCalls: (query) => exportResponse(run, parseFilters(query, run.now), sortOf(query)),
    async summary(query) {
      const parsed = parseFilters(query, run.now);
      const ms = await measures();
      return answer(run, parsed, ms, { op: 'summary' }, () => summary(run, usable(ms), parsed));
    },
    async trend(query, name, granularity) {
      const parsed = parseFilters(query, run.now);
      const [m] = await measures([name]);
      const points = trendPoints(parsed, granularity);
      if (points > MAX_POINTS) {
        throw new ApiError('validation_failed', `A ${granularity} series over this window has ${points} points; at most ${MAX_POINTS}. Choose a coarser granularity.`, {
          errors: [{ pointer: 'query/granularity', message: `${points} points is more than ${MAX_POINTS}` }],
        });
      }
      const slices = composedSliceCount([m!], { kind: 'bucket', granularity }, parsed.period);
      if (slices > MAX_COMPOSED_SLICES) {
        throw new ApiError('validation_failed', `${name} runs its catalog query once per point; ${slices} runs is more than ${MAX_COMPOSED_SLICES}. Choose a coarser granularity.`, {
          errors: [{ pointer: 'query/granularity', message: `${name} by ${granularity} over this window needs ${slices} runs` }],
        });
      }
      if (m!.plan.kind === 'missing') throw new ApiError('conflict', m!.plan.reason);
      return answer(run, parsed, [m!], { op: 'trend', granularity }, () => trend(run, m!, parsed, granularity));
    },
    async breakdown(query, dimension) {
      const parsed = parseFilters(query, run.now);
      const ms = await measures();
      return answer(run, parsed, ms, { op: 'breakdown', dimension }, () => breakdown(run, usable(ms), parsed, dimension));
    },
    async agents(query, group, minContacts, sort) {
      const parsed = parseFilters(query, run.now);
      const ms = await measures(LEADERBOARD_MEASURES);
      const result = await answer(run, parsed, ms, { op: 'leaderboard', group, minContacts }, async () => {
        const agents = group === 'agent' ? (await cachedOptions(run)).value.agents : [];
        return leaderboard(run, usable(ms), parsed, group, minContacts, agents);
      });
      return { data: result.data ? sortEntries(result.data, sort) : null, meta: { ...result.meta, min_contacts: minContacts, group } };
    },
    async options() {
      try {
        const found = await cachedOptions(run);
        return { data: found.value, meta: { as_of: found.as_of, cache: found.cache, source: 'databricks', live_data_unavailable: false } };
      } catch (err) {
        if (!isDependencyError(err, 'databricks')) throw err;
        run.log.warn('lakehouse unavailable', { what: 'filter options', error: err });
        return {
          data: dictionaryOptions(),
          meta: { as_of: new Date().toISOString(), cache: 'bypass', source: 'dictionary', live_data_unavailable: true, reason: dependencySentence(err) },
        };
      }
    },
  };
}

export { DEFAULT_SORT };

const usable = (ms: readonly Measure[]) => ms.filter((m) => m.plan.kind !== 'missing');

function sortOf(query: RawQuery): Sort {
  return (typeof query.sort === 'string' ? query.sort : DEFAULT_SORT) as Sort;
}

function cachedOptions(run: Run) {
  return run.cached({ op: 'options' }, SECONDS.options, () => readOptions(run));
}

/** An aggregate through the cache, degraded visibly when the lakehouse fails. */
async function answer<T>(run: Run, parsed: ParsedFilters, ms: readonly Measure[], what: Record<string, unknown>, compute: () => Promise<T>): Promise<Answer<T>> {
  const { current, previous } = parsed.period;
  const filters = canonicalFilters(parsed.filters);
  const meta = {
    window: { start: current.start.toISOString(), end: current.end.toISOString() },
    period: parsed.period.period,
    compared_with: { start: previous.start.toISOString(), end: previous.end.toISOString(), ...parsed.period.comparison },
    filters,
    measures: ms.map(measureInfo),
    source: 'databricks' as const,
  };
  try {
    const found = await run.cached(
      { ...what, filters, windows: [meta.window, meta.compared_with.start, meta.compared_with.end], measures: ms.map((m) => [m.name, m.definition]) },
      SECONDS.aggregate,
      compute,
    );
    return { data: found.value, meta: { ...meta, as_of: found.as_of, cache: found.cache, live_data_unavailable: false } };
  } catch (err) {
    if (!isDependencyError(err, 'databricks')) throw err;
    run.log.warn('lakehouse unavailable', { ...what, error: err });
    return { data: null, meta: { ...meta, as_of: new Date().toISOString(), cache: 'bypass', live_data_unavailable: true, reason: dependencySentence(err) } };
  }
}

async function listCalls(run: Run, query: RawQuery, url: URL): Promise<CallsPage> {
  const parsed = parseFilters(query, run.now);
  const sort = sortOf(query);
  const size = query['page[size]'] === undefined ? PAGE_SIZE_DEFAULT : Number(query['page[size]']);
  const filters = canonicalFilters(parsed.filters);
  const requested = { period: query.period, start: query.start, end: query.end };
  const scope = await scopeHash({ sort, filters, requested });
  let window = parsed.period.current;
  let after: [string | number, string] | undefined;
  let before: [string | number, string] | undefined;
  const afterToken = query['page[after]'];
  const beforeToken = query['page[before]'];
  if (typeof afterToken === 'string' && afterToken !== '' && typeof beforeToken === 'string' && beforeToken !== '') {
    throw new ApiError('validation_failed', 'Give page[after] or page[before], not both.', { errors: [{ pointer: 'query/page[before]', message: 'Give page[after] or page[before], not both.' }] });
  }
  for (const [token, dir] of [[afterToken, 'next'], [beforeToken, 'prev']] as const) {
    if (typeof token !== 'string' || token === '') continue;
    const state = await decodeCursor(token, scope, run.secret, dir);
    window = { start: new Date(state.window[0]), end: new Date(state.window[1]) };
    if (dir === 'next') after = state.after;
    else before = state.after;
  }
  const windowIso = { start: window.start.toISOString(), end: window.end.toISOString() };
  try {
    const [page, total] = await Promise.all([
      run.cached({ op: 'calls', scope, window: windowIso, after: after ?? null, before: before ?? null, size }, SECONDS.page, async () =>
        // One row more than the page says whether there is another.
        fetchPage(run, { filters: parsed.filters, window, sort, ...(after ? { after } : {}), ...(before ? { before } : {}), limit: size + 1 }),
      ),
      run.cached({ op: 'count', filters, window: windowIso }, SECONDS.count, () => countCalls(run, parsed.filters, window)),
    ]);
    // A page read backwards comes nearest first; it is shown in the listing's order.
    const rows = before ? page.value.slice(0, size).reverse() : page.value.slice(0, size);
    const more = page.value.length > size;
    // Forwards, a next page exists when the extra row did; backwards, the page we came from follows.
    const hasNext = before ? rows.length > 0 : more;
    const hasPrev = before ? more : after !== undefined && rows.length > 0;
    const link = async (row: Record<string, unknown> | undefined, dir: 'next' | 'prev'): Promise<string | null> => {
      if (!row) return null;
      const cursor = await encodeCursor(
        { scope, window: [windowIso.start, windowIso.end], after: [row.cc_sort as string | number, String(row.interaction_id)], ...(dir === 'prev' ? { dir } : {}) },
        run.secret,
      );
      const target = new URL(url);
      target.searchParams.delete('page[after]');
      target.searchParams.delete('page[before]');
      target.searchParams.set(dir === 'next' ? 'page[after]' : 'page[before]', cursor);
      return `${target.pathname}${target.search}`;
    };
    const [next, prev] = await Promise.all([link(hasNext ? rows.at(-1) : undefined, 'next'), link(hasPrev ? rows[0] : undefined, 'prev')]);
    return {
      data: rows.map(toCall),
      meta: { has_more: hasNext, total: total.value, page_size: size, sort, window: windowIso, filters, as_of: page.as_of, cache: page.cache, source: 'databricks' },
      links: { self: `${url.pathname}${url.search}`, next, prev },
    };
  } catch (err) {
    return unavailable(err, 'The calls list', run.log);
  }
}
