import { useEffect, useRef, useState } from 'preact/hooks';
import { browserClient } from '../lib/browser-client.ts';
import { describeEvent, eventTime } from '../lib/event-text.ts';
import type { FeedLine } from '../lib/event-text.ts';
import { DEGRADED_REFRESH_MS, REFRESH_BUDGET_MS, REFRESH_MS, TILE_ADDED_EVENT, loadKpi, loadRecords, loadState, loadTileData } from '../lib/dashboard-data.ts';
import type { DashboardState, Kpi, Records, Tile, TileWidget, WidgetData } from '../lib/dashboard-data.ts';
import { MetricInfoBadge, SOURCE_LABEL, SourceBadge } from './badges.tsx';
import type { MetricInfo } from './badges.tsx';
import { BarChart, DataTable, LineChart, PieChart, formatNumber } from './charts.tsx';
import { periodDelta } from '../../../worker/metrics/compose/delta.ts';

export type { DashboardState } from '../lib/dashboard-data.ts';

interface Props {
  userId: string;
  initial: DashboardState;
  metrics: Record<string, MetricInfo>;
  canEdit: boolean;
}
type Connection = 'connecting' | 'live' | 'reconnecting';
interface FeedItem extends FeedLine {
  seq: number;
  at: string | null;
  occurredAt: string | null;
}

type RecordsView = { title: string } & ({ status: 'loading' } | { status: 'ready'; records: Records } | { status: 'failed'; problem: string });

/**
 * The live dashboard: the server-rendered state, kept current by the hub's stream (KPI updates,
 * events), with tiles a user can reorder by drag and drop or keyboard. The server renders what it
 * had within its time budget; whatever it marked pending shows as a skeleton of its shape and is
 * fetched here, one request per KPI or tile, so a slow source holds back only its own tiles.
 */
