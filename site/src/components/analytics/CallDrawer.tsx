import type { Ref } from 'preact';
import type { CallDetail, Loaded } from '../../lib/analytics-data.ts';
import { fallbackInfo } from '../../lib/column-info.ts';
import type { ColumnInfoMap } from '../../lib/column-info.ts';
import { formatValue, parseInstant } from '../../lib/format.ts';
import type { ValueFormat } from '../../lib/format.ts';
import { Cell, RecordTable } from '../RecordTable.tsx';
import type { TableColumn } from '../RecordTable.tsx';
import { TableSkeleton } from '../dashboard/skeletons.tsx';
import { LiveUnavailable, provenance } from './LiveState.tsx';
import { SourceBadge } from '../badges.tsx';

type Row = Record<string, unknown>;

/** Columns of a dictionary table, headed by the dictionary's labels. */
function dictionaryColumns(table: string, names: string[], columns: ColumnInfoMap, rows: Row[]): TableColumn[] {
  return names.map((name) => ({ key: name, ...(columns[`${table}.${name}`] ?? fallbackInfo(name, rows[0]?.[name])) }));
}

/** How far from the contact a claim or session was: "3 d before", "same day", "12 d after". */
function relativeTo(at: unknown, contact: Date): string {
  const d = parseInstant(at);
  if (!d) return '';
  const days = Math.round((d.getTime() - contact.getTime()) / 86_400_000);
  if (days === 0) return 'same day';
  return `${Math.abs(days)} d ${days < 0 ? 'before' : 'after'}`;
}

function Facts({ items }: { items: Array<[string, unknown, ValueFormat]> }) {
  return (
    <dl class="facts">
      {items.map(([label, value, format]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd><Cell value={value} format={format} /></dd>
        </div>
      ))}
    </dl>
  );
}

interface Props {
  dialogRef: Ref<HTMLDialogElement>;
  id: string | null;
  detail: Loaded<CallDetail> | undefined;
  columns: ColumnInfoMap;
  /** The list's filters without the contact filters, for "more like this" links. */
  linkFor: (filter: Record<string, string>) => string;
  onClose: () => void;
}

/**
 * One contact beside the list: what happened, who handled it, the customer and device, and
 * the customer's claims and sessions in the days around it, each dated against the contact.
 */
export function CallDrawer({ dialogRef, id, detail, columns, linkFor, onClose }: Props) {
  const d = detail?.ok ? detail.value : null;
  const at = d ? new Date(d.call.started_at) : null;
  return (
    <dialog ref={dialogRef} class="drawer" aria-labelledby="call-title" aria-busy={id && !detail ? 'true' : undefined} data-testid="call-drawer" data-state={!detail ? 'loading' : detail.ok ? 'ready' : 'failed'} onClose={onClose}>
      <div class="drawer-head">
        <h2 id="call-title">
          Contact <span class="id">{id}</span>
        </h2>
        <form method="dialog">
          <button type="submit" class="close" aria-label="Close the contact">✕</button>
        </form>
      </div>
      {id && !detail && <TableSkeleton label={`Loading contact ${id}…`} rows={6} />}
      {detail && !detail.ok && <LiveUnavailable problem={detail} />}
      {d && at && (
        <div class="drawer-body">
          <p class="drawer-sub">
            <Cell value={d.call.started_at} format="time" /> · {d.call.channel} · {d.call.issue_type.replace(/_/g, ' ')}
          </p>
          <Facts
            items={[
              ['Handle time', d.call.handle_seconds, 'duration'],
              ['Resolved first contact', d.call.resolved_first_contact, 'boolean'],
              ['Transferred', d.call.transferred, 'boolean'],
              ['CSAT', d.call.csat, 'number'],
              ['NPS answer', d.call.nps, 'number'],
              ['Ended', d.call.ended_at, 'time'],
            ]}
          />
          <div class="drawer-cols">
            <section aria-labelledby="agent-title">
              <h3 id="agent-title">Agent</h3>
              {d.agent ? (
                <>
                  <Facts items={[['Name', d.agent.agent_name, 'text'], ['Team', d.agent.team, 'text'], ['Works from', d.agent.region, 'text'], ['Joined', d.agent.hired_on, 'date']]} />
                  <a href={linkFor({ agent_id: String(d.agent.agent_id) })}>All of {String(d.agent.agent_name ?? d.agent.agent_id)}’s contacts</a>
                </>
              ) : (
                <p class="empty">Unknown agent.</p>
              )}
            </section>
            <section aria-labelledby="customer-title">
              <h3 id="customer-title">Customer</h3>
              {d.customer ? (
                <>
                  <Facts items={[['Account', d.customer.customer_id, 'id'], ['Region', d.customer.region, 'text'], ['Segment', d.customer.segment, 'text'], ['Plan', d.customer.plan, 'text'], ['Enrolled', d.customer.signup_date, 'date']]} />
                  <a href={linkFor({ q: String(d.customer.customer_id) })}>All of this customer’s contacts</a>
                </>
              ) : (
                <p class="empty">Unknown customer.</p>
              )}
            </section>
            <section aria-labelledby="device-title">
              <h3 id="device-title">Device</h3>
              {d.device ? (
                <Facts items={[['Device', `${d.device.make ?? ''} ${d.device.model ?? ''}`.trim(), 'text'], ['System', d.device.os, 'text'], ['Purchased', d.device.purchased_on, 'date'], ['ID', d.device.device_id, 'id']]} />
              ) : (
                <p class="empty">Not about a device.</p>
              )}
            </section>
          </div>
          <section aria-labelledby="claims-title">
            <h3 id="claims-title">
              Claims within {d.around_days} days <span class="count">{d.claims.length}</span>
            </h3>
            <div class="table-scroll">
            <RecordTable
              testId="call-claims"
              columns={[
                { key: 'when', label: 'From the contact', format: 'text', value: (r: Row) => relativeTo(r.opened_at, at) },
                ...dictionaryColumns('claims', ['opened_at', 'product', 'claim_type', 'status', 'claim_cost', 'cost_avoided'], columns, d.claims),
              ]}
              rows={d.claims}
              rowKey={(r) => String(r.claim_id)}
              empty="No claims from this customer in these days."
            />
            </div>
          </section>
          <section aria-labelledby="sessions-title">
            <h3 id="sessions-title">
              Issue sessions within {d.around_days} days <span class="count">{d.sessions.length}</span>
            </h3>
            <div class="table-scroll">
            <RecordTable
              testId="call-sessions"
              columns={[
                { key: 'when', label: 'From the contact', format: 'text', value: (r: Row) => relativeTo(r.started_at, at) },
                ...dictionaryColumns('issue_sessions', ['started_at', 'issue_type', 'channel', 'outcome', 'nps_impact'], columns, d.sessions),
              ]}
              rows={d.sessions}
              rowKey={(r) => String(r.session_id)}
              empty="No issue sessions from this customer in these days."
            />
            </div>
          </section>
          <div class="tile-foot">
            <SourceBadge data={provenance({ as_of: d.as_of, cache: d.cache, live_data_unavailable: false })} />
            <span class="hint" title={formatValue(d.call.started_at, 'time').title}>Times in your time zone; hover a time for UTC</span>
          </div>
        </div>
      )}
    </dialog>
  );
}
