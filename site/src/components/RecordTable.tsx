import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { formatValue, isNumericFormat } from '../lib/format.ts';
import type { ValueFormat } from '../lib/format.ts';

type Row = Record<string, unknown>;

export interface TableColumn<R = Row> {
  key: string;
  label: string;
  /** The whole meaning of the column, on hover of its header. */
  description?: string;
  format: ValueFormat;
  /** The raw value (default `row[key]`), formatted by `format`. */
  value?: (row: R) => unknown;
  /** Replaces the formatted value entirely. */
  render?: (row: R) => ComponentChildren;
  /** The server can sort on it; the header becomes a button. */
  sortable?: boolean;
}

export interface TableSort {
  key: string;
  desc: boolean;
}

interface Props<R> {
  columns: ReadonlyArray<TableColumn<R>>;
  rows: readonly R[];
  rowKey: (row: R, index: number) => string;
  caption?: string;
  /** Visually hidden caption: the page already names the table. */
  captionHidden?: boolean;
  sort?: TableSort;
  onSort?: (key: string) => void;
  /** Rows become one keyboard stop: arrows move, Enter (or a click) opens. */
  onOpen?: (row: R) => void;
  /** The row whose detail is open, marked for the eye and for assistive technology. */
  openKey?: string | null;
  empty?: string;
  testId?: string;
  rowLabel?: (row: R) => string;
  rowClass?: (row: R) => string | undefined;
}

/** One cell: formatted, times in a <time> whose title is the exact UTC instant. */
export function Cell({ value, format }: { value: unknown; format: ValueFormat }) {
  const f = formatValue(value, format);
  if (f.iso) return <time dateTime={f.iso} title={f.title}>{f.text}</time>;
  return f.title ? <span title={f.title}>{f.text}</span> : <>{f.text}</>;
}

/**
 * The one records table: calls, the leaderboard, a contact's claims and sessions, and the rows
 * behind a dashboard tile. Headers are human labels with their full meaning on hover; cells are
 * formatted for the viewer and never wrap; numbers align right. With `onOpen`, rows take focus
 * as one tab stop (roving tabindex): ↑/↓, Home/End move, Enter opens.
 */
export function RecordTable<R = Row>({ columns, rows, rowKey, caption, captionHidden, sort, onSort, onOpen, openKey, empty, testId, rowLabel, rowClass }: Props<R>) {
  const body = useRef<HTMLTableSectionElement>(null);
  if (rows.length === 0) return <p class="empty">{empty ?? 'No rows in this window.'}</p>;

  const focusRow = (index: number) => {
    const trs = body.current?.querySelectorAll<HTMLTableRowElement>('tr');
    if (!trs || trs.length === 0) return;
    const i = Math.max(0, Math.min(trs.length - 1, index));
    trs.forEach((tr, k) => (tr.tabIndex = k === i ? 0 : -1));
    trs[i]!.focus();
  };
  const onKeyDown = (e: KeyboardEvent, row: R, index: number) => {
    if (e.target !== e.currentTarget) return;
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1, PageDown: index + 10, PageUp: index - 10 };
    if (e.key in moves) {
      e.preventDefault();
      focusRow(moves[e.key]!);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onOpen?.(row);
    }
  };
  const openIndex = openKey ? rows.findIndex((r, i) => rowKey(r, i) === openKey) : -1;

  return (
    <table class={`data records${onOpen ? ' interactive' : ''}`} data-testid={testId}>
      {caption && <caption class={captionHidden ? 'visually-hidden' : undefined}>{caption}</caption>}
      <thead>
        <tr>
          {columns.map((c) => {
            const sorted = sort?.key === c.key;
            const ariaSort = sorted ? (sort!.desc ? 'descending' : 'ascending') : c.sortable && onSort ? 'none' : undefined;
            return (
              <th scope="col" key={c.key} class={isNumericFormat(c.format) ? 'num' : undefined} aria-sort={ariaSort} title={c.description}>
                {c.sortable && onSort ? (
                  <button type="button" class="sort" data-sort-key={c.key} onClick={() => onSort(c.key)}>
                    {c.label}
                    <span class="sort-mark" aria-hidden="true">{sorted ? (sort!.desc ? '▼' : '▲') : '↕'}</span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody ref={body}>
        {rows.map((r, i) => {
          const key = rowKey(r, i);
          const open = key === openKey;
          return (
            <tr
              key={key}
              data-key={key}
              class={[open ? 'open' : '', rowClass?.(r) ?? ''].join(' ').trim() || undefined}
              aria-current={open ? 'true' : undefined}
              aria-label={onOpen && rowLabel ? rowLabel(r) : undefined}
              tabIndex={onOpen ? (i === (openIndex >= 0 ? openIndex : 0) ? 0 : -1) : undefined}
              onClick={onOpen ? (e) => !(e.target as HTMLElement).closest('a, button') && onOpen(r) : undefined}
              onKeyDown={onOpen ? (e) => onKeyDown(e, r, i) : undefined}
            >
              {columns.map((c) => (
                <td key={c.key} class={isNumericFormat(c.format) ? 'num' : c.format === 'id' ? 'id' : undefined}>
                  {c.render ? c.render(r) : <Cell value={c.value ? c.value(r) : (r as Row)[c.key]} format={c.format} />}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
