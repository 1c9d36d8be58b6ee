import type { ComponentChildren } from 'preact';
import { loadLeaderboard, loadOptions, loadSummary, loadTrend } from '../../lib/analytics-data.ts';
import type { FilterOptions, Leaderboard, LeaderboardEntry, Loaded, Summary, Trend } from '../../lib/analytics-data.ts';
import { granularityFor, readFilters, toSearch } from '../../lib/analytics-query.ts';
import type { Filters } from '../../lib/analytics-query.ts';
import { formatCount } from '../../lib/format.ts';
import { SourceBadge } from '../badges.tsx';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { RecordTable } from '../RecordTable.tsx';
import type { TableColumn } from '../RecordTable.tsx';
import { FilterBar } from './FilterBar.tsx';
import { LiveUnavailable, provenance } from './LiveState.tsx';
import { formatMeasure, measuresOf } from './measures.ts';
import { SummaryCards } from './SummaryCards.tsx';
import { TrendPanel } from './TrendPanel.tsx';
import { useDegradedRefresh, useLoad } from './use-load.ts';
import { useUrlState } from './use-url-state.ts';

const RANKED = ['contacts', 'avg_handle_time', 'csat_avg', 'first_contact_resolution', 'transfer_rate'] as const;
/** Which way is "best first" when a column is first sorted: less is better for handle time and transfers. */
const ASCENDING_FIRST = new Set(['name', 'avg_handle_time', 'transfer_rate']);
export const DEFAULT_AGENT_SORT = '-contacts';

export const BADGE_TEXT: Record<string, string> = { top_10_percent: 'Top 10%', top_quartile: 'Top 25%', bottom_quartile: 'Bottom 25%' };

export interface AgentsFirstView {
  board?: Loaded<Leaderboard> | undefined;
  summary?: Loaded<Summary> | undefined;
  trend?: Loaded<Trend> | undefined;
  options?: Loaded<FilterOptions> | undefined;
}

export function agentsState(search: string) {
  const params = new URLSearchParams(search);
  const sort = params.get('sort') ?? DEFAULT_AGENT_SORT;
  const valid = ['name', ...RANKED].some((f) => sort === f || sort === `-${f}`);
  return {
    filters: readFilters(params),
    group: params.get('group') === 'team' ? ('team' as const) : ('agent' as const),
    sort: valid ? sort : DEFAULT_AGENT_SORT,
    metric: params.get('metric') ?? 'contacts',
  };
}

function Ranked({ entry, name, unit }: { entry: LeaderboardEntry; name: string; unit: string }) {
  const m = entry.measures[name];
  const value = name === 'contacts' ? entry.contacts : m?.value;
  const badge = m?.badge;
  return (
    <span class="lb-value">
      {badge && <span class={`pill ${badge}`} data-badge={badge}>{BADGE_TEXT[badge]}</span>}
      <span>{value === null || value === undefined ? '—' : formatMeasure(value, unit)}</span>
      <span class="lb-rank" title={m?.percentile != null ? `Better than or equal to ${m.percentile} % of ranked entries` : undefined}>
        {m?.rank ? `#${m.rank}` : ''}
      </span>
    </span>
  );
}

/**
 * The agents page: the leaderboard (agents or teams) ranked on each measure with its percentile
 * badge, sortable on every column, under the same filters, summary and trend as the calls page.
 */
