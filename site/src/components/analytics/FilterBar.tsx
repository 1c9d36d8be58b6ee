import { useEffect, useRef, useState } from 'preact/hooks';
import type { FilterOptions, Loaded } from '../../lib/analytics-data.ts';
import { activeFilterCount, DEFAULT_PERIOD, listOf, PERIODS, readFilters } from '../../lib/analytics-query.ts';
import type { Filters } from '../../lib/analytics-query.ts';

interface Props {
  filters: Filters;
  options: Loaded<FilterOptions> | undefined;
  /** Extra fields the page keeps across a filter change (sort, group), as hidden inputs. */
  keep?: Record<string, string | undefined>;
  onChange: (filters: Filters) => void;
  resetHref: string;
}

const LABELS: Record<string, string> = {
  region: 'Region',
  channel: 'Channel',
  issue_type: 'Issue',
  team: 'Team',
};

const readable = (v: string) => v.replace(/_/g, ' ');

/** A multi-valued filter: a disclosure of checkboxes that says what is chosen when closed. */
function MultiPick({ name, values, chosen }: { name: string; values: Array<{ value: string; contacts: number | null }>; chosen: string[] }) {
  const all = [...new Set([...values.map((v) => v.value), ...chosen])];
  const summary = chosen.length === 0 ? 'Any' : chosen.length <= 2 ? chosen.map(readable).join(', ') : `${chosen.length} chosen`;
  return (
    <details class="pick" data-filter={name}>
      <summary>
        <span class="pick-label">{LABELS[name]}</span> <span class={chosen.length ? 'pick-value set' : 'pick-value'}>{summary}</span>
      </summary>
      <fieldset>
        <legend class="visually-hidden">{LABELS[name]}</legend>
        {all.map((v) => {
          const count = values.find((x) => x.value === v)?.contacts;
          return (
            <label key={v} class="check">
              <input type="checkbox" name={name} value={v} checked={chosen.includes(v)} />
              <span>{readable(v)}</span>
              {typeof count === 'number' && <span class="count" title="Contacts with this value in all the data">{count.toLocaleString()}</span>}
            </label>
          );
        })}
      </fieldset>
    </details>
  );
}

function RangePick({ name, label, min, max, from, to }: { name: string; label: string; min: number; max: number; from?: string | undefined; to?: string | undefined }) {
  const steps = Array.from({ length: max - min + 1 }, (_, i) => String(min + i));
  return (
    <fieldset class="range" data-filter={name}>
      <legend>{label}</legend>
      <div class="range-row">
      <select name={`${name}_min`} value={from ?? ''} aria-label={`${label} at least`}>
        <option value="">Any</option>
        {steps.map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      <span aria-hidden="true">–</span>
      <select name={`${name}_max`} value={to ?? ''} aria-label={`${label} at most`}>
        <option value="">Any</option>
        {steps.map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      </div>
    </fieldset>
  );
}

/**
 * The filters both analytics pages share. A plain GET form, so the server renders any filtered
 * view from its URL; with the island running, every change applies at once (the search box on
 * Enter) and becomes a history entry.
 */
export function FilterBar({ filters, options, keep = {}, onChange, resetHref }: Props) {
  const form = useRef<HTMLFormElement>(null);
  const [q, setQ] = useState(filters.q ?? '');
  useEffect(() => setQ(filters.q ?? ''), [filters.q]);
  // A choice list closes like a menu: on a click elsewhere, or Escape (focus back on its summary).
  useEffect(() => {
    const close = (keep: EventTarget | null) =>
      form.current?.querySelectorAll<HTMLDetailsElement>('details.pick[open]').forEach((d) => !d.contains(keep as Node) && d.removeAttribute('open'));
    const onPointer = (e: PointerEvent) => close(e.target);
    const onKey = (e: KeyboardEvent) => {
      const open = (e.target as HTMLElement).closest?.('details.pick[open]');
      if (e.key !== 'Escape' || !open) return;
      open.removeAttribute('open');
      open.querySelector('summary')?.focus();
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, []);
  const opts = options?.ok ? options.value.data : null;
  const custom = Boolean(filters.start || filters.end);

  const apply = () => {
    if (!form.current) return;
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form.current)) if (typeof v === 'string' && v !== '') params.append(k, v);
    // A custom range replaces the period; choosing a period again drops the range.
    if (params.get('period') === 'custom') params.delete('period');
    else {
      params.delete('start');
      params.delete('end');
    }
    onChange(readFilters(params));
  };
  const agents = opts?.agents ?? [];
  const chosenAgent = filters.agent_id && !listOf(filters.agent_id).every((a) => agents.some((x) => x.agent_id === a)) ? filters.agent_id : null;
  const count = activeFilterCount(filters);

  return (
    <form
      ref={form}
      method="get"
      class="filters card"
      aria-label="Filters"
      data-testid="filters"
      onChange={(e) => {
        if ((e.target as HTMLElement).getAttribute('name') !== 'q') apply();
      }}
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <label class="field">
        <span>Period</span>
        <select name="period" value={custom ? 'custom' : (filters.period ?? DEFAULT_PERIOD)}>
          {PERIODS.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
          {custom && <option value="custom">Custom range</option>}
        </select>
      </label>
      {custom && (
        <>
          <input type="hidden" name="start" value={filters.start ?? ''} />
          <input type="hidden" name="end" value={filters.end ?? ''} />
        </>
      )}
      {(['region', 'channel', 'issue_type', 'team'] as const).map((name) => (
        <MultiPick
          key={name}
          name={name}
          values={opts ? opts[name === 'region' ? 'regions' : name === 'channel' ? 'channels' : name === 'issue_type' ? 'issue_types' : 'teams'] : []}
          chosen={listOf(filters[name])}
        />
      ))}
      <label class="field">
        <span>Agent</span>
        <select name="agent_id" value={filters.agent_id ?? ''}>
          <option value="">Any</option>
          {chosenAgent && <option value={chosenAgent}>{chosenAgent}</option>}
          {agents.map((a) => <option key={a.agent_id} value={a.agent_id}>{a.name}</option>)}
        </select>
      </label>
      <label class="field">
        <span>First contact</span>
        <select name="fcr" value={filters.fcr ?? ''}>
          <option value="">Any</option>
          <option value="true">Resolved</option>
          <option value="false">Not resolved</option>
        </select>
      </label>
      <label class="field">
        <span>Transfer</span>
        <select name="transferred" value={filters.transferred ?? ''}>
          <option value="">Any</option>
          <option value="true">Transferred</option>
          <option value="false">Not transferred</option>
        </select>
      </label>
      <RangePick name="csat" label="CSAT" min={1} max={5} from={filters.csat_min} to={filters.csat_max} />
      <RangePick name="nps" label="NPS answer" min={0} max={10} from={filters.nps_min} to={filters.nps_max} />
      <label class="field search">
        <span>Find an id</span>
        <input type="search" name="q" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} placeholder="Contact, customer, agent or device" autocomplete="off" spellcheck={false} />
      </label>
      {Object.entries(keep).map(([k, v]) => (v ? <input key={k} type="hidden" name={k} value={v} /> : null))}
      <div class="filter-actions">
        <button type="submit">Apply</button>
        {count > 0 && (
          <a href={resetHref} data-testid="reset-filters">
            Clear {count} filter{count === 1 ? '' : 's'}
          </a>
        )}
      </div>
      {options?.ok && options.value.meta.live_data_unavailable && (
        <p class="hint filters-note">The lakehouse is not answering: the choices are the data dictionary’s, without counts.</p>
      )}
    </form>
  );
}
