import { useEffect, useRef, useState } from 'preact/hooks';
import { loadSignals } from '../../lib/signals-data.ts';
import type { Loaded, SignalsPage, SignalSummary } from '../../lib/signals-data.ts';
import { parseSignalUpdate, withSignalUpdate } from '../../lib/signals-live.ts';
import { store } from '../../lib/store.ts';
import { SeverityPill, StatusPill } from './pills.tsx';
import './signals.css';

const QUERY = { status: 'new,acknowledged,investigating', severity: 'high,critical' };
const SHOWN = 5;

/**
 * The dashboard's view of the queue: the newest open high and critical signals, each a link to it
 * on the Signals page. A change anyone makes shows at once from the hub's message; the list is
 * then asked again, since a resolved signal leaves it and another may take its place.
 */
export function SignalsPanel() {
  const [page, setPage] = useState<Loaded<SignalsPage> | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => {
    let live = true;
    const load = () => void loadSignals(QUERY).then((p) => live && setPage(p));
    load();
    const off = store().subscribe('signal_update', ({ data }) => {
      const update = parseSignalUpdate(data);
      if (!update) return;
      setPage((p) => (p?.ok ? { ok: true, value: { ...p.value, data: p.value.data.map((s) => withSignalUpdate(s, update)) } } : p));
      clearTimeout(timer.current);
      timer.current = setTimeout(load, 300);
    });
    return () => {
      live = false;
      off();
      clearTimeout(timer.current);
    };
  }, []);

  const rows: SignalSummary[] = page?.ok ? page.value.data.slice(0, SHOWN) : [];
  const open = page?.ok ? (page.value.meta.counts.by_severity.high ?? 0) + (page.value.meta.counts.by_severity.critical ?? 0) : null;
  return (
    <section class="card sig-panel" aria-labelledby="sig-panel-title" aria-busy={page === undefined ? 'true' : undefined} data-testid="signals-panel">
      <div class="section-head">
        <h2 id="sig-panel-title">
          Open high-severity signals{open !== null && <span class="sub"> · {open}</span>}
        </h2>
        <a href="/signals?severity=high,critical">Triage queue →</a>
      </div>
      {page === undefined ? (
        <p class="empty">Loading signals…</p>
      ) : !page.ok ? (
        <p class="notice error" role="alert">Signals are not available right now. {page.problem}</p>
      ) : rows.length === 0 ? (
        <p class="empty">No open high or critical signals.</p>
      ) : (
        <ul>
          {rows.map((s) => (
            <li key={s.id} data-signal={s.id}>
              <a href={`/signals?severity=high,critical&signal=${encodeURIComponent(s.id)}`}>
                <SeverityPill severity={s.severity} />
                <span class="what">
                  {s.metric_label} · {s.entity_label}
                </span>
                <StatusPill status={s.status} />
                <span class="who" data-testid="panel-assignee">{s.assignee?.name ?? 'Unassigned'}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
