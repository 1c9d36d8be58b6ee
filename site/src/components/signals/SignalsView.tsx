import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { store } from '../../lib/store.ts';
import { addNote, bulkUpdate, loadResponseTimes, loadSignal, loadSignals, PAGE_SIZE, STATUS_LABEL, STATUSES, updateSignal } from '../../lib/signals-data.ts';
import type { Change, Loaded, Person, ResponseTimes as Times, SignalDetail, SignalsPage, SignalStatus, SignalSummary } from '../../lib/signals-data.ts';
import { apiQuery, readSignalsState, signalsSearch, statusesOf } from '../../lib/signals-query.ts';
import type { SignalFilters } from '../../lib/signals-query.ts';
import { ago, deviation, metricValue, personName, readable, zText } from '../../lib/signals-text.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { formatCount } from '../../lib/format.ts';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { RecordTable } from '../RecordTable.tsx';
import type { TableColumn } from '../RecordTable.tsx';
import { useLoad } from '../analytics/use-load.ts';
import { useUrlState } from '../analytics/use-url-state.ts';
import { SeverityPill, StatusPill } from './pills.tsx';
import { ResponseTimes } from './ResponseTimes.tsx';
import { SignalDetailPane } from './SignalDetailPane.tsx';
import { SignalCounts, SignalFilterBar } from './SignalFilters.tsx';
import { Shortcuts } from './Shortcuts.tsx';
import './panel.css';
import './signals.css';


export interface SignalsFirstView {
  page?: Loaded<SignalsPage> | undefined;
  detail?: Loaded<SignalDetail> | undefined;
  times?: Loaded<Times> | undefined;
}

interface Props {
  search: string;
  first: SignalsFirstView;
  me: Person;
  canEdit: boolean;
  metrics: Array<{ name: string; label: string }>;
  /** Headers for the rows behind a signal, from the dictionary. */
  columns: ColumnInfoMap;
}

const cursorOf = (link: string | null, name: 'page[after]' | 'page[before]') => (link ? (new URL(link, 'http://x').searchParams.get(name) ?? undefined) : undefined);
const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

/** The newer of two copies of one signal. */
const newest = <S extends SignalSummary>(a: S, b: SignalSummary | undefined): S => (b && b.version > a.version ? { ...a, ...b } : a);

/**
 * The triage queue: filters and counts in the URL, one keyboard stop for the rows (j/k or the
 * arrows move, x selects, a assigns to me), bulk changes on the selection, the open signal in a
 * pane beside the list, and every change anyone makes arriving over the hub within a second.
 */
