import { useEffect, useRef, useState } from 'preact/hooks';
import { browserClient } from '../lib/browser-client.ts';
import { MetricInfoBadge, SourceBadge } from './badges.tsx';
import type { MetricInfo, Provenance } from './badges.tsx';
import { BarChart, DataTable, LineChart, PieChart, formatNumber } from './charts.tsx';

interface WidgetData extends Provenance {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  delta?: { current: number | null; previous: number | null; relative: number | null; improving: boolean | null };
}
interface Kpi {
  metric: string;
  display_name: string;
  unit: string;
  direction: string;
  data: WidgetData;
}
interface Tile {
  widget: { id: string; title: string; visualization: string; metric: { name: string; unit: string } };
  data: WidgetData | null;
  problem: string | null;
}
export interface DashboardState {
  kpis: Kpi[];
  tiles: Tile[];
  layout: { version: number; tiles: Array<{ widget_id: string; w: number; h: number }> };
}
interface Props {
  userId: string;
  initial: DashboardState;
  metrics: Record<string, MetricInfo>;
  canEdit: boolean;
}
type Connection = 'connecting' | 'live' | 'reconnecting';
interface FeedItem {
  seq: number;
  text: string;
}

/**
 * The live dashboard: the server-rendered state, kept current by the hub's stream (KPI updates,
 * events), with tiles a user can reorder by drag and drop or keyboard.
 */
