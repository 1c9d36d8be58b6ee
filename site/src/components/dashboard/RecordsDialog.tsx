import { useRef, useState } from 'preact/hooks';
import type { Ref } from 'preact';
import { loadRecords } from '../../lib/dashboard-data.ts';
import type { Records, Tile } from '../../lib/dashboard-data.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { TableSkeleton } from './skeletons.tsx';

type TableModule = typeof import('./RecordsTable.tsx');
type RecordsView = { title: string } & ({ status: 'loading' } | { status: 'ready'; records: Records; view: TableModule } | { status: 'failed'; problem: string });

/** The rows behind a tile: `open(tile)` and the props for the one <RecordsDialog> that shows them. */
export function useRecordsDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [records, setRecords] = useState<RecordsView | null>(null);
  const request = useRef(0);

  /** The dialog opens at once with placeholder rows; the rows replace them, or the reason they cannot. */
  async function open(tile: Tile) {
    const current = ++request.current;
    const title = tile.widget.title;
    setRecords({ title, status: 'loading' });
    dialog.current?.showModal();
    // The table's code comes with the first rows, while the skeleton is up.
    const [loaded, view] = await Promise.all([loadRecords(tile.widget.id), import('./RecordsTable.tsx')]);
    // Closed, or opened for another tile, while these rows were on their way.
    if (current !== request.current || !dialog.current?.open) return;
    setRecords(
      loaded.ok
        ? { title, status: 'ready', records: loaded.value, view }
        : { title, status: 'failed', problem: `The rows behind this tile are not available right now. ${loaded.problem}` },
    );
  }
  const onClose = () => {
    request.current++;
    setRecords(null);
  };
  return { open, dialog: { dialogRef: dialog, records, onClose } };
}

export function RecordsDialog({ dialogRef, records, onClose, columns }: { dialogRef: Ref<HTMLDialogElement>; records: RecordsView | null; onClose: () => void; columns: ColumnInfoMap }) {
  return (
    <dialog
      ref={dialogRef}
      class="records-dialog"
      aria-labelledby="records-title"
      aria-busy={records?.status === 'loading' ? 'true' : undefined}
      data-testid="records-dialog"
      data-state={records?.status}
      onClose={onClose}
    >
      {records && (
        <>
          <h2 id="records-title">Rows behind {records.title}</h2>
          {records.status === 'loading' && <TableSkeleton label={`Loading the rows behind ${records.title}…`} rows={10} />}
          {records.status === 'ready' && (
            <div class="records-scroll">
              <records.view.RecordsTable records={records.records} columns={columns} />
            </div>
          )}
          {records.status === 'failed' && <p class="notice error" role="alert">{records.problem}</p>}
          <div class="dialog-actions">
            {records.status === 'ready' ? <p class="hint">Times in your time zone; hover a time for UTC, a header for its meaning.</p> : <span />}
            <form method="dialog"><button type="submit">Close</button></form>
          </div>
        </>
      )}
    </dialog>
  );
}
