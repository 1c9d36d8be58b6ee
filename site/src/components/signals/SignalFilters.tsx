import type { Person, SignalsPage } from '../../lib/signals-data.ts';
import { OPEN_STATUSES, SEVERITIES, SEVERITY_LABEL, STATUSES, STATUS_LABEL } from '../../lib/signals-data.ts';
import { DETECTED, ENTITY_TYPES, narrowingCount, signalsSearch, statusesOf, toggled } from '../../lib/signals-query.ts';
import type { SignalFilters as Filters } from '../../lib/signals-query.ts';
import { formatCount } from '../../lib/format.ts';
import { readable } from '../../lib/signals-text.ts';

interface CountsProps {
  filters: Filters;
  counts: SignalsPage['meta']['counts'] | null;
  onChange: (next: Filters) => void;
}

const sum = (counts: Partial<Record<string, number>> | undefined, keys: readonly string[]) => keys.reduce((s, k) => s + (counts?.[k] ?? 0), 0);

/**
 * The queue's counts, which are also its quickest filters: per status (under every other filter)
 * and per severity. Links, so each is a URL; the island turns a click into a history entry.
 */
export function SignalCounts({ filters, counts, onChange }: CountsProps) {
  const statuses = statusesOf(filters);
  const openView = !filters.status;
  const all = filters.status === 'any';
  const severities = filters.severity?.split(',') ?? [];
  const go = (next: Filters) => (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    onChange(next);
  };
  const link = (next: Filters) => `/signals${signalsSearch(next)}`;
  const n = (v: number | undefined) => (counts ? formatCount(v ?? 0) : '…');
  const statusChip = (label: string, value: number | undefined, current: boolean, next: Filters, key: string) => (
    <a key={key} href={link(next)} onClick={go(next)} class="chip" aria-current={current ? 'true' : undefined} data-status-chip={key}>
      {label} <span class="n">{n(value)}</span>
    </a>
  );
  return (
    <div class="sig-counts" data-testid="signal-counts">
      <nav aria-label="Signals by status" class="chips">
        {statusChip('Open', sum(counts?.by_status, OPEN_STATUSES), openView, { ...filters, status: undefined }, 'open')}
        {STATUSES.map((s) =>
          statusChip(STATUS_LABEL[s], counts?.by_status[s], !openView && !all && statuses.length === 1 && statuses[0] === s, { ...filters, status: s }, s),
        )}
        {statusChip('All', sum(counts?.by_status, STATUSES), all, { ...filters, status: 'any' }, 'any')}
      </nav>
      <div class="chips" role="group" aria-label="Filter by severity">
        {SEVERITIES.map((s) => {
          const on = severities.includes(s);
          return (
            <button key={s} type="button" class={`chip sev-chip sev-${s}`} aria-pressed={on ? 'true' : 'false'} onClick={() => onChange({ ...filters, severity: toggled(filters.severity, s) })} data-severity-chip={s}>
              <span class="sev-mark" aria-hidden="true" />
              {SEVERITY_LABEL[s]} <span class="n">{n(counts?.by_severity[s])}</span>
            </button>
          );
        })}
      </div>
    </div>
  );
}

interface FilterProps {
  filters: Filters;
  me: Person;
  people: Person[];
  metrics: Array<{ name: string; label: string }>;
  signalTypes: string[];
  onChange: (next: Filters) => void;
}

/** The other filters: a plain GET form (the server renders any view from its URL); with the island each change applies at once. */
export function SignalFilterBar({ filters, me, people, metrics, signalTypes, onChange }: FilterProps) {
  const set = (key: keyof Filters) => (e: Event) => onChange({ ...filters, [key]: (e.target as HTMLSelectElement).value || undefined });
  const count = narrowingCount(filters);
  const others = people.filter((p) => p.id !== me.id);
  return (
    <form method="get" action="/signals" class="filters card sig-filters" aria-label="Filters" data-testid="signal-filters" onSubmit={(e) => e.preventDefault()}>
      {filters.status && <input type="hidden" name="status" value={filters.status} />}
      {filters.severity && <input type="hidden" name="severity" value={filters.severity} />}
      <label class="field">
        <span>Owner</span>
        <select name="assignee" value={filters.assignee ?? ''} onChange={set('assignee')} data-filter="assignee">
          <option value="">Anyone</option>
          <option value="me">Me ({me.name})</option>
          <option value="nobody">Nobody</option>
          {others.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          {filters.assignee && !['me', 'nobody'].includes(filters.assignee) && !others.some((p) => p.id === filters.assignee) && (
            <option value={filters.assignee}>{filters.assignee}</option>
          )}
        </select>
      </label>
      <label class="field">
        <span>Metric</span>
        <select name="metric" value={filters.metric ?? ''} onChange={set('metric')} data-filter="metric">
          <option value="">Any</option>
          {metrics.map((m) => <option key={m.name} value={m.name}>{m.label}</option>)}
        </select>
      </label>
      <label class="field">
        <span>Entity</span>
        <select name="entity_type" value={filters.entity_type ?? ''} onChange={set('entity_type')} data-filter="entity_type">
          <option value="">Any</option>
          {ENTITY_TYPES.map((t) => <option key={t} value={t}>{readable(t)}</option>)}
        </select>
      </label>
      <label class="field">
        <span>Type</span>
        <select name="signal_type" value={filters.signal_type ?? ''} onChange={set('signal_type')} data-filter="signal_type">
          <option value="">Any</option>
          {[...new Set([...signalTypes, ...(filters.signal_type ? [filters.signal_type] : [])])].map((t) => <option key={t} value={t}>{readable(t)}</option>)}
        </select>
      </label>
      <label class="field">
        <span>Detected</span>
        <select name="detected" value={filters.detected ?? ''} onChange={set('detected')} data-filter="detected">
          <option value="">Any time</option>
          {DETECTED.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </select>
      </label>
      {filters.entity_id && (
        <p class="field sig-entity-filter">
          <span>Entity id</span>
          <button type="button" class="chip" onClick={() => onChange({ ...filters, entity_id: undefined })} aria-label={`Stop filtering on ${filters.entity_id}`}>
            {filters.entity_id} ✕
          </button>
        </p>
      )}
      <noscript><button type="submit">Apply</button></noscript>
      {count > 0 && (
        <div class="filter-actions">
          <a href="/signals" data-testid="reset-filters" onClick={(e) => { e.preventDefault(); onChange({}); }}>
            Back to the open queue
          </a>
        </div>
      )}
    </form>
  );
}
