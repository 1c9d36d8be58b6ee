import { useEffect, useRef, useState } from 'preact/hooks';
import type { Loaded, Person, SignalDetail, SignalStatus, SignalSummary, Written } from '../../lib/signals-data.ts';
import { STATUS_ACTION } from '../../lib/signals-data.ts';
import { deviation, describeActivity, metricValue, personName, readable, windowLabel, zText } from '../../lib/signals-text.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { settle } from '../../lib/dashboard-data.ts';
import type { Records } from '../../lib/dashboard-data.ts';
import { formatDecimal } from '../../lib/format.ts';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { LiveUnavailable } from '../analytics/LiveState.tsx';
import { Cell } from '../RecordTable.tsx';
import { SeverityPill, StatusPill } from './pills.tsx';
import { ContributionsChart, DriversChart } from './SignalCharts.tsx';

interface Props {
  id: string;
  detail: Loaded<SignalDetail> | undefined;
  /** The queue's row: newer than the detail when a live update came in since it loaded. */
  row: SignalSummary | undefined;
  me: Person;
  canEdit: boolean;
  busy: boolean;
  onChange: (change: { status: SignalStatus } | { assignee: string | null }) => void;
  onNote: (body: string) => Promise<Written<unknown>>;
  onClose: () => void;
  /** Headers for the rows behind it, from the dictionary. */
  columns: ColumnInfoMap;
  /** Move focus to the pane's heading when it shows another signal (not while it follows the queue's cursor). */
  takeFocus: boolean;
}

type TableModule = typeof import('../dashboard/RecordsTable.tsx');
type RowsView = { status: 'loading' } | { status: 'ready'; records: Records; view: TableModule } | { status: 'failed'; problem: { problem: string; code?: string } };

/** The rows behind the signal (the drill-down a tile has, narrowed to the entity and window), read on demand. */
function useRows(href: string | undefined) {
  const [view, setView] = useState<RowsView | null>(null);
  useEffect(() => setView(null), [href]);
  const load = async () => {
    if (!href) return;
    setView({ status: 'loading' });
    // The table's code comes with the rows, as the dashboard's Rows dialog loads it.
    const [loaded, view] = await Promise.all([
      settle((o) => fetch(href, { ...o.init, headers: { accept: 'application/json' } }), (b) => b as Records),
      import('../dashboard/RecordsTable.tsx'),
    ]);
    setView(loaded.ok ? { status: 'ready', records: loaded.value, view } : { status: 'failed', problem: loaded });
  };
  return { view, load };
}

function Notes({ notes, canEdit, onNote }: { notes: SignalDetail['notes']; canEdit: boolean; onNote: Props['onNote'] }) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim() || sending) return;
    setSending(true);
    const done = await onNote(text.trim());
    setSending(false);
    if (done.ok) {
      setText('');
      setProblem(null);
    } else setProblem(done.problem);
  };
  return (
    <section aria-labelledby="sig-notes-title" class="sig-section">
      <h3 id="sig-notes-title">
        Notes <span class="count">{notes.length}</span>
      </h3>
      {notes.length > 0 && (
        <ul class="sig-notes" data-testid="signal-notes">
          {notes.map((n) => (
            <li key={n.id}>
              <div class="sig-note-head">
                <strong>{personName(n.author) ?? 'Someone'}</strong> <Cell value={n.created_at} format="time" />
              </div>
              <p>{n.body}</p>
            </li>
          ))}
        </ul>
      )}
      {canEdit && (
        <form class="sig-note-form" onSubmit={submit}>
          <label for="sig-note">Add a note</label>
          <textarea id="sig-note" rows={2} maxLength={4000} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} placeholder="What you found, who you asked, what happens next" />
          {problem && <p class="problem" role="alert">{problem}</p>}
          <button type="submit" disabled={sending || !text.trim()}>
            {sending ? 'Adding…' : 'Add note'}
          </button>
        </form>
      )}
    </section>
  );
}

