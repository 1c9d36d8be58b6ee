import type { Loaded, OwnerTimes, ResponseTimes as Times } from '../../lib/signals-data.ts';
import { formatCount } from '../../lib/format.ts';
import { personName, responseTime } from '../../lib/signals-text.ts';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { RecordTable } from '../RecordTable.tsx';
import type { TableColumn } from '../RecordTable.tsx';


const timeCell = (seconds: number | null, avg: number | null) => (
  <span class="sig-time" title={avg === null ? undefined : `Average ${responseTime(avg)}`}>
    {responseTime(seconds)}
    {avg !== null && <span class="muted"> · avg {responseTime(avg)}</span>}
  </span>
);

const COLUMNS: Array<TableColumn<OwnerTimes>> = [
  { key: 'owner', label: 'Owner', format: 'text', value: (r) => personName(r.owner) ?? 'Unassigned' },
  { key: 'count', label: 'Signals', format: 'number', description: 'Signals they own that were detected in the window' },
  { key: 'acknowledged', label: 'Acknowledged', format: 'number' },
  { key: 'resolved', label: 'Closed', format: 'number', description: 'Resolved, false positive or expected' },
  {
    key: 'tta',
    label: 'Time to acknowledge (median)',
    description: 'From detection to the first acknowledgement, from the activity trail',
    format: 'duration',
    render: (r) => timeCell(r.time_to_acknowledge.p50_seconds, r.time_to_acknowledge.avg_seconds),
  },
  {
    key: 'ttr',
    label: 'Time to resolve (median)',
    description: 'From detection to the first close (resolved, false positive or expected)',
    format: 'duration',
    render: (r) => timeCell(r.time_to_resolve.p50_seconds, r.time_to_resolve.avg_seconds),
  },
];

/** How fast each owner answers: the activity trail measured per current assignee. */
export function ResponseTimes({ times }: { times: Loaded<Times> | undefined }) {
  return (
    <section class="card sig-times" aria-labelledby="sig-times-title" aria-busy={times === undefined ? 'true' : undefined} data-testid="response-times">
      <div class="section-head">
        <h2 id="sig-times-title">Response and resolution times</h2>
        {times?.ok && (
          <p class="compared">
            Signals detected since <time dateTime={times.value.meta.since}>{new Date(times.value.meta.since).toLocaleDateString()}</time>, per current owner
          </p>
        )}
      </div>
      {times === undefined ? (
        <TableSkeleton label="Loading response times…" rows={4} />
      ) : !times.ok ? (
        <p class="notice error" role="alert">{times.problem}</p>
      ) : (
        <div class="table-scroll">
          <RecordTable
            testId="response-times-table"
            caption="Response and resolution times per owner"
            captionHidden
            columns={COLUMNS}
            rows={times.value.data}
            rowKey={(r) => r.owner?.id ?? 'nobody'}
            empty="No signals in this window yet."
          />
          <p class="hint">
            {formatCount(times.value.data.reduce((s, r) => s + r.count, 0))} signals; medians with the average beside them. Times come from the activity trail, which nobody can edit.
          </p>
        </div>
      )}
    </section>
  );
}
