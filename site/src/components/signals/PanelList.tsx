import type { Loaded, SignalsPage } from '../../lib/signals-data.ts';
import { SeverityPill, StatusPill } from './pills.tsx';

export const PANEL_SHOWN = 5;

/**
 * The dashboard panel's content, rendered on the server only (the /signals/panel fragment): the
 * newest open high and critical signals, each a link to it on the Signals page.
 */
export function PanelList({ page }: { page: Loaded<SignalsPage> }) {
  const open = page.ok ? page.value.meta.counts.by_severity.high + page.value.meta.counts.by_severity.critical : null;
  const rows = page.ok ? page.value.data.slice(0, PANEL_SHOWN) : [];
  return (
    <>
      <div class="section-head">
        <h2 id="sig-panel-title">
          Open high-severity signals{open !== null && <span class="sub" data-testid="panel-count"> · {open}</span>}
        </h2>
        <a href="/signals?severity=high,critical">Triage queue →</a>
      </div>
      {!page.ok ? (
        <p class="notice error" role="alert" data-problem-code={page.code ?? 'unknown'}>Signals are not available right now. {page.problem}</p>
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
    </>
  );
}