function Timeline({ activity }: { activity: SignalDetail['activity'] }) {
  const events = [...activity].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return (
    <section aria-labelledby="sig-activity-title" class="sig-section">
      <h3 id="sig-activity-title">Activity</h3>
      {events.length === 0 ? (
        <p class="empty">Nothing has happened to this signal yet.</p>
      ) : (
        <ol class="sig-timeline" data-testid="signal-timeline" aria-label="Activity, newest first">
          {events.map((e) => (
            <li key={e.id} data-kind={e.kind}>
              <span class="dot" aria-hidden="true" />
              <span class="what">{describeActivity(e)}</span>
              <Cell value={e.at} format="time" />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/**
 * One signal beside the queue: what moved, by how much and where, the marts' narrative, the two
 * explanations, links to the tile and the rows behind it, the workflow's next steps, notes, and
 * the trail of everything that happened to it.
 */
export function SignalDetailPane({ id, detail, row, me, canEdit, busy, onChange, onNote, onClose, columns, takeFocus }: Props) {
  const loaded = detail?.ok ? detail.value : null;
  // A live update may be newer than the detail: its status, owner and severity win until the detail reloads.
  const d = loaded && row && row.version > loaded.version ? { ...loaded, ...row } : loaded;
  const rows = useRows(d?.records?.href);
  const head = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (takeFocus) head.current?.focus({ preventScroll: true });
  }, [id]);
  const unit = d?.metric.unit;
  const next: readonly SignalStatus[] = d ? (loaded && d.version === loaded.version ? loaded.allowed_transitions : []) : [];
  const mine = d?.assignee?.id === me.id;

  return (
    <aside class="sig-detail card" aria-labelledby="sig-title" aria-busy={!detail ? 'true' : undefined} data-testid="signal-detail" data-state={!detail ? 'loading' : detail.ok ? 'ready' : 'failed'} data-signal={id}>
      <div class="sig-detail-head">
        <h2 id="sig-title" tabIndex={-1} ref={head}>
          {d ? (
            <>
              {d.metric_label} <span class="muted">·</span> {d.entity_label}
            </>
          ) : (
            <>Signal <span class="id">{id}</span></>
          )}
        </h2>
        <button type="button" class="close" onClick={onClose} aria-label="Close the signal" title="Close (Esc)">✕</button>
      </div>
      {!detail && <TableSkeleton label="Loading the signal…" rows={6} />}
      {detail && !detail.ok && (
        <p class="notice error" role="alert" data-problem-code={detail.code ?? 'unknown'}>{detail.problem}</p>
      )}
      {d && (
        <div class="sig-detail-body">
          <p class="sig-badges">
            <SeverityPill severity={d.severity} />
            <StatusPill status={d.status} />
            {d.stale && <span class="pill stale" title="The marts no longer report this deviation; its workflow state is kept">Stale</span>}
            <span class="muted">{readable(d.signal_type)} · {readable(d.entity_type)} <span class="id">{d.entity_id}</span></span>
          </p>
          <dl class="facts sig-facts">
            <div><dt>Observed</dt><dd data-testid="observed">{metricValue(d.observed_value, unit)}</dd></div>
            <div><dt>Expected</dt><dd>{metricValue(d.expected_value, unit)} <span class="muted">± {metricValue(d.baseline_stddev, unit)}</span></dd></div>
            <div><dt>Deviation</dt><dd class={`dir-${d.direction}`}>{d.direction === 'up' ? '▲' : '▼'} {deviation(d) ?? '—'} <span class="muted">{zText(d.z_score)}</span></dd></div>
            <div><dt>Confidence</dt><dd>{d.confidence === null ? '—' : `${formatDecimal(d.confidence * 100, 0)} %`}</dd></div>
            <div><dt>Window</dt><dd>{windowLabel(d.window_start, d.window_end)}</dd></div>
            <div><dt>Detected</dt><dd><Cell value={d.detected_at} format="time" /></dd></div>
          </dl>

          <div class="sig-actions" role="group" aria-label="Triage">
            <div class="sig-owner">
              <span class="muted">Owner</span> <strong data-testid="detail-assignee">{personName(d.assignee) ?? 'Nobody'}</strong>
              {canEdit && !mine && (
                <button type="button" disabled={busy} onClick={() => onChange({ assignee: 'me' })} data-testid="assign-me">
                  Assign to me
                </button>
              )}
              {canEdit && d.assignee && (
                <button type="button" disabled={busy} onClick={() => onChange({ assignee: null })} data-testid="unassign">
                  Unassign
                </button>
              )}
            </div>
            {canEdit ? (
              <div class="sig-steps" data-testid="status-actions">
                {ordered(d.status, next).map((s, i) => (
                  <button key={s} type="button" class={i === 0 ? 'primary' : undefined} disabled={busy} data-status={s} onClick={() => onChange({ status: s })}>
                    {stepLabel(d.status, s)}
                  </button>
                ))}
                {next.length === 0 && <span class="muted">Updating…</span>}
              </div>
            ) : (
              <p class="hint" data-testid="read-only">You can read signals; editors and admins triage them.</p>
            )}
          </div>

          {d.narrative && (
            <section aria-labelledby="sig-narrative-title" class="sig-section">
              <h3 id="sig-narrative-title">What the marts say</h3>
              <p class="sig-narrative" data-testid="signal-narrative">{d.narrative}</p>
            </section>
          )}
          <div class="sig-charts">
            <section aria-labelledby="sig-contrib-title" class="sig-section">
              <h3 id="sig-contrib-title">Where it comes from</h3>
              <ContributionsChart rows={d.contributions} />
            </section>
            <section aria-labelledby="sig-drivers-title" class="sig-section">
              <h3 id="sig-drivers-title">Model drivers</h3>
              <DriversChart rows={d.drivers} />
            </section>
          </div>

          <section aria-labelledby="sig-source-title" class="sig-section">
            <h3 id="sig-source-title">Behind it</h3>
            <p class="sig-links">
              {d.tile?.href && (
                <a class="button" href={d.tile.href} data-testid="tile-link">
                  Open the {d.metric.label} tile
                </a>
              )}
              {d.records?.href && (
                <button type="button" onClick={() => void rows.load()} aria-expanded={rows.view ? 'true' : 'false'} aria-controls="sig-rows" data-testid="rows-button">
                  Rows behind it
                </button>
              )}
            </p>
            {d.metric.definition && <p class="hint sig-definition"><strong>{d.metric.label}</strong>: {d.metric.definition} <span class="muted">({d.metric.source})</span></p>}
            <div id="sig-rows">
              {rows.view?.status === 'loading' && <TableSkeleton label="Loading the rows behind the signal…" rows={5} />}
              {rows.view?.status === 'failed' && <LiveUnavailable problem={rows.view.problem} />}
              {rows.view?.status === 'ready' && (
                <div class="table-scroll sig-rows" data-testid="signal-rows" role="region" aria-label="Rows behind the signal" tabIndex={0}>
                  <rows.view.view.RecordsTable records={rows.view.records} columns={columns} />
                </div>
              )}
            </div>
          </section>

          <Notes notes={d.notes} canEdit={canEdit} onNote={onNote} />
          <Timeline activity={loaded?.activity ?? []} />
        </div>
      )}
    </aside>
  );
}

const CLOSED = new Set<SignalStatus>(['resolved', 'false_positive', 'expected']);

/** The step forward first (it is the primary button), dismissals next, a step back last. */
function ordered(from: SignalStatus, next: readonly SignalStatus[]): SignalStatus[] {
  const rank = (s: SignalStatus) => (s === 'acknowledged' && from === 'investigating' ? 9 : ['acknowledged', 'investigating', 'resolved', 'false_positive', 'expected'].indexOf(s));
  return [...next].sort((a, b) => rank(a) - rank(b));
}

/** Going back to acknowledged is a reopen from a closed status, a step back from investigating. */
function stepLabel(from: SignalStatus, to: SignalStatus): string {
  if (to === 'acknowledged' && CLOSED.has(from)) return 'Reopen';
  if (to === 'acknowledged' && from === 'investigating') return 'Back to acknowledged';
  return STATUS_ACTION[to];
}