export default function SignalsView({ search: initialSearch, first, me, canEdit, metrics, columns: recordColumns }: Props) {
  const [search, navigate] = useUrlState(initialSearch);
  const { filters, open } = readSignalsState(search);
  const filterKey = signalsSearch(filters);
  const [cursor, setCursor] = useState<{ key: string; after?: string; before?: string; depth: number }>({ key: filterKey, depth: 0 });
  const at = cursor.key === filterKey ? cursor : { key: filterKey, depth: 0 };
  const listKey = `${filterKey}|${at.after ?? ''}|${at.before ?? ''}`;
  const list = useLoad(first.page, listKey, () => loadSignals(apiQuery(filters), at));
  const detail = useLoad(first.detail, open, () => (open ? loadSignal(open) : Promise.resolve(undefined)));
  const times = useLoad(first.times, 'times', () => loadResponseTimes());

  /** Copies of signals newer than the list's: live updates and this page's own writes, until the list catches up. */
  const [patches, setPatches] = useState<Record<string, SignalSummary>>({});
  const patch = (s: SignalSummary | undefined) => s && setPatches((p) => ({ ...p, [s.id]: newest(s, p[s.id]) }));
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [announce, setAnnounce] = useState('');
  // A confirmation goes away by itself; a refusal stays until dismissed.
  useEffect(() => {
    if (notice?.tone !== 'ok') return;
    const t = setTimeout(() => setNotice(null), 8_000);
    return () => clearTimeout(t);
  }, [notice]);
  const [help, setHelp] = useState(false);
  const queue = useRef<HTMLDivElement>(null);

  const page = list.value?.ok ? list.value.value : null;
  const rows = useMemo(() => (page ? page.data.map((r) => newest(r, patches[r.id])) : []), [page, patches]);
  const openRow = open ? (rows.find((r) => r.id === open) ?? patches[open]) : undefined;

  // A new page of rows drops selections that are no longer on it.
  useEffect(() => {
    setSelected((sel) => new Set([...sel].filter((id) => rows.some((r) => r.id === id))));
  }, [page]);

  // Another page's change arrives as a `signal_update`: the queue (its rows, counts and who is in
  // it) and the open signal are read again, one read for a burst of them. The message only says
  // which signal changed; what it is now comes from the API, validated by its own schema.
  const listTimer = useRef<ReturnType<typeof setTimeout>>();
  const timesTimer = useRef<ReturnType<typeof setTimeout>>();
  const changed = useRef(new Set<string>());
  const latest = useRef({ list, detail, times, open });
  latest.current = { list, detail, times, open };
  const refreshSoon = () => {
    clearTimeout(listTimer.current);
    listTimer.current = setTimeout(() => latest.current.list.reload(), 100);
    clearTimeout(timesTimer.current);
    timesTimer.current = setTimeout(() => latest.current.times.reload(), 2_000);
  };

  useEffect(() => {
    const hub = store();
    const off = hub.subscribe('signal_update', ({ data }) => {
      const id = typeof data.signal_id === 'string' ? data.signal_id : null;
      if (id) changed.current.add(id);
      if (!id || id === latest.current.open) latest.current.detail.reload();
      refreshSoon();
    });
    // The hub's log no longer covers what this page missed: read everything again.
    const offSnapshot = hub.subscribe('snapshot', () => {
      latest.current.detail.reload();
      refreshSoon();
    });
    return () => {
      off();
      offSnapshot();
      clearTimeout(listTimer.current);
      clearTimeout(timesTimer.current);
    };
  }, []);

  // Say what changed elsewhere once the queue shows it, for whoever cannot see the row change.
  useEffect(() => {
    const lines = rows.filter((r) => changed.current.has(r.id)).map((r) => `${r.metric_label}, ${r.entity_label}: ${STATUS_LABEL[r.status]}, owner ${personName(r.assignee) ?? 'nobody'}.`);
    changed.current.clear();
    if (lines.length > 0) setAnnounce(lines.length > 3 ? `${lines.length} signals changed.` : lines.join(' '));
  }, [page]);

  const go = (next: SignalFilters) => navigate(signalsSearch(next, open));
  /** Whether the pane takes focus when it opens: yes when asked for, not when it follows the queue's cursor. */
  const paneFocus = useRef(true);
  const openSignal = (id: string | null, focus = true) => {
    paneFocus.current = focus;
    navigate(signalsSearch(filters, id), { replace: true });
  };
  // With a signal open, the pane follows the row that has focus (j/k, the arrows, Tab), once the cursor rests.
  const followTimer = useRef<ReturnType<typeof setTimeout>>();
  const follow = (e: FocusEvent) => {
    const tr = e.target instanceof HTMLTableRowElement ? e.target : null;
    const key = tr?.dataset.key;
    clearTimeout(followTimer.current);
    if (!key || !latest.current.open || key === latest.current.open) return;
    followTimer.current = setTimeout(() => latest.current.open && openSignal(key, false), 250);
  };

  /** Applies a change to the selection, or to the one signal given, with the versions on screen. */
  async function act(change: Change, ids?: string[]) {
    if (!canEdit || busy) return;
    const targets = (ids ?? [...selected]).map((id) => rows.find((r) => r.id === id) ?? patches[id]).filter((r): r is SignalSummary => Boolean(r));
    if (targets.length === 0) return;
    setBusy(true);
    setNotice(null);
    const what = 'status' in change ? `marked ${STATUS_LABEL[change.status].toLowerCase()}` : change.assignee === null ? 'unassigned' : change.assignee === 'me' ? 'assigned to you' : 'reassigned';
    if (targets.length === 1) {
      const s = targets[0]!;
      const done = await updateSignal(s.id, change, s.version);
      if (done.ok) {
        patch(done.value);
        setNotice({ tone: 'ok', text: `${s.metric_label} · ${s.entity_label} ${what}.` });
        if (s.id === latest.current.open) latest.current.detail.reload();
      } else {
        patch(done.current);
        const now = done.current ? ` It is ${STATUS_LABEL[done.current.status].toLowerCase()} now, owned by ${personName(done.current.assignee) ?? 'nobody'}.` : '';
        setNotice({ tone: 'error', text: `${done.problem}${now}` });
        if (s.id === latest.current.open) latest.current.detail.reload();
      }
    } else {
      const done = await bulkUpdate(targets.map((s) => ({ id: s.id, version: s.version })), change);
      if (done.ok) {
        for (const r of done.value.results) patch(r.signal);
        const { applied, conflict, invalid, not_found } = done.value.meta;
        const refused = [conflict && `${conflict} changed by someone else first`, invalid && `${invalid} not allowed from their status`, not_found && `${not_found} gone`].filter(Boolean);
        setNotice({ tone: refused.length ? 'error' : 'ok', text: `${applied} of ${targets.length} signals ${what}.${refused.length ? ` ${refused.join('; ')}.` : ''}` });
        setSelected(new Set(done.value.results.filter((r) => r.result !== 'applied').map((r) => r.id)));
      } else setNotice({ tone: 'error', text: done.problem });
      if (latest.current.open) latest.current.detail.reload();
    }
    setBusy(false);
    refreshSoon();
  }

  async function note(body: string) {
    if (!open) return { ok: false as const, status: 0, problem: 'No signal is open.' };
    const done = await addNote(open, body);
    if (done.ok) latest.current.detail.reload();
    return done;
  }

  // The keyboard: one handler for the page, silent while typing in a field or with a modifier held.
  const rowEls = () => [...(queue.current?.querySelectorAll<HTMLTableRowElement>('tbody tr[data-key]') ?? [])];
  const focusedRow = () => rowEls().find((tr) => tr === document.activeElement) ?? null;
  const cursorRow = () => focusedRow() ?? rowEls().find((tr) => tr.tabIndex === 0) ?? rowEls()[0] ?? null;
  const moveTo = (index: number) => {
    const trs = rowEls();
    if (trs.length === 0) return;
    const i = Math.max(0, Math.min(trs.length - 1, index));
    trs.forEach((tr, k) => (tr.tabIndex = k === i ? 0 : -1));
    trs[i]!.focus();
    trs[i]!.scrollIntoView({ block: 'nearest' });
  };
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const trs = rowEls();
    const current = cursorRow();
    const index = current ? trs.indexOf(current) : -1;
    const id = current?.dataset.key;
    const onRow = focusedRow() !== null;
    const targets = selected.size > 0 ? undefined : id ? [id] : [];
    const handled = (() => {
      switch (e.key) {
        case 'j':
          moveTo(onRow ? index + 1 : Math.max(index, 0));
          return true;
        case 'k':
          moveTo(onRow ? index - 1 : Math.max(index, 0));
          return true;
        case 'o':
          if (id) openSignal(id);
          return Boolean(id);
        case 'x':
          if (!canEdit || !id) return false;
          setSelected((sel) => {
            const next = new Set(sel);
            if (next.has(id)) next.delete(id);
            else next.add(id);
            return next;
          });
          return true;
        case 'X':
          if (!canEdit) return false;
          setSelected((sel) => (sel.size === rows.length ? new Set() : new Set(rows.map((r) => r.id))));
          return true;
        case 'a':
          if (!canEdit) return false;
          void act({ assignee: 'me' }, targets);
          return true;
        case 'u':
          if (!canEdit) return false;
          void act({ assignee: null }, targets);
          return true;
        case 's': {
          if (!canEdit) return false;
          // The selection's status menu, or else the open signal's next steps.
          const to = selected.size > 0 ? document.querySelector<HTMLElement>('#sig-bulk-status') : document.querySelector<HTMLElement>('[data-testid="status-actions"] button');
          to?.focus();
          return Boolean(to);
        }
        case 'n':
          document.querySelector<HTMLTextAreaElement>('#sig-note')?.focus();
          return Boolean(document.querySelector('#sig-note'));
        case '/':
          document.querySelector<HTMLElement>('[data-filter="assignee"]')?.focus();
          return true;
        case '?':
          setHelp((h) => !h);
          return true;
        case 'Escape':
          if (help) setHelp(false);
          else if (selected.size > 0) setSelected(new Set());
          else if (open) {
            openSignal(null);
            moveTo(index);
          } else return false;
          return true;
        default:
          return false;
      }
    })();
    if (handled) e.preventDefault();
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const people = useMemo(() => {
    const byId = new Map<string, Person>();
    for (const r of rows) if (r.assignee) byId.set(r.assignee.id, r.assignee);
    if (times.value?.ok) for (const t of times.value.value.data) if (t.owner) byId.set(t.owner.id, t.owner);
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, [rows, times.value]);
  const signalTypes = useMemo(() => [...new Set(['anomaly', 'drift', ...rows.map((r) => r.signal_type)])], [rows]);

  // With a signal open beside it the queue keeps the columns that decide what to pick next.
  const compact = Boolean(open);
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const columns: Array<TableColumn<SignalSummary>> = [
    ...(canEdit
      ? [
          {
            key: 'select',
            label: 'Pick',
            format: 'text' as const,
            render: (r: SignalSummary) => (
              <input
                type="checkbox"
                class="sig-check"
                checked={selected.has(r.id)}
                aria-label={`Select ${r.metric_label} for ${r.entity_label}`}
                tabIndex={-1}
                onClick={(e) => e.stopPropagation()}
                onChange={() =>
                  setSelected((sel) => {
                    const next = new Set(sel);
                    if (next.has(r.id)) next.delete(r.id);
                    else next.add(r.id);
                    return next;
                  })
                }
              />
            ),
          },
        ]
      : []),
    { key: 'severity', label: 'Severity', format: 'text', render: (r) => <SeverityPill severity={r.severity} /> },
    {
      key: 'signal',
      label: 'Signal',
      format: 'text',
      render: (r) => (
        <span class="sig-what">
          <span class="sig-metric">{r.metric_label}</span>
          <span class="sig-sep"> · </span>
          <span class="sig-ent">
            <span class="muted">{readable(r.entity_type)} </span>
            <span class="sig-entity">{r.entity_label}</span>
            {compact && <> <Change r={r} /></>}
          </span>
          {r.stale && <span class="pill stale" title="No longer in the marts">stale</span>}
        </span>
      ),
    },
    ...(compact
      ? []
      : [
          {
            key: 'change',
            label: 'Change',
            description: 'Observed against the expected value (the trailing baseline), and how many standard deviations away',
            format: 'number' as const,
            render: (r: SignalSummary) => <Change r={r} />,
          },
        ]),
    { key: 'status', label: 'Status', format: 'text', render: (r) => <StatusPill status={r.status} /> },
    {
      key: 'assignee',
      label: 'Owner',
      format: 'text',
      render: (r) => <span class={r.assignee ? 'sig-owner-cell' : 'sig-owner-cell muted'} data-testid="row-assignee">{r.assignee ? (r.assignee.id === me.id ? `${r.assignee.name} (you)` : r.assignee.name) : 'Nobody'}</span>,
    },
    ...(compact
      ? []
      : [
          {
            key: 'detected_at',
            label: 'Detected',
            format: 'time' as const,
            render: (r: SignalSummary) => <time dateTime={r.detected_at} title={new Date(r.detected_at).toUTCString()}>{ago(r.detected_at)}</time>,
          },
        ]),
  ];

  const rowLabel = (r: SignalSummary) =>
    `${selected.has(r.id) ? 'Selected. ' : ''}${r.severity} severity: ${r.metric_label}, ${readable(r.entity_type)} ${r.entity_label}, ${r.direction} ${deviation(r) ?? ''}; ${STATUS_LABEL[r.status]}; owner ${personName(r.assignee) ?? 'nobody'}`;

  const counts = page?.meta.counts ?? null;
  // The status counts are under every filter but status, so the queue's total is theirs for the statuses it shows.
  const shown = statusesOf(filters);
  const total = STATUSES.filter((st) => shown.length === 0 || shown.includes(st)).reduce((sum, st) => sum + (counts?.by_status[st] ?? 0), 0);
  const from = at.depth * PAGE_SIZE + 1;
  const nextCursor = page ? cursorOf(page.links.next, 'page[after]') : undefined;
  const prevCursor = page ? cursorOf(page.links.prev, 'page[before]') : undefined;

  return (
    <div class={`signals${open ? ' with-detail' : ''}`}>
      <div class="sig-toolbar-top">
        <LiveState />
        <button type="button" class="link" onClick={() => setHelp((h) => !h)} aria-expanded={help ? 'true' : 'false'} aria-controls="sig-shortcuts" data-testid="shortcuts-toggle">
          Keyboard shortcuts <kbd>?</kbd>
        </button>
      </div>
      <Shortcuts open={help} canEdit={canEdit} onClose={() => setHelp(false)} />
      <SignalCounts filters={filters} counts={counts} onChange={go} />
      <SignalFilterBar filters={filters} me={me} people={people} metrics={metrics} signalTypes={signalTypes} onChange={go} />
      <p class="visually-hidden" aria-live="polite" data-testid="live-announce">{announce}</p>
      {notice && (
        <p class={`notice sig-notice ${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'} data-testid="signal-notice">
          {notice.text}
          <button type="button" class="link" onClick={() => setNotice(null)} aria-label="Dismiss">✕</button>
        </p>
      )}
      <div class="sig-layout">
        <section class={`card sig-queue${canEdit ? ' editable' : ''}`} aria-labelledby="sig-queue-title" aria-busy={list.value === undefined ? 'true' : undefined} data-testid="signal-queue" data-state={list.value === undefined ? 'loading' : list.value.ok ? 'ready' : 'failed'}>
          <div class="section-head">
            <h2 id="sig-queue-title">
              Queue{page && <span class="sub" data-testid="queue-range"> · {rows.length === 0 ? 'empty' : `${formatCount(from)}–${formatCount(from + rows.length - 1)} of ${formatCount(total)}`}</span>}
            </h2>
          </div>
          {canEdit && (
              <BulkBar
                count={selected.size}
                allSelected={allSelected}
                busy={busy}
                people={people}
                me={me}
                onAll={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                onAct={(c) => void act(c)}
                onClear={() => setSelected(new Set())}
              />
          )}
          {list.value === undefined ? (
            <TableSkeleton label="Loading signals…" rows={10} />
          ) : !list.value.ok ? (
            <p class="notice error" role="alert" data-problem-code={list.value.code ?? 'unknown'}>{list.value.problem}</p>
          ) : (
            <div class="table-scroll" ref={queue} onFocusIn={follow}>
              <RecordTable
                testId="signal-table"
                caption="Signals in the queue. j and k or the arrow keys move, Enter opens, x selects, a assigns to you; press ? for every shortcut."
                captionHidden
                columns={columns}
                rows={rows}
                rowKey={(r) => r.id}
                onOpen={(r) => openSignal(r.id)}
                openKey={open}
                rowLabel={rowLabel}
                rowClass={(r) => [`sev-row-${r.severity}`, selected.has(r.id) ? 'selected' : '', r.stale ? 'stale' : ''].filter(Boolean).join(' ')}
                empty={filters.status || filters.severity || filters.assignee ? 'No signals match these filters.' : 'Nothing open: the queue is clear.'}
              />
            </div>
          )}
          {page && (prevCursor || nextCursor || at.depth > 0) && (
            <nav class="pager" aria-label="Pages of signals">
              <button type="button" disabled={at.depth === 0 || list.loading} onClick={() => setCursor({ key: filterKey, depth: 0 })}>
                First
              </button>
              <button type="button" disabled={!prevCursor || at.depth === 0 || list.loading} onClick={() => setCursor({ key: filterKey, before: prevCursor, depth: Math.max(0, at.depth - 1) })} data-testid="page-prev">
                ← Newer
              </button>
              <span class="page-no">Page {at.depth + 1}</span>
              <button type="button" disabled={!nextCursor || !page.meta.has_more || list.loading} onClick={() => setCursor({ key: filterKey, after: nextCursor, depth: at.depth + 1 })} data-testid="page-next">
                Older →
              </button>
            </nav>
          )}
        </section>
        {open && (
          <SignalDetailPane
            id={open}
            detail={detail.key === open ? detail.value : undefined}
            row={openRow}
            me={me}
            canEdit={canEdit}
            busy={busy}
            onChange={(c) => void act(c, [open])}
            onNote={note}
            columns={recordColumns}
            takeFocus={paneFocus.current}
            onClose={() => {
              openSignal(null);
              requestAnimationFrame(() => cursorRow()?.focus());
            }}
          />
        )}
      </div>
      <ResponseTimes times={times.value} />
    </div>
  );
}

const LIVE = { live: 'Live: changes appear as they happen', connecting: 'Connecting…', reconnecting: 'Reconnecting: changes will catch up' } as const;

/** Whether other people's changes are arriving, from the page's one stream. */
function LiveState() {
  const state = store().connection.value;
  return (
    <p class={`connection ${state}`} role="status" data-testid="connection" data-state={state}>
      <span class="dot" aria-hidden="true" /> {LIVE[state]}
    </p>
  );
}

function Change({ r }: { r: SignalSummary }) {
  return (
    <span class={`sig-change dir-${r.direction}`} title={`Observed ${metricValue(r.observed_value)}, expected ${metricValue(r.expected_value)}`}>
      <span aria-hidden="true">{r.direction === 'up' ? '▲' : '▼'}</span> {deviation(r) ?? metricValue(r.observed_value)} <span class="muted">{zText(r.z_score)}</span>
    </span>
  );
}

interface BulkProps {
  count: number;
  allSelected: boolean;
  busy: boolean;
  people: Person[];
  me: Person;
  onAll: () => void;
  onAct: (change: Change) => void;
  onClear: () => void;
}

/** What can be done to the selection: assign, unassign, move to a status. Disabled, not hidden, with nothing selected. */
function BulkBar({ count, allSelected, busy, people, me, onAll, onAct, onClear }: BulkProps) {
  const [status, setStatus] = useState<SignalStatus | ''>('');
  const [owner, setOwner] = useState('');
  const none = count === 0 || busy;
  return (
    <div class="sig-bulk" role="group" aria-label="Bulk actions on the selected signals" data-testid="bulk-bar">
      <label class="check sig-all">
        <input type="checkbox" checked={allSelected} onChange={onAll} data-testid="select-all" />
        <span data-testid="selected-count">{count === 0 ? 'Select all' : `${count} selected`}</span>
      </label>
      <button type="button" disabled={none} onClick={() => onAct({ assignee: 'me' })} data-testid="bulk-assign-me">
        Assign to me
      </button>
      <label class="visually-hidden" for="sig-bulk-owner">Assign the selected signals to</label>
      <select id="sig-bulk-owner" value={owner} disabled={none} onChange={(e) => setOwner((e.target as HTMLSelectElement).value)}>
        <option value="">Assign to…</option>
        <option value="-">Nobody (unassign)</option>
        {people.filter((p) => p.id !== me.id).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
      </select>
      <button type="button" disabled={none || !owner} onClick={() => { onAct({ assignee: owner === '-' ? null : owner }); setOwner(''); }} data-testid="bulk-assign">
        Assign
      </button>
      <label class="visually-hidden" for="sig-bulk-status">Move the selected signals to</label>
      <select id="sig-bulk-status" value={status} disabled={none} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as SignalStatus | '')} data-testid="bulk-status">
        <option value="">Set status…</option>
        {STATUSES.filter((s) => s !== 'new').map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
      </select>
      <button type="button" disabled={none || !status} onClick={() => { if (status) onAct({ status }); setStatus(''); }} data-testid="bulk-apply-status">
        Apply
      </button>
      {count > 0 && (
        <button type="button" class="link" onClick={onClear}>
          Clear
        </button>
      )}
    </div>
  );
}