export default function Dashboard({ userId, initial, metrics, canEdit }: Props) {
  const [kpis, setKpis] = useState(initial.kpis);
  const [tiles, setTiles] = useState(initial.tiles);
  const [version, setVersion] = useState(initial.layout.version);
  const versionRef = useRef(initial.layout.version);
  versionRef.current = version;
  const [connection, setConnection] = useState<Connection>('connecting');
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [records, setRecords] = useState<{ title: string; columns: string[]; rows: Array<Record<string, unknown>> } | null>(null);
  const dragged = useRef<number | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

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
      // Acks tell the hub what this tab has applied, at most once a second while messages flow;
      // a tab that stops acknowledging is treated as a slow consumer and resumes from lastSeq.
      let ackTimer: ReturnType<typeof setTimeout> | undefined;
      const ack = () => {
        ackTimer = undefined;
        if (lastSeq !== null && ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ack', seq: lastSeq }));
      };
      const apply = (msg: { type: string; seq: number; data?: Record<string, unknown> }) => {
        if (typeof msg.seq === 'number') lastSeq = Math.max(lastSeq ?? 0, msg.seq);
        if (msg.type === 'kpi_update' && msg.data) {
          const d = msg.data as { metric: string; rows: WidgetData['rows']; as_of: string; source: WidgetData['source'] };
          setKpis((ks) => ks.map((k) => (k.metric === d.metric && k.data.source === d.source ? { ...k, data: { ...k.data, rows: d.rows, as_of: d.as_of, cache: 'miss' } } : k)));
        } else if (msg.type === 'event' && msg.data) {
          const d = msg.data as { event_type?: string; event_id?: string; region?: string };
          setFeed((f) => [{ seq: msg.seq, text: `${d.event_type ?? 'event'}${d.region ? ` · ${d.region}` : ''}` }, ...f].slice(0, 8));
        } else if (msg.type === 'layout_update' && msg.data?.user_id === userId && msg.data.version !== versionRef.current) {
          void reloadState();
        } else if (msg.type === 'snapshot') {
          void reloadState();
        }
      };
      ws.onmessage = (e) => {
        let msg: { type: string; seq: number; data?: Record<string, unknown>; messages?: Array<{ type: string; seq: number; data?: Record<string, unknown> }> };
        try {
          msg = JSON.parse(String(e.data));
        } catch {
          return;
        }
        if (msg.type === 'pong' || msg.type === 'error') return;
        if (msg.type === 'hello') {
          lastSeq ??= msg.seq;
          return;
        }
        if (msg.type === 'batch') for (const m of msg.messages ?? []) apply(m);
        else apply(msg);
        ackTimer ??= setTimeout(ack, 1_000);
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

  async function reloadState() {
    const res = await fetch('/v1/dashboard/state', { credentials: 'same-origin' });
    if (!res.ok) return;
    const state = (await res.json()) as DashboardState;
    setKpis(state.kpis);
    setTiles(state.tiles);
    setVersion(state.layout.version);
  }

  async function saveOrder(next: Tile[]) {
    setTiles(next);
    const res = await browserClient().v1.dashboard.layout.$put({
      json: { version, tiles: next.map((t) => ({ widget_id: t.widget.id, w: 4, h: 2 })) },
    });
    if (res.status === 200) {
      setVersion((await res.json()).version);
      setNotice(null);
    } else if (res.status === 409) {
      setNotice('Your layout changed in another tab; showing the latest.');
      await reloadState();
    } else {
      setNotice('The layout could not be saved.');
    }
  }

  const move = (from: number, to: number) => {
    if (to < 0 || to >= tiles.length || from === to) return;
    const next = [...tiles];
    const [t] = next.splice(from, 1);
    next.splice(to, 0, t!);
    void saveOrder(next);
  };

  async function openRecords(tile: Tile) {
    const res = await browserClient().v1.widgets[':id'].records.$post({ param: { id: tile.widget.id }, json: { page: 1, page_size: 25 } });
    if (!res.ok) {
      setNotice('The rows behind this tile are not available right now.');
      return;
    }
    const body = await res.json();
    setRecords({ title: tile.widget.title, columns: body.columns.slice(0, 8), rows: body.rows });
    dialog.current?.showModal();
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
          {kpis.map((k) => {
            const value = k.data.rows[0]?.value;
            const d = k.data.delta;
            return (
              <li class="kpi card" key={k.metric} data-metric={k.metric}>
                <div class="kpi-head">
                  <h3>{k.display_name}</h3>
                  <MetricInfoBadge metric={metrics[k.metric]} sql={k.data.sql} />
                </div>
                <p class="kpi-value" data-testid="kpi-value">{typeof value === 'number' ? formatNumber(value, k.unit) : '—'}</p>
                {d && d.relative !== null && (
                  <p class={`delta ${d.improving === null ? 'flat' : d.improving ? 'good' : 'bad'}`}>
                    <span aria-hidden="true">{d.relative > 0 ? '▲' : d.relative < 0 ? '▼' : '■'}</span>{' '}
                    {Math.abs(d.relative * 100).toFixed(1)}% <span class="visually-hidden">{d.improving ? 'better' : 'worse'} than the previous period</span>
                  </p>
                )}
                <SourceBadge data={k.data} />
              </li>
            );
          })}
        </ul>
      </section>

      <section aria-labelledby="tiles-title">
        <h2 id="tiles-title">Your tiles</h2>
        {tiles.length === 0 && <p class="empty">No tiles yet. Add widgets through the API (POST /v1/widgets).</p>}
        <ol class="tiles" data-testid="tiles">
          {tiles.map((t, i) => (
            <li
              key={t.widget.id}
              class="tile card"
              data-widget={t.widget.id}
              draggable={canEdit}
              onDragStart={() => (dragged.current = i)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (dragged.current !== null) move(dragged.current, i);
                dragged.current = null;
              }}
            >
              <div class="tile-head">
                <h3>{t.widget.title}</h3>
                {t.data && <MetricInfoBadge metric={metrics[t.widget.metric.name]} sql={t.data.sql} />}
              </div>
              {t.data ? (
                <>
                  <TileBody tile={t} />
                  <div class="tile-foot">
                    <SourceBadge data={t.data} />
                    <button type="button" class="link" onClick={() => void openRecords(t)}>Rows</button>
                  </div>
                </>
              ) : (
                <p class="notice error">{t.problem}</p>
              )}
              {canEdit && (
                <div class="reorder">
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
          {feed.length === 0 ? <li class="empty">Waiting for events…</li> : feed.map((f) => <li key={f.seq}>#{f.seq} {f.text}</li>)}
        </ul>
      </section>

      <dialog ref={dialog} aria-labelledby="records-title" onClose={() => setRecords(null)}>
        {records && (
          <>
            <h2 id="records-title">Rows behind {records.title}</h2>
            <DataTable rows={records.rows} columns={records.columns} />
            <form method="dialog"><button type="submit">Close</button></form>
          </>
        )}
      </dialog>
    </div>
  );
}

function TileBody({ tile }: { tile: Tile }) {
  const data = tile.data!;
  const title = tile.widget.title;
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
