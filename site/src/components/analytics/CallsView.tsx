import { useEffect, useRef, useState } from 'preact/hooks';
import { CALLS_PAGE_SIZE, cursorIn, exportHref, loadCall, loadCalls, loadOptions, loadSummary, loadTrend } from '../../lib/analytics-data.ts';
import type { Call, CallDetail, CallsPage, FilterOptions, Loaded, PageCursor, Summary, Trend } from '../../lib/analytics-data.ts';
import { granularityFor, readFilters, toSearch } from '../../lib/analytics-query.ts';
import type { Filters } from '../../lib/analytics-query.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { formatCount } from '../../lib/format.ts';
import { SourceBadge } from '../badges.tsx';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { RecordTable } from '../RecordTable.tsx';
import type { TableColumn } from '../RecordTable.tsx';
import { CallDrawer } from './CallDrawer.tsx';
import { FilterBar } from './FilterBar.tsx';
import { LiveUnavailable, lakehouseDown, provenance } from './LiveState.tsx';
import { SummaryCards } from './SummaryCards.tsx';
import { TrendPanel } from './TrendPanel.tsx';
import { useDegradedRefresh, useLoad } from './use-load.ts';
import { useUrlState } from './use-url-state.ts';

export const CALL_SORTS = ['-started_at', 'started_at', '-handle_seconds', 'handle_seconds', '-csat', 'csat'] as const;
export const DEFAULT_CALL_SORT = '-started_at';

export interface CallsFirstView {
  calls?: Loaded<CallsPage> | undefined;
  summary?: Loaded<Summary> | undefined;
  trend?: Loaded<Trend> | undefined;
  options?: Loaded<FilterOptions> | undefined;
  detail?: Loaded<CallDetail> | undefined;
}

interface Props {
  search: string;
  first: CallsFirstView;
  columns: ColumnInfoMap;
}

/** The page's view of its URL: filters, sort, the trend's measure, the open contact. */
export function callsState(search: string) {
  const params = new URLSearchParams(search);
  const sort = params.get('sort') ?? DEFAULT_CALL_SORT;
  return {
    filters: readFilters(params),
    sort: (CALL_SORTS as readonly string[]).includes(sort) ? sort : DEFAULT_CALL_SORT,
    metric: params.get('metric') ?? 'contacts',
    call: params.get('call'),
  };
}

const describe = (columns: ColumnInfoMap, column: string) => columns[`interactions.${column}`]?.description;
const readable = (v: string) => v.replace(/_/g, ' ');

function callColumns(columns: ColumnInfoMap): Array<TableColumn<Call>> {
  return [
    { key: 'started_at', label: 'Started', description: describe(columns, 'started_at'), format: 'time', sortable: true },
    { key: 'interaction_id', label: 'Contact', description: describe(columns, 'interaction_id'), format: 'id' },
    { key: 'channel', label: 'Channel', description: describe(columns, 'channel'), format: 'text' },
    { key: 'issue_type', label: 'Issue', description: describe(columns, 'issue_type'), format: 'text', value: (c) => readable(c.issue_type) },
    {
      key: 'agent',
      label: 'Agent',
      description: columns['agents.agent_name']?.description,
      format: 'text',
      render: (c) => (
        <span class="two-line">
          {c.agent.name ?? c.agent.agent_id}
          {c.agent.team && <span class="muted"> · {c.agent.team}</span>}
        </span>
      ),
    },
    { key: 'region', label: 'Region', description: columns['customers.region']?.description, format: 'text', value: (c) => c.customer.region },
    { key: 'handle_seconds', label: 'Handle time', description: describe(columns, 'handle_seconds'), format: 'duration', sortable: true },
    { key: 'resolved_first_contact', label: 'FCR', description: describe(columns, 'resolved_first_contact'), format: 'boolean' },
    { key: 'transferred', label: 'Transferred', description: describe(columns, 'transferred'), format: 'boolean' },
    { key: 'csat', label: 'CSAT', description: describe(columns, 'csat'), format: 'number', sortable: true },
    { key: 'nps', label: 'NPS', description: describe(columns, 'nps'), format: 'number' },
  ];
}

/**
 * The calls page: filters in the URL, the KPI snapshot and trend against the compared window,
 * the contacts a page at a time (forward by the API's `links.next`, back by its `links.prev`),
 * a contact's detail in a drawer, and the CSV of exactly this view.
 */
