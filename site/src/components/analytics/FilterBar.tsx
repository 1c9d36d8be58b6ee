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

const DAY_MS = 86_400_000;
/** An instant's UTC calendar day, as a date input holds it. */
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const parseDay = (day: string | null): number | null => (day && /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : null);
/** The longest window the API takes. */
const MAX_RANGE_DAYS = 366;

/**
 * The custom range as whole UTC days: `from` is the first day, `to` the last one included (the
 * window's end is the midnight after it), so "1 to 7 December" is seven days.
 */
export function rangeFromDays(from: string | null, to: string | null): { start: string; end: string } | { problem: string } | null {
  const first = parseDay(from);
  const last = parseDay(to);
  if (first === null || last === null) return null;
  if (last < first) return { problem: 'The last day comes before the first.' };
  if ((last - first) / DAY_MS + 1 > MAX_RANGE_DAYS) return { problem: `A range may span at most ${MAX_RANGE_DAYS} days.` };
  return { start: new Date(first).toISOString(), end: new Date(last + DAY_MS).toISOString() };
}

/** A date pair for the range: keyboard-typed or picked, whole days in UTC, applied when both are set. */
function DateRange({ start, end, bounds }: { start?: string | undefined; end?: string | undefined; bounds: { first: string | null; last: string | null } }) {
  const shownFrom = start ? utcDay(Date.parse(start)) : '';
  // The window's end is exclusive: the last day shown is the one before it ends.
  const shownTo = end ? utcDay(Date.parse(end) - 1) : '';
  // Held here while the other day is still being chosen, so a re-render does not wipe the first.
  const [from, setFrom] = useState(shownFrom);
  const [to, setTo] = useState(shownTo);
  useEffect(() => setFrom(shownFrom), [shownFrom]);
  useEffect(() => setTo(shownTo), [shownTo]);
  const min = bounds.first ? utcDay(Date.parse(bounds.first)) : undefined;
  const max = bounds.last ? utcDay(Date.parse(bounds.last)) : undefined;
  return (
    <fieldset class="range dates" data-filter="dates" aria-describedby="dates-note">
      <legend>Dates</legend>
      <div class="range-row">
        <label>
          <span class="visually-hidden">From</span>
          <input type="date" name="from" value={from} min={min} max={to || max} aria-label="From" data-testid="date-from" onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </label>
        <span aria-hidden="true">–</span>
        <label>
          <span class="visually-hidden">To</span>
          <input type="date" name="to" value={to} min={from || min} max={max} aria-label="To (last day included)" data-testid="date-to" onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <span id="dates-note" class="visually-hidden">Whole days in UTC; the range applies once both days are set.</span>
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

  const apply = (changed?: string | null) => {
    if (!form.current) return;
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form.current)) if (typeof v === 'string' && v !== '') params.append(k, v);
    const from = params.get('from');
    const to = params.get('to');
    params.delete('from');
    params.delete('to');
    if (changed === 'from' || changed === 'to') {
      // Typing a year digit by digit passes through years like 0002; only a whole one counts.
      if ([from, to].some((day) => day && Number(day.slice(0, 4)) < 1970)) return;
      // Choosing days makes a custom range, once both ends are there and make sense.
      const inputs = [...form.current.querySelectorAll<HTMLInputElement>('input[type="date"]')];
      const range = rangeFromDays(from, to);
      for (const input of inputs) input.setCustomValidity(range && 'problem' in range ? range.problem : '');
      if (!range || 'problem' in range) {
        if (range) inputs.find((i) => i.name === changed)?.reportValidity();
        return;
      }
      params.delete('period');
      params.set('start', range.start);
      params.set('end', range.end);
    } else if (params.get('period') === 'custom') {
      // A custom range replaces the period; choosing a period again drops the range.
      params.delete('period');
    } else {
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
        const name = (e.target as HTMLElement).getAttribute('name');
        if (name !== 'q') apply(name);
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
      <DateRange start={filters.start} end={filters.end} bounds={{ first: opts?.date_bounds.first_contact ?? null, last: opts?.date_bounds.last_contact ?? null }} />
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