export default function AgentsView({ search: initialSearch, first }: { search: string; first: AgentsFirstView }) {
  const [search, navigate] = useUrlState(initialSearch);
  const { filters, group, sort, metric } = agentsState(search);
  const filterKey = toSearch(filters);
  const granularity = granularityFor(filters);
  const options = useLoad(first.options, 'options', () => loadOptions());
  const summary = useLoad(first.summary, filterKey, () => loadSummary(filters));
  const trend = useLoad(first.trend, `${filterKey}|${metric}|${granularity}`, () => loadTrend(filters, metric, granularity));
  const board = useLoad(first.board, `${filterKey}|${group}|${sort}`, () => loadLeaderboard(filters, group, sort));

  const degraded =
    (summary.value?.ok && summary.value.value.meta.live_data_unavailable) ||
    (trend.value?.ok && trend.value.value.meta.live_data_unavailable) ||
    (board.value?.ok && board.value.value.meta.live_data_unavailable);
  useDegradedRefresh(Boolean(degraded), () => {
    summary.reload();
    trend.reload();
    board.reload();
    options.reload();
  });

  const extra = (over: Record<string, string | undefined>) => ({
    group: group === 'team' ? 'team' : undefined,
    sort: sort === DEFAULT_AGENT_SORT ? undefined : sort,
    metric: metric === 'contacts' ? undefined : metric,
    ...over,
  });
  const go = (next: Filters) => navigate(toSearch(next, extra({})));
  const onSort = (key: string) => {
    const bestFirst = ASCENDING_FIRST.has(key) ? key : `-${key}`;
    const next = sort === bestFirst ? (bestFirst.startsWith('-') ? key : `-${key}`) : bestFirst;
    navigate(toSearch(filters, extra({ sort: next === DEFAULT_AGENT_SORT ? undefined : next })));
  };
  const groupLink = (g: 'agent' | 'team') => `/agents${toSearch(filters, extra({ group: g === 'team' ? 'team' : undefined, sort: undefined }))}`;
  const callsOf = (e: LeaderboardEntry) => `/calls${toSearch({ ...filters, ...(group === 'team' ? { team: e.key } : { agent_id: e.key }) })}`;

  const meta = board.value?.ok ? board.value.value.meta : undefined;
  const measures = measuresOf(meta ?? (summary.value?.ok ? summary.value.value.meta : undefined));
  const unitOf = (name: string) => measures.find((m) => m.name === name)?.unit ?? 'count';
  const labelOf = (name: string) => measures.find((m) => m.name === name)?.label ?? name;
  const entries = board.value?.ok ? board.value.value.data : null;
  const unranked = entries?.filter((e) => !e.eligible).length ?? 0;

  const columns: Array<TableColumn<LeaderboardEntry>> = [
    {
      key: 'name',
      label: group === 'team' ? 'Team' : 'Agent',
      format: 'text',
      sortable: true,
      render: (e): ComponentChildren => (
        <span class="lb-name">
          <a href={callsOf(e)} title={`Open ${e.name}’s contacts`}>{group === 'team' ? e.name.replace(/_/g, ' ') : e.name}</a>
          {group === 'agent' && e.team && <span class="muted" title={e.region ? `Works from ${e.region}` : undefined}> · {e.team}</span>}
          {!e.eligible && <> <span class="pill unranked">not ranked</span></>}
        </span>
      ),
    },
    ...RANKED.map((name) => ({
      key: name,
      label: name === 'contacts' ? 'Contacts' : labelOf(name),
      description: `${labelOf(name)}: rank among ${group === 'team' ? 'teams' : 'agents'} with at least ${meta?.min_contacts ?? 20} contacts, and the percentile badge`,
      format: 'number' as const,
      sortable: true,
      render: (e: LeaderboardEntry) => <Ranked entry={e} name={name} unit={unitOf(name)} />,
    })),
  ];

  return (
    <div class="analytics">
      <FilterBar filters={filters} options={options.value} keep={extra({ metric: undefined })} onChange={go} resetHref={`/agents${toSearch({}, extra({}))}`} />
      <SummaryCards summary={summary.value} />
      <TrendPanel trend={trend.value} metric={metric} onMetric={(m) => navigate(toSearch(filters, extra({ metric: m === 'contacts' ? undefined : m })), { replace: true })} />
      <section class="card" aria-labelledby="board-title" aria-busy={board.value === undefined || board.loading ? 'true' : undefined} data-testid="leaderboard" data-state={board.value === undefined ? 'loading' : !board.value.ok ? 'failed' : entries ? 'ready' : 'unavailable'}>
        <div class="section-head">
          <h2 id="board-title">
            Leaderboard
            {entries && <span class="sub"> · {formatCount(entries.length)} {group === 'team' ? 'teams' : 'agents'}</span>}
          </h2>
          <div class="head-actions">
            {meta && <SourceBadge data={provenance(meta)} />}
            <nav class="segmented" aria-label="Rank">
              {(['agent', 'team'] as const).map((g) => (
                <a
                  key={g}
                  href={groupLink(g)}
                  aria-current={group === g ? 'page' : undefined}
                  data-group={g}
                  onClick={(ev) => {
                    ev.preventDefault();
                    navigate(new URL(groupLink(g), window.location.origin).search);
                  }}
                >
                  {g === 'agent' ? 'Agents' : 'Teams'}
                </a>
              ))}
            </nav>
          </div>
        </div>
        {board.value === undefined ? (
          <TableSkeleton label="Loading the leaderboard…" rows={10} />
        ) : !board.value.ok ? (
          <LiveUnavailable problem={board.value} />
        ) : entries === null ? (
          <LiveUnavailable meta={board.value.value.meta} />
        ) : (
          <div class={`table-scroll${board.loading ? ' refreshing' : ''}`}>
            <RecordTable
              testId="leaderboard-table"
              caption={`${group === 'team' ? 'Teams' : 'Agents'} ranked on each measure`}
              captionHidden
              columns={columns}
              rows={entries}
              rowKey={(e) => e.key}
              rowClass={(e) => (e.eligible ? undefined : 'ineligible')}
              sort={{ key: sort.replace(/^-/, ''), desc: sort.startsWith('-') }}
              onSort={onSort}
              empty="Nobody handled a contact under these filters."
            />
          </div>
        )}
        {meta && entries && (
          <p class="lb-legend">
            <span><span class="pill top_10_percent">{BADGE_TEXT.top_10_percent}</span> <span class="pill top_quartile">{BADGE_TEXT.top_quartile}</span> <span class="pill bottom_quartile">{BADGE_TEXT.bottom_quartile}</span> by each measure’s direction (shorter handle time and fewer transfers rank higher).</span>
            <span>
              Ranked among {group === 'team' ? 'teams' : 'agents'} with at least {formatCount(meta.min_contacts)} contacts{unranked > 0 ? `; ${unranked} below that are listed without a rank` : ''}.
            </span>
          </p>
        )}
      </section>
    </div>
  );
}