export default function CallsView({ search: initialSearch, first, columns }: Props) {
  const [search, navigate] = useUrlState(initialSearch);
  const { filters, sort, metric, call } = callsState(search);
  const filterKey = toSearch(filters);
  const granularity = granularityFor(filters);

  const options = useLoad(first.options, 'options', () => loadOptions());
  const summary = useLoad(first.summary, filterKey, () => loadSummary(filters));
  const trend = useLoad(first.trend, `${filterKey}|${metric}|${granularity}`, () => loadTrend(filters, metric, granularity));
  const pageKey = `${filterKey}|${sort}`;
  /** The cursor of the page on screen and how many pages in it is, for this filter set and sort; a new one starts again at its first page. */
  const [paging, setPaging] = useState<{ key: string; cursor?: PageCursor; depth: number }>({ key: pageKey, depth: 0 });
  const position = paging.key === pageKey ? paging : { key: pageKey, depth: 0 };
  const goTo = (cursor: PageCursor | undefined, depth: number) => setPaging({ key: pageKey, ...(cursor ? { cursor } : {}), depth });
  const callsKey = `${pageKey}|${position.cursor ? `${position.cursor.param}=${position.cursor.value}` : ''}`;
  const depthOf = useRef(new Map<string, number>());
  depthOf.current.set(callsKey, position.depth);
  const calls = useLoad(first.calls, callsKey, () => loadCalls(filters, sort, position.cursor));
  const detail = useLoad(first.detail, call, () => (call ? loadCall(call) : Promise.resolve(undefined)));
  const degraded =
    (summary.value?.ok && summary.value.value.meta.live_data_unavailable) ||
    (trend.value?.ok && trend.value.value.meta.live_data_unavailable) ||
    (calls.value !== undefined && !calls.value.ok && lakehouseDown(calls.value));
  useDegradedRefresh(Boolean(degraded), () => {
    summary.reload();
    trend.reload();
    calls.reload();
    options.reload();
  });

  const drawer = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = drawer.current;
    if (!d) return;
    if (call && !d.open) d.showModal();
    if (!call && d.open) d.close();
  }, [call]);

  const go = (next: Filters) => navigate(toSearch(next, { sort: sort === DEFAULT_CALL_SORT ? undefined : sort, metric: metric === 'contacts' ? undefined : metric }));
  const extra = (over: Record<string, string | undefined>) => ({ sort: sort === DEFAULT_CALL_SORT ? undefined : sort, metric: metric === 'contacts' ? undefined : metric, ...over });
  const onSort = (key: string) => {
    const next = sort === `-${key}` ? key : `-${key}`;
    navigate(toSearch(filters, extra({ sort: next === DEFAULT_CALL_SORT ? undefined : next })));
  };
  const open = (c: Call) => navigate(toSearch(filters, extra({ call: c.interaction_id })), { replace: true });
  const closeDrawer = () => {
    if (new URLSearchParams(window.location.search).has('call')) navigate(toSearch(filters, extra({})), { replace: true });
  };
  const linkFor = (f: Record<string, string>) => `/calls${toSearch({ period: filters.period, start: filters.start, end: filters.end, ...f })}`;

  const page = calls.value?.ok ? calls.value.value : null;
  // The page on screen may be the one before a page change that is still loading.
  const from = (depthOf.current.get(calls.key ?? "") ?? 0) * CALLS_PAGE_SIZE + 1;
  const sortState = { key: sort.replace(/^-/, ''), desc: sort.startsWith('-') };

  return (
    <div class="analytics">
      <FilterBar filters={filters} options={options.value} keep={{ sort: sort === DEFAULT_CALL_SORT ? undefined : sort }} onChange={go} resetHref={`/calls${toSearch({}, extra({}))}`} />
      <SummaryCards summary={summary.value} />
      <TrendPanel trend={trend.value} metric={metric} onMetric={(m) => navigate(toSearch(filters, extra({ metric: m === 'contacts' ? undefined : m })), { replace: true })} />
      <section class="card calls-panel" aria-labelledby="calls-title" aria-busy={calls.value === undefined || calls.loading ? 'true' : undefined} data-testid="calls" data-state={calls.value === undefined ? 'loading' : calls.value.ok ? 'ready' : 'failed'}>
        <div class="section-head">
          <h2 id="calls-title">
            Contacts
            {page && (
              <span class="sub" data-testid="calls-range">
                {' '}
                · {page.meta.total === 0 ? 'none' : `${formatCount(from)}–${formatCount(from + page.data.length - 1)} of ${formatCount(page.meta.total)}`}
              </span>
            )}
          </h2>
          <div class="head-actions">
            {page && <SourceBadge data={provenance({ ...page.meta, live_data_unavailable: false })} />}
            <a class="button" href={exportHref(toSearch(filters, { sort }))} download data-testid="export-csv">
              Export CSV
            </a>
          </div>
        </div>
        {calls.value === undefined ? (
          <TableSkeleton label="Loading contacts…" rows={10} />
        ) : !calls.value.ok ? (
          <LiveUnavailable problem={calls.value} />
        ) : (
          <div class={`table-scroll${calls.loading ? ' refreshing' : ''}`}>
            <RecordTable
              testId="calls-table"
              caption="Contacts matching the filters. Use the arrow keys to move between rows and Enter to open one."
              captionHidden
              columns={callColumns(columns)}
              rows={calls.value.value.data}
              rowKey={(c) => c.interaction_id}
              sort={sortState}
              onSort={onSort}
              onOpen={open}
              openKey={call}
              empty="No contacts match these filters in this window."
            />
          </div>
        )}
        {page && (page.links.prev || page.links.next) && (
          <nav class="pager" aria-label="Pages of contacts">
            <button type="button" disabled={!page.links.prev || calls.loading} onClick={() => goTo(undefined, 0)} data-testid="page-first">
              First
            </button>
            <button
              type="button"
              disabled={!page.links.prev || calls.loading}
              onClick={() => {
                const cursor = cursorIn(page.links.prev);
                // Back at the start the API says so by giving no prev; the first page is page 1 whatever was counted.
                if (cursor) goTo(cursor, Math.max(0, position.depth - 1));
              }}
              data-testid="page-prev"
            >
              ← Previous
            </button>
            <span class="page-no" aria-live="polite">Page {position.depth + 1}</span>
            <button
              type="button"
              disabled={!page.links.next || calls.loading}
              onClick={() => {
                const cursor = cursorIn(page.links.next);
                if (cursor) goTo(cursor, position.depth + 1);
              }}
              data-testid="page-next"
            >
              Next →
            </button>
          </nav>
        )}
      </section>
      <CallDrawer dialogRef={drawer} id={call} detail={call && detail.key === call ? detail.value : undefined} columns={columns} linkFor={linkFor} onClose={closeDrawer} />
    </div>
  );
}