export default function Dashboard({ userId, initial, metrics, canEdit }: Props) {
  const [kpis, setKpis] = useState(initial.kpis);
  const [tiles, setTiles] = useState(initial.tiles);
  const [version, setVersion] = useState(initial.layout.version);
  const [sizes, setSizes] = useState(() => sizesOf(initial.layout.tiles));
  const versionRef = useRef(initial.layout.version);
  versionRef.current = version;
  const [connection, setConnection] = useState<Connection>('connecting');
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [records, setRecords] = useState<RecordsView | null>(null);
  const dragged = useRef<number | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  // Fetches under way, by KPI metric or widget id: a re-render or a reload that still lists them
  // as pending must not ask again.
  const inflight = useRef(new Set<string>());
  const recordsRequest = useRef(0);
  const savingLayout = useRef(false);
  const unsavedLayout = useRef<{ tiles: Tile[]; sizes: Sizes } | null>(null);
  // Two clicks can land before the first one re-renders; each step must start from the sizes
  // the previous click made, not from the one this render closed over.
  const latestSizes = useRef<Sizes | null>(null);

  useEffect(() => {
    for (const k of kpis) {
      const key = `kpi:${k.metric}`;
      if (!k.pending || inflight.current.has(key)) continue;
      inflight.current.add(key);
      void loadKpi(k.metric).then((loaded) => {
        inflight.current.delete(key);
        setKpis((ks) =>
          ks.map((x) => {
            if (x.metric !== k.metric) return x;
            // A failed refresh keeps the numbers already on screen; the card says it could not refresh.
            return loaded.ok ? { ...loaded.value, pending: false, problem: null } : { ...x, pending: false, problem: loaded.problem };
          }),
        );
      });
    }
    for (const t of tiles) {
      const key = `tile:${t.widget.id}`;
      if (!t.pending || inflight.current.has(key)) continue;
      inflight.current.add(key);
      void loadTileData(t.widget.id).then((loaded) => {
        inflight.current.delete(key);
        setTiles((ts) =>
          ts.map((x) => {
            if (x.widget.id !== t.widget.id) return x;
            return loaded.ok
              ? { ...x, data: loaded.value, problem: null, pending: false, retryable: false }
              : { ...x, problem: loaded.problem, pending: false, retryable: true };
          }),
        );
      });
    }
  }, [kpis, tiles]);

  // Numbers age as rolling windows move, and lakehouse tiles get no pushes: the island asks for
  // the whole dashboard again now and then (one request, mostly cache hits), sooner while a
  // source is unavailable so its tiles recover soon after it does, and not while hidden.
  const degraded = kpis.some((k) => k.data?.live_data_unavailable) || tiles.some((t) => t.data?.live_data_unavailable);
  useEffect(() => {
    const every = degraded ? DEGRADED_REFRESH_MS : REFRESH_MS;
    let last = Date.now();
    const refresh = () => {
      if (document.visibilityState !== 'visible') return;
      last = Date.now();
      void reloadState();
    };
    const timer = setInterval(refresh, every);
    const shown = () => Date.now() - last >= every && refresh();
    document.addEventListener('visibilitychange', shown);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [degraded]);

  // A tile created elsewhere on the page joins the end of the grid at once, as a skeleton until
  // its data arrives.
  useEffect(() => {
    const added = (e: Event) => {
      const widget = (e as CustomEvent<TileWidget>).detail;
      if (!widget?.id) return;
      setTiles((ts) => (ts.some((t) => t.widget.id === widget.id) ? ts : [...ts, { widget, data: null, problem: null, pending: true }]));
    };
    window.addEventListener(TILE_ADDED_EVENT, added);
    return () => window.removeEventListener(TILE_ADDED_EVENT, added);
  }, []);

  useEffect(() => {
    let ws: WebSocket | null = null;
    let lastSeq: number | null = null;
    let retry = 0;
    let closed = false;
    let ping: ReturnType<typeof setInterval> | undefined;
    const connect = () => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const since = lastSeq === null ? '' : `?since=${lastSeq}`;
      ws = new WebSocket(`${scheme}://${location.host}/v1/dashboard/stream${since}`);
      ws.onopen = () => {
        retry = 0;
        setConnection('live');
        ping = setInterval(() => ws?.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 30_000);
      };
      // Acks tell the hub what this tab has applied, at most once per the interval its hello asks
      // for while messages flow (each ack is an event on the hub's one thread, so not more often);
      // a tab that stops acknowledging is treated as a slow consumer and resumes from lastSeq.
      let ackTimer: ReturnType<typeof setTimeout> | undefined;
      let ackMs = 2_000;
      const ack = () => {
        ackTimer = undefined;
        if (lastSeq !== null && ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ack', seq: lastSeq }));
      };
      const apply = (msg: { type: string; seq: number; data?: Record<string, unknown> }) => {
        if (typeof msg.seq === 'number') lastSeq = Math.max(lastSeq ?? 0, msg.seq);
        if (msg.type === 'kpi_update' && msg.data) {
          const d = msg.data as { metric: string; rows: WidgetData['rows']; as_of: string; source: WidgetData['source'] };
          // A KPI still loading has no SQL or delta to pair the update with; its fetch brings both.
          setKpis((ks) => ks.map((k) => (k.metric === d.metric && k.data && k.data.source === d.source ? { ...k, data: liveKpiData(k, k.data, d) } : k)));
        } else if (msg.type === 'event' && msg.data) {
          const d = msg.data;
          const item = { seq: msg.seq, ...describeEvent(d), at: eventTime(d.occurred_at), occurredAt: typeof d.occurred_at === 'string' ? d.occurred_at : null };
          setFeed((f) => [item, ...f].slice(0, 8));
        } else if (msg.type === 'layout_update' && msg.data?.user_id === userId && msg.data.version !== versionRef.current) {
          void reloadState();
        } else if (msg.type === 'snapshot') {
          void reloadState();
        }
      };
      ws.onmessage = (e) => {
        let msg: {
          type: string;
          seq: number;
          ack_ms?: number;
          data?: Record<string, unknown>;
          messages?: Array<{ type: string; seq: number; data?: Record<string, unknown> }>;
        };
        try {
          msg = JSON.parse(String(e.data));
        } catch {
          return;
        }
        if (msg.type === 'pong' || msg.type === 'error') return;
        if (msg.type === 'hello') {
          lastSeq ??= msg.seq;
          if (typeof msg.ack_ms === 'number' && msg.ack_ms > 0) ackMs = msg.ack_ms;
          return;
        }
        if (msg.type === 'batch') for (const m of msg.messages ?? []) apply(m);
        else apply(msg);
        ackTimer ??= setTimeout(ack, ackMs);
      };
      ws.onclose = () => {
        clearInterval(ping);
        clearTimeout(ackTimer);
        if (closed) return;
        setConnection('reconnecting');
        if (offline) return;
        retry = Math.min(retry + 1, 6);
        setTimeout(() => !offline && !closed && connect(), 250 * 2 ** retry);
      };
    };
    // Offline, the socket is dropped at once (the indicator says so) and retried when the
    // network returns; the resume from lastSeq fills whatever was missed in between.
    let offline = false;
    const goOffline = () => {
      offline = true;
      ws?.close();
    };
    const goOnline = () => {
      offline = false;
      if (ws?.readyState !== WebSocket.OPEN) connect();
    };
    window.addEventListener('offline', goOffline);
    window.addEventListener('online', goOnline);
    connect();
    return () => {
      closed = true;
      clearInterval(ping);
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      ws?.close();
    };
  }, []);

  /**
   * After a reconnect or a layout change elsewhere. What the server could not answer within the
   * budget keeps its current numbers on screen, marked as refreshing, instead of blanking; only
   * a tile with nothing to show yet becomes a skeleton.
   */
  async function reloadState() {
    const loaded = await loadState(REFRESH_BUDGET_MS);
    if (!loaded.ok) return;
    const state = loaded.value;
    // The newer answer wins: a cached one must not undo a live update that arrived since.
    // Only for the same question: a tile whose definition changed takes the new answer.
    const keep = (before: WidgetData | null | undefined, next: WidgetData | null) =>
      before && (!next || (before.sql === next.sql && before.as_of > next.as_of)) ? before : next;
    setKpis((previous) =>
      state.kpis.map((k) => {
        const before = previous.find((p) => p.metric === k.metric)?.data;
        return { ...k, data: keep(before, k.data) };
      }),
    );
    setTiles((previous) =>
      state.tiles.map((t) => {
        const before = previous.find((p) => p.widget.id === t.widget.id)?.data;
        return { ...t, data: keep(before, t.data) };
      }),
    );
    setVersion(state.layout.version);
    setSizes(sizesOf(state.layout.tiles));
    // The server's layout is the latest now; the next click starts from what renders next.
    latestSizes.current = null;
  }

  const retryTile = (id: string) => setTiles((ts) => ts.map((t) => (t.widget.id === id ? { ...t, pending: true, problem: null, retryable: false } : t)));
  const retryKpi = (metric: string) => setKpis((ks) => ks.map((k) => (k.metric === metric ? { ...k, pending: true, problem: null } : k)));

  /**
   * Order and sizes are one layout, saved together under its version. Saves go one at a time:
   * clicks that land while one is in flight are merged into the next, which carries the version
   * the first one returned (sending both at once would make this tab's own second write stale).
   */
  async function saveLayout(next: Tile[], nextSizes: Sizes) {
    latestSizes.current = nextSizes;
    setTiles(next);
    setSizes(nextSizes);
    unsavedLayout.current = { tiles: next, sizes: nextSizes };
    if (savingLayout.current) return;
    savingLayout.current = true;
    try {
      while (unsavedLayout.current) {
        const layout = unsavedLayout.current;
        unsavedLayout.current = null;
        const res = await browserClient().v1.dashboard.layout.$put({
          json: { version: versionRef.current, tiles: layout.tiles.map((t) => ({ widget_id: t.widget.id, ...sizeOf(layout.sizes, t.widget.id) })) },
        });
        if (res.status === 200) {
          versionRef.current = (await res.json()).version;
          setVersion(versionRef.current);
          setNotice(null);
        } else {
          unsavedLayout.current = null;
          setNotice(res.status === 409 ? 'Your layout changed in another tab; showing the latest.' : 'The layout could not be saved.');
          if (res.status === 409) await reloadState();
          return;
        }
      }
    } catch {
      setNotice('The layout could not be saved.');
    } finally {
      savingLayout.current = false;
    }
  }

  const move = (from: number, to: number) => {
    if (to < 0 || to >= tiles.length || from === to) return;
    const next = [...tiles];
    const [t] = next.splice(from, 1);
    next.splice(to, 0, t!);
    void saveLayout(next, sizes);
  };

  /** One step wider or narrower along TILE_WIDTHS (a third, half, two thirds, full row). */
  const resize = (id: string, step: 1 | -1) => {
    const latest = latestSizes.current ?? sizes;
    const current = sizeOf(latest, id);
    const w = TILE_WIDTHS[TILE_WIDTHS.indexOf(snapWidth(current.w)) + step];
    if (w === undefined) return;
    void saveLayout(tiles, { ...latest, [id]: { ...current, w } });
  };

  /** The dialog opens at once with placeholder rows; the rows replace them, or the reason they cannot. */
  async function openRecords(tile: Tile) {
    const request = ++recordsRequest.current;
    const title = tile.widget.title;
    setRecords({ title, status: 'loading' });
    dialog.current?.showModal();
    const loaded = await loadRecords(tile.widget.id);
    // Closed, or opened for another tile, while these rows were on their way.
    if (request !== recordsRequest.current || !dialog.current?.open) return;
    setRecords(
      loaded.ok
        ? { title, status: 'ready', records: { columns: loaded.value.columns.slice(0, 8), rows: loaded.value.rows } }
        : { title, status: 'failed', problem: `The rows behind this tile are not available right now. ${loaded.problem}` },
    );
  }

  return (
    <div class="dashboard">
      <p class={`connection ${connection}`} role="status" data-testid="connection" data-state={connection}>
        <span class="dot" aria-hidden="true" /> {connection === 'live' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
      </p>
      {notice && <p class="notice" role="alert">{notice}</p>}

      <section aria-labelledby="kpi-title">
        <h2 id="kpi-title">Key indicators</h2>
        <ul class="kpis" data-testid="kpi-strip">
          {kpis.map((k) => (
            <KpiCard key={k.metric} kpi={k} info={metrics[k.metric]} onRetry={() => retryKpi(k.metric)} />
          ))}
        </ul>
      </section>

      <section aria-labelledby="tiles-title">
        <h2 id="tiles-title">Your tiles</h2>
        {tiles.length === 0 && (
          <p class="empty">
            {canEdit
              ? 'No tiles yet. Choose “Add tile” and describe one in words, for example “claims by product over the last 30 days as a bar chart”.'
              : 'No tiles on your dashboard. The key indicators above stay live; an editor can build tiles of their own.'}
          </p>
        )}
        <ol class="tiles" data-testid="tiles">
          {tiles.map((t, i) => (
            <li
              key={t.widget.id}
              class={`tile card w-${snapWidth(sizeOf(sizes, t.widget.id).w)}${t.pending ? (t.data ? ' refreshing' : ' loading') : ''}`}
              data-widget={t.widget.id}
              data-width={snapWidth(sizeOf(sizes, t.widget.id).w)}
              data-state={tileState(t)}
              aria-busy={t.pending ? 'true' : undefined}
              draggable={canEdit}
              onDragStart={() => (dragged.current = i)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (dragged.current !== null) move(dragged.current, i);
                dragged.current = null;
              }}
            >
              <TileContent tile={t} info={metrics[t.widget.metric.name]} onRows={() => void openRecords(t)} onRetry={() => retryTile(t.widget.id)} />
              {canEdit && (
                <div class="reorder">
                  <button type="button" onClick={() => resize(t.widget.id, -1)} disabled={snapWidth(sizeOf(sizes, t.widget.id).w) === TILE_WIDTHS[0]} aria-label={`Make ${t.widget.title} narrower`}>−</button>
                  <button type="button" onClick={() => resize(t.widget.id, 1)} disabled={snapWidth(sizeOf(sizes, t.widget.id).w) === TILE_WIDTHS.at(-1)} aria-label={`Make ${t.widget.title} wider`}>+</button>
                  <button type="button" onClick={() => move(i, i - 1)} disabled={i === 0} aria-label={`Move ${t.widget.title} earlier`}>↑</button>
                  <button type="button" onClick={() => move(i, i + 1)} disabled={i === tiles.length - 1} aria-label={`Move ${t.widget.title} later`}>↓</button>
                </div>
              )}
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="feed-title">
        <h2 id="feed-title">Live events</h2>
        <ul class="feed" aria-live="polite" data-testid="event-feed">
          {feed.length === 0 ? (
            <li class="empty">Waiting for events…</li>
          ) : (
            feed.map((f) => (
              <li key={f.seq} data-seq={f.seq} class={f.tone === 'alert' ? 'alert' : undefined}>
                {f.at && f.occurredAt && <time dateTime={f.occurredAt}>{f.at}</time>} {f.text}
              </li>
            ))
          )}
        </ul>
      </section>

      <dialog
        ref={dialog}
        aria-labelledby="records-title"
        aria-busy={records?.status === 'loading' ? 'true' : undefined}
        data-testid="records-dialog"
        data-state={records?.status}
        onClose={() => {
          recordsRequest.current++;
          setRecords(null);
        }}
      >
        {records && (
          <>
            <h2 id="records-title">Rows behind {records.title}</h2>
            {records.status === 'loading' && <TableSkeleton label={`Loading the rows behind ${records.title}…`} rows={10} />}
            {records.status === 'ready' && <div class="records-scroll"><DataTable rows={records.records.rows} columns={records.records.columns} /></div>}
            {records.status === 'failed' && <p class="notice error" role="alert">{records.problem}</p>}
            <form method="dialog" class="dialog-actions end"><button type="submit">Close</button></form>
          </>
        )}
      </dialog>
    </div>
  );
}

/**
 * Tile widths in columns of a 12-column grid: a third, a half, two thirds, a full row. Stored
 * layouts may hold any 1–12; they show at the nearest width not below it.
 */
const TILE_WIDTHS = [4, 6, 8, 12] as const;
type TileWidth = (typeof TILE_WIDTHS)[number];
type Sizes = Record<string, { w: number; h: number }>;
const DEFAULT_SIZE = { w: 4, h: 2 };

function snapWidth(w: number): TileWidth {
  return TILE_WIDTHS.find((allowed) => allowed >= w) ?? 12;
}

function sizesOf(tiles: ReadonlyArray<{ widget_id: string; w: number; h: number }>): Sizes {
  return Object.fromEntries(tiles.map((t) => [t.widget_id, { w: t.w, h: t.h }]));
}

const sizeOf = (sizes: Sizes, id: string) => sizes[id] ?? DEFAULT_SIZE;

function tileState(t: Tile): string {
  if (t.pending) return t.data ? 'refreshing' : 'loading';
  return t.data ? 'ready' : 'failed';
}

/**
 * A KPI after a live update: the new rows, and the delta recomputed against the previous period
 * the tile already holds (that window has not moved), so the arrow follows the number.
 */
function liveKpiData(k: Kpi, data: WidgetData, update: { rows: WidgetData['rows']; as_of: string }): WidgetData {
  const value = update.rows[0]?.value;
  const current = typeof value === 'number' && Number.isFinite(value) ? value : null;
  const delta = data.delta ? periodDelta(current, data.delta.previous, k.direction) : undefined;
  return { ...data, rows: update.rows, as_of: update.as_of, cache: 'miss', ...(delta ? { delta } : {}) };
}

function KpiCard({ kpi: k, info, onRetry }: { kpi: Kpi; info: MetricInfo | undefined; onRetry: () => void }) {
  if (!k.data) {
    return (
      <li class={`kpi card${k.pending ? ' loading' : ''}`} data-metric={k.metric} data-state={k.pending ? 'loading' : 'failed'} aria-busy={k.pending ? 'true' : undefined}>
        <div class="kpi-head">
          <h3 title={k.display_name}>{k.display_name}</h3>
        </div>
        {k.pending ? (
          <KpiSkeleton label={`Loading ${k.display_name}…`} />
        ) : (
          <>
            <p class="kpi-value" data-testid="kpi-value">—</p>
            <p class="problem" role="alert">{k.problem ?? 'Not available right now.'}</p>
            <button type="button" class="link" onClick={onRetry}>Retry<span class="visually-hidden"> {k.display_name}</span></button>
          </>
        )}
      </li>
    );
  }
  const value = k.data.rows[0]?.value;
  const d = k.data.delta;
  return (
    <li class={`kpi card${k.pending ? ' refreshing' : ''}`} data-metric={k.metric} data-state={k.pending ? 'refreshing' : 'ready'} aria-busy={k.pending ? 'true' : undefined}>
      <div class="kpi-head">
        <h3 title={k.display_name}>{k.display_name}</h3>
        <MetricInfoBadge metric={info} sql={k.data.sql} />
      </div>
      <p class="kpi-value" data-testid="kpi-value">{typeof value === 'number' ? formatNumber(value, k.unit) : '—'}</p>
      {unavailable(k.data) ? (
        <Unavailable data={k.data} />
      ) : d && d.relative !== null ? (
        <p class={`delta ${d.improving === null ? 'flat' : d.improving ? 'good' : 'bad'}`}>
          <span aria-hidden="true">{d.relative > 0 ? '▲' : d.relative < 0 ? '▼' : '■'}</span>{' '}
          {Math.abs(d.relative * 100).toFixed(1)}% <span class="visually-hidden">{d.improving ? 'better' : 'worse'} than the previous period</span>
        </p>
      ) : (
        <p class="delta flat">No comparison</p>
      )}
      <SourceBadge data={k.data} />
      {k.pending && <span class="refresh-note">Refreshing…</span>}
      {!k.pending && k.problem && <p class="problem" role="alert">Could not refresh: {k.problem}</p>}
    </li>
  );
}

function TileContent({ tile: t, info, onRows, onRetry }: { tile: Tile; info: MetricInfo | undefined; onRows: () => void; onRetry: () => void }) {
  const head = (
    <div class="tile-head">
      <h3>{t.widget.title}</h3>
      {t.data && <MetricInfoBadge metric={info} sql={t.data.sql} />}
    </div>
  );
  if (!t.data) {
    return (
      <>
        {head}
        {t.pending ? (
          <TileSkeleton visualization={t.widget.visualization} label={`Loading ${t.widget.title}…`} />
        ) : (
          <div class="tile-problem">
            <p class="notice error">{t.problem}</p>
            {t.retryable && <button type="button" onClick={onRetry}>Retry<span class="visually-hidden"> {t.widget.title}</span></button>}
          </div>
        )}
      </>
    );
  }
  return (
    <>
      {head}
      <div class="tile-body">
        <TileBody tile={t} />
      </div>
      {!t.pending && t.problem && <p class="problem" role="alert">Could not refresh: {t.problem}</p>}
      <div class="tile-foot">
        <SourceBadge data={t.data} />
        {t.pending ? <span class="refresh-note">Refreshing…</span> : <button type="button" class="link" onClick={onRows}>Rows</button>}
      </div>
    </>
  );
}

/*
 * Skeletons: the shape of what is loading, so the grid does not jump when data arrives. The
 * blocks are decoration (the progressbar role's children are presentational); the label is what
 * assistive technology announces, and the tile or card around it is aria-busy.
 */

function KpiSkeleton({ label }: { label: string }) {
  return (
    <div class="skeleton skeleton-kpi" role="progressbar" aria-label={label} data-testid="skeleton">
      <span class="sk sk-value" />
      <span class="sk sk-delta" />
      <span class="sk sk-badge" />
    </div>
  );
}

function TileSkeleton({ visualization, label }: { visualization: string; label: string }) {
  let body;
  switch (visualization) {
    case 'kpi':
      body = <span class="sk sk-value" />;
      break;
    case 'bar':
      body = (
        <div class="sk-bars">
          {[0, 1, 2, 3, 4, 5].map((i) => (
            <span key={i} class="sk-bar-row">
              <span class="sk sk-label" />
              <span class="sk sk-bar" />
            </span>
          ))}
        </div>
      );
      break;
    case 'pie':
      body = (
        <div class="sk-pie">
          <span class="sk sk-disc" />
          <span class="sk-legend">
            {[0, 1, 2, 3].map((i) => (
              <span key={i} class="sk sk-line" />
            ))}
          </span>
        </div>
      );
      break;
    case 'line':
      body = (
        <div class="sk sk-area">
          <svg class="sk-trace" viewBox="0 0 320 100" preserveAspectRatio="none" aria-hidden="true">
            <path d="M10 78 L60 62 L110 70 L160 44 L210 52 L260 30 L310 38" />
          </svg>
        </div>
      );
      break;
    default:
      body = <SkeletonRows rows={5} />;
  }
  return (
    <div class={`skeleton skeleton-tile skeleton-${visualization}`} role="progressbar" aria-label={label} data-testid="skeleton">
      {body}
      <span class="sk sk-badge" />
    </div>
  );
}

function TableSkeleton({ label, rows }: { label: string; rows: number }) {
  return (
    <div class="skeleton skeleton-table" role="progressbar" aria-label={label} data-testid="skeleton">
      <SkeletonRows rows={rows} />
    </div>
  );
}

/** A header row and `rows` body rows of four cells, the widths varying by column in the stylesheet. */
function SkeletonRows({ rows }: { rows: number }) {
  return (
    <span class="sk-rows">
      {Array.from({ length: rows + 1 }, (_, r) => (
        <span key={r} class={r === 0 ? 'sk-tr sk-th' : 'sk-tr'}>
          {[0, 1, 2, 3].map((i) => (
            <span key={i} class="sk" />
          ))}
        </span>
      ))}
    </span>
  );
}

/**
 * A live source failed and the route has no fallback: there are no numbers to draw, and an
 * empty chart would read as "nothing happened". Say so in a leader's words, keep the technical
 * reason one click away, and let the next refresh recover the tile.
 */
function Unavailable({ data }: { data: WidgetData }) {
  return (
    <div class="unavailable" data-testid="unavailable">
      <p>{SOURCE_LABEL[data.source]} is not answering; this recovers by itself.</p>
      {data.reason && (
        <details>
          <summary>Why</summary>
          <p>{data.reason}</p>
        </details>
      )}
    </div>
  );
}

const unavailable = (data: WidgetData) => data.live_data_unavailable && data.rows.length === 0;

function TileBody({ tile }: { tile: Tile }) {
  const data = tile.data!;
  const title = tile.widget.title;
  if (unavailable(data)) return <Unavailable data={data} />;
  switch (tile.widget.visualization) {
    case 'kpi': {
      const v = data.rows[0]?.value;
      return <p class="kpi-value">{typeof v === 'number' ? formatNumber(v, tile.widget.metric.unit) : '—'}</p>;
    }
    case 'bar':
      return <BarChart rows={data.rows} title={title} />;
    case 'pie':
      return <PieChart rows={data.rows} title={title} />;
    case 'line':
      return <LineChart rows={data.rows} title={title} />;
    default:
      return <DataTable rows={data.rows} columns={data.columns} />;
  }
}
