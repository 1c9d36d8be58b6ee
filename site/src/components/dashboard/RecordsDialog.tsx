import { useRef, useState } from 'preact/hooks';
import type { Ref } from 'preact';
import { loadRecords } from '../../lib/dashboard-data.ts';
import type { Records, Tile } from '../../lib/dashboard-data.ts';
import { DataTable } from '../charts.tsx';
import { TableSkeleton } from './skeletons.tsx';

type RecordsView = { title: string } & ({ status: 'loading' } | { status: 'ready'; records: Records } | { status: 'failed'; problem: string });

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
    const loaded = await loadRecords(tile.widget.id);
    // Closed, or opened for another tile, while these rows were on their way.
    if (current !== request.current || !dialog.current?.open) return;
    setRecords(
      loaded.ok
        ? { title, status: 'ready', records: { columns: loaded.value.columns.slice(0, 8), rows: loaded.value.rows } }
        : { title, status: 'failed', problem: `The rows behind this tile are not available right now. ${loaded.problem}` },
    );
  }
  const onClose = () => {
    request.current++;
    setRecords(null);
  };
  return { open, dialog: { dialogRef: dialog, records, onClose } };
}

export function RecordsDialog({ dialogRef, records, onClose }: { dialogRef: Ref<HTMLDialogElement>; records: RecordsView | null; onClose: () => void }) {
  return (
    <dialog
      ref={dialogRef}
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
          {records.status === 'ready' && <div class="records-scroll"><DataTable rows={records.records.rows} columns={records.records.columns} /></div>}
          {records.status === 'failed' && <p class="notice error" role="alert">{records.problem}</p>}
          <form method="dialog" class="dialog-actions end"><button type="submit">Close</button></form>
        </>
      )}
    </dialog>
  );
}
