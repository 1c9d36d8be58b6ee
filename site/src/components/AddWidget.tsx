import { useRef, useState } from 'preact/hooks';
import type { TileWidget } from '../lib/dashboard-data.ts';
import { store } from '../lib/store.ts';
import type { ClarifierEvent } from '../../../worker/clarifier/events.ts';

type Proposal = Extract<ClarifierEvent, { event: 'spec' }>['data'];

/** Charts that show `label, value` rows; a KPI is one number and a line is a time series. */
const GROUPABLE_CHARTS = new Set(['bar', 'pie', 'table']);

/** The metric's group_by choices from the catalog; none when it cannot be grouped. */
async function groupableColumns(metric: string): Promise<string[]> {
  const res = await fetch('/v1/metrics', { credentials: 'same-origin' });
  if (!res.ok) return [];
  const body = (await res.json()) as { metrics?: Array<{ name: string; groupable?: string[] }> };
  return body.metrics?.find((m) => m.name === metric)?.groupable ?? [];
}

const columnLabel = (column: string) => column.replaceAll('_', ' ');
interface Line {
  role: 'user' | 'assistant' | 'error';
  text: string;
}

const CONVERSATION_KEY = 'cc.clarifier.conversation';

/**
 * The Add Widget dialog: the user describes a tile, the clarifier asks what it needs over a
 * streamed conversation, and the validated spec is previewed (with its SQL) before it is added.
 * The conversation id is kept in sessionStorage, so a reload continues where it stopped.
 */
export default function AddWidget() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [spec, setSpec] = useState<Proposal | null>(null);
  const [sql, setSql] = useState<string | null>(null);
  const [groupable, setGroupable] = useState<string[]>([]);
  const [groupBy, setGroupBy] = useState('');

  async function open() {
    dialog.current?.showModal();
    const id = sessionStorage.getItem(CONVERSATION_KEY);
    if (!id || lines.length > 0) return;
    const res = await fetch(`/v1/widgets/clarify/${id}`, { credentials: 'same-origin' });
    if (!res.ok) return sessionStorage.removeItem(CONVERSATION_KEY);
    const stored = (await res.json()) as { messages?: Array<{ role: string; text?: string; content?: string }> };
    setLines((stored.messages ?? []).map((m) => ({ role: m.role === 'user' ? 'user' : 'assistant', text: m.text ?? m.content ?? '' })));
  }

  async function send(e: Event) {
    e.preventDefault();
    const message = input.trim();
    if (!message || busy) return;
    setBusy(true);
    setInput('');
    setLines((l) => [...l, { role: 'user', text: message }]);
    try {
      const conversation_id = sessionStorage.getItem(CONVERSATION_KEY) ?? undefined;
      const res = await fetch('/v1/widgets/clarify', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, ...(conversation_id ? { conversation_id } : {}) }),
      });
      if (!res.ok || !res.body) {
        const problem = (await res.json().catch(() => ({}))) as { detail?: string };
        setLines((l) => [...l, { role: 'error', text: problem.detail ?? `The clarifier answered ${res.status}.` }]);
        return;
      }
      // Read only once a turn is sent, so the parser is not part of the page's first download.
      const { clarifierEvents } = await import('../lib/clarifier-events.ts');
      for await (const e of clarifierEvents(res.body)) {
        switch (e.event) {
          case 'message':
            setLines((l) => [...l, { role: 'assistant', text: e.data.text }]);
            break;
          case 'question':
            setLines((l) => [...l, { role: 'assistant', text: e.data.text }]);
            break;
          case 'error':
            setLines((l) => [...l, { role: 'error', text: e.data.detail }]);
            break;
          case 'unreadable':
            setLines((l) => [...l, { role: 'error', text: 'The clarifier sent something this page cannot read; try again.' }]);
            break;
          case 'spec': {
            const { metric, spec: next } = e.data;
            setSpec(e.data);
            setGroupBy('');
            setGroupable(GROUPABLE_CHARTS.has(next.visualization) ? await groupableColumns(metric.name).catch(() => []) : []);
            const gen = await fetch('/v1/widgets/sql/generate', {
              method: 'POST',
              credentials: 'same-origin',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ metric: metric.name, dry_run: true }),
            });
            setSql(gen.ok ? String(((await gen.json()) as { sql?: string }).sql ?? '') : null);
            break;
          }
          case 'done':
            sessionStorage.setItem(CONVERSATION_KEY, e.data.conversation_id);
        }
      }
    } finally {
      setBusy(false);
    }
  }

  async function accept() {
    if (!spec) return;
    const res = await fetch('/v1/widgets', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...spec.spec, ...(groupBy ? { group_by: groupBy } : {}) }),
    });
    if (res.status !== 201) {
      const problem = (await res.json().catch(() => ({}))) as { detail?: string };
      setLines((l) => [...l, { role: 'error', text: problem.detail ?? 'The tile could not be added.' }]);
      return;
    }
    // The dashboard takes the new tile as it is, shows its skeleton and fetches its data: no reload.
    store().addTile((await res.json()) as TileWidget);
    restart();
    dialog.current?.close();
  }

  function restart() {
    sessionStorage.removeItem(CONVERSATION_KEY);
    setLines([]);
    setSpec(null);
    setSql(null);
    setGroupable([]);
    setGroupBy('');
  }

  return (
    <>
      <button type="button" class="add-widget" onClick={() => void open()} data-testid="add-widget">Add tile</button>
      <dialog ref={dialog} aria-labelledby="add-title" class="clarifier">
        <h2 id="add-title">Add a tile</h2>
        <p class="hint">Describe the number you want to watch, e.g. “claims by product over the last 7 days as a bar chart”.</p>
        <ol class="conversation" aria-live="polite" data-testid="conversation">
          {lines.map((l, i) => (
            <li key={i} class={`turn ${l.role}`}>{l.text}</li>
          ))}
        </ol>
        {spec && (
          <section class="preview card" aria-labelledby="preview-title" data-testid="spec-preview">
            <h3 id="preview-title">{spec.spec.title}</h3>
            <p>
              {spec.metric.display_name} · {spec.spec.visualization} · {JSON.stringify(spec.spec.time_window)}
              {spec.source === 'template' && <span class="badge source-template"> offline template</span>}
            </p>
            {groupable.length > 0 && (
              <p>
                <label for="group-by">Group by </label>
                <select id="group-by" value={groupBy} onChange={(e) => setGroupBy((e.target as HTMLSelectElement).value)} data-testid="group-by">
                  <option value="">No grouping</option>
                  {groupable.map((column) => (
                    <option key={column} value={column}>{columnLabel(column)}</option>
                  ))}
                </select>
              </p>
            )}
            {sql && (
              <details>
                <summary>SQL behind this tile</summary>
                <pre class="sql"><code>{sql}</code></pre>
              </details>
            )}
            <button type="button" onClick={() => void accept()} data-testid="accept-spec">Add to dashboard</button>
          </section>
        )}
        <form onSubmit={(e) => void send(e)} class="ask">
          <label for="clarifier-input" class="visually-hidden">Your request</label>
          <input id="clarifier-input" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} maxLength={2000} placeholder="What should the tile show?" disabled={busy} />
          <button type="submit" disabled={busy}>{busy ? 'Thinking…' : 'Send'}</button>
        </form>
        <div class="dialog-actions">
          <button type="button" class="link" onClick={restart}>Start over</button>
          <button type="button" onClick={() => dialog.current?.close()}>Close</button>
        </div>
      </dialog>
    </>
  );
}
