import type { Records } from '../../lib/dashboard-data.ts';
import { fallbackInfo } from '../../lib/column-info.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { RecordTable } from '../RecordTable.tsx';

/**
 * The rows behind a tile in the one records table, headed by the dictionary's descriptions of
 * their table; a column it does not describe (a Postgres-only one) keeps its name, readable.
 * Loaded when the Rows dialog first opens, so the dashboard's first view does not carry it.
 */
export function RecordsTable({ records, columns }: { records: Records; columns: ColumnInfoMap }) {
  const cols = records.columns.map((name) => ({
    key: name,
    ...(columns[`${records.table}.${name}`] ?? fallbackInfo(name, records.rows.find((r) => r[name] !== null && r[name] !== undefined)?.[name])),
  }));
  return <RecordTable columns={cols} rows={records.rows} rowKey={(_, i) => String(i)} />;
}
