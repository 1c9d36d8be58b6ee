import { useEffect, useRef, useState } from 'preact/hooks';
import { formatUnit, localTime, parseInstant, utcExact } from '../../lib/format.ts';
import type { Action, IncidentDetail } from '../../lib/incident-data.ts';
import { AgentActionSchema, IncidentStatusSchema, decide, loadIncident } from '../../lib/incident-data.ts';
import {
  AGENT_LABEL,
  actionLine,
  detailLabel,
  detailText,
  finding,
  formatConfidence,
  formatMs,
  formatSavings,
  formatSeconds,
  inOrder,
  incidentStatusText,
  incidentTone,
  isOpen,
  severityText,
  statusText,
  statusTone,
} from '../../lib/incident-text.ts';
import { store } from '../../lib/store.ts';
import { AgentName, StatusBadge } from './icons.tsx';
import './incidents.css';

interface Props {
  initial: IncidentDetail;
  /** The scenario's button label, when the incident came from one. */
  scenarioLabel: string | null;
  /** Editors and admins may approve, reject and cancel. */
  canAct: boolean;
}

/** How long the page lets a burst of frames settle before it reads the incident again. */
const SETTLE_MS = 150;

/**
 * One incident: what it is, its timeline as it runs (read again whenever the hub reports one of
 * its steps, so the page always shows what the server stored), the approval and cancel controls,
 * what moved during it, what it saved and by which formula, and whether anyone was told.
 */
export default function IncidentView({ initial, scenarioLabel, canAct }: Props) {
  const [incident, setIncident] = useState(initial);
  const [notice, setNotice] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [said, setSaid] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // Keyboard focus follows the cancel confirmation: onto its safe choice, and back when it closes.
  const keepRunning = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  useEffect(() => {
    if (confirmCancel) keepRunning.current?.focus();
    else if (asked.current) cancelButton.current?.focus();
    asked.current = confirmCancel;
  }, [confirmCancel]);
  const id = initial.incident_id;

  const reload = async () => {
    const loaded = await loadIncident(id);
    if (loaded.ok) setIncident(loaded.value);
  };
  const soon = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void reload(), SETTLE_MS);
  };

  useEffect(() => {
    const hub = store();
    const offs = [
      hub.subscribe('agent_action', ({ data }) => {
        const parsed = AgentActionSchema.safeParse(data);
        if (!parsed.success || parsed.data.incident_id !== id) return;
        const a = parsed.data.action;
        if (a.status !== 'in_progress') setSaid(`${AGENT_LABEL[a.agent_type]}: ${statusText({ status: a.status, kind: a.kind, attempt: a.attempt ?? null })}.`);
        soon();
      }),
      hub.subscribe('incident_status', ({ data }) => {
        const parsed = IncidentStatusSchema.safeParse(data);
        if (!parsed.success || parsed.data.incident_id !== id) return;
        setSaid(`Incident ${incidentStatusText(parsed.data.status).toLowerCase()}.`);
        soon();
      }),
      hub.subscribe('snapshot', () => void reload()),
    ];
    return () => {
      offs.forEach((off) => off());
      clearTimeout(timer.current);
    };
  }, []);

  async function act(decision: 'approve' | 'reject' | 'cancel') {
    setPending(decision);
    setNotice(null);
    const res = await decide(id, decision);
    setPending(null);
    setConfirmCancel(false);
    if (!res.ok) setNotice(res.code === 'incident_state' ? `Nothing changed: ${res.problem}` : `That did not go through: ${res.problem}`);
    await reload();
  }

  const i = incident;
  const timeline = inOrder(i.timeline);
  const open = isOpen(i.status);
  return (
    <div class="incident-page" data-incident={i.incident_id} data-status={i.status}>
      <div class="page-head">
        <h1>{i.title}</h1>
        <div class="incident-actions">
          <span class={`sev ${i.severity}`}>{severityText(i.severity)}</span>
          <span data-testid="incident-status">
            <StatusBadge tone={incidentTone(i.status)} text={incidentStatusText(i.status)} />
          </span>
          {canAct && open && !confirmCancel && (
            <button type="button" class="danger" ref={cancelButton} onClick={() => setConfirmCancel(true)}>
              Cancel incident
            </button>
          )}
          {canAct && open && confirmCancel && (
            <span class="incident-actions" role="group" aria-label="Confirm cancellation">
              <span class="hint">Stop the remaining steps?</span>
              <button type="button" class="danger" disabled={pending !== null} onClick={() => void act('cancel')}>
                Yes, cancel it
              </button>
              <button type="button" ref={keepRunning} onClick={() => setConfirmCancel(false)}>
                Keep running
              </button>
            </span>
          )}
        </div>
      </div>
      <p class="visually-hidden" role="status">
        {said}
      </p>
      {notice && (
        <p class="notice error" role="alert" data-testid="incident-notice">
          {notice}
        </p>
      )}
      <p class="hint" data-testid="incident-summary">
        {summarize(i, timeline)}
      </p>

      {canAct && i.approval?.pending && (
        <section class="card approval" aria-labelledby="approval-title" data-testid="approval">
          <h2 id="approval-title">Approval needed</h2>
          <p>
            Remediation is waiting for an editor's decision
            {i.approval.deadline && (
              <>
                {' '}
                until <When iso={i.approval.deadline} />; without one it times out and nothing is changed
              </>
            )}
            .
          </p>
          <div class="incident-actions">
            <button type="button" class="approve" disabled={pending !== null} onClick={() => void act('approve')}>
              Approve remediation
            </button>
            <button type="button" class="danger" disabled={pending !== null} onClick={() => void act('reject')}>
              Reject
            </button>
          </div>
        </section>
      )}
      {!canAct && i.approval?.pending && <p class="notice">Remediation is waiting for an editor's approval.</p>}

      <dl class="facts card">
        <div>
          <dt>Scenario</dt>
          <dd>{scenarioLabel ?? i.scenario ?? 'Described by hand'}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <When iso={i.created_at} date />
          </dd>
        </div>
        <div>
          <dt>Resolution time</dt>
          <dd>{formatSeconds(i.resolution_time) ?? (open ? 'Running' : '—')}</dd>
        </div>
        <div>
          <dt>Services</dt>
          <dd>{i.affected_services?.join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Regions</dt>
          <dd>{i.affected_regions?.join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Products</dt>
          <dd>{i.affected_products?.join(', ') || '—'}</dd>
        </div>
      </dl>

      <div class="incident-cols">
        <div>
          <section class="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            {timeline.length === 0 ? (
              <p class="empty">No step has started yet.</p>
            ) : (
              <ol class="timeline" data-testid="timeline">
                {timeline.map((a) => (
                  <TimelineEntry key={a.action_id} a={a} steps={stepsOf(timeline)} />
                ))}
              </ol>
            )}
          </section>
        </div>
        <div>
          <LinkedKpis i={i} />
          <LinkedSignals i={i} />
          <Cost i={i} />
          <Notification i={i} />
        </div>
      </div>
    </div>
  );
}

function TimelineEntry({ a, steps }: { a: Action & { ended_at?: string | null }; steps: number }) {
  const tone = statusTone(a.status);
  const compensationFailed = a.kind === 'rollback' && a.status === 'failed';
  const facts = Object.entries(a.details ?? {});
  return (
    <li class={`${tone}${a.kind === 'rollback' ? ' rollback' : ''}`} data-action={a.action_id} data-agent={a.agent_type} data-kind={a.kind} data-status={a.status}>
      <div class="entry-head">
        <AgentName agent={a.agent_type} />
        {a.kind !== 'phase' && (
          <span class={`entry-kind${compensationFailed || a.status === 'rollback_failed' ? ' compensation-failed' : ''}`}>
            {a.kind === 'rollback' ? (compensationFailed ? 'Compensation failed' : 'Rollback') : a.kind === 'remediation' ? `Step ${a.step ?? '?'} of ${steps}` : a.kind}
          </span>
        )}
        <StatusBadge tone={tone} text={statusText(a)} />
      </div>
      <p class="entry-what">
        {a.kind === 'rollback' && a.step !== null ? `Rollback of step ${a.step}: ` : ''}
        {a.description}
        {finding(a) && ` → ${finding(a)}`}
      </p>
      <p class="entry-meta">
        {a.started_at && <When iso={a.started_at} />}
        {formatMs(a.duration_ms) && ` · took ${formatMs(a.duration_ms)}`}
        {typeof a.attempt === 'number' && a.attempt > 1 && ` · attempt ${a.attempt}`}
        {formatConfidence(a.confidence, a.agent_type) && ` · ${formatConfidence(a.confidence, a.agent_type)}`}
      </p>
      {facts.length > 0 && (
        <details class="entry-details">
          <summary>Details</summary>
          <dl class="facts">
            {facts.map(([k, v]) => (
              <div key={k}>
                <dt>{detailLabel(k)}</dt>
                <dd>{detailText(v)}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </li>
  );
}

function LinkedKpis({ i }: { i: IncidentDetail }) {
  const kpis = i.linked.kpis;
  const value = (v: number | null, unit: string) => (v === null ? '—' : formatUnit(v, unit));
  return (
    <section class="card" aria-labelledby="kpis-title" data-testid="linked-kpis">
      <h2 id="kpis-title">Indicators that moved</h2>
      {kpis.length === 0 ? (
        <p class="empty">No catalog indicator moved in this incident's window.</p>
      ) : (
        <div class="table-scroll">
          <table class="records">
            <thead>
              <tr>
                <th scope="col">Indicator</th>
                <th scope="col" class="num">Before</th>
                <th scope="col" class="num">Worst</th>
                <th scope="col" class="num">After</th>
              </tr>
            </thead>
            <tbody>
              {kpis.map((k) => (
                <tr key={k.metric} data-metric={k.metric}>
                  <td>
                    <a href={k.href}>{k.label}</a>
                  </td>
                  <td class="num">{value(k.before, k.unit)}</td>
                  <td class={`num${k.worst !== null && k.worst !== k.before ? ' worse' : ''}`}>{value(k.worst, k.unit)}</td>
                  <td class="num">{k.after === null ? (isOpen(i.status) ? 'pending' : '—') : value(k.after, k.unit)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function LinkedSignals({ i }: { i: IncidentDetail }) {
  const signals = i.linked.signals;
  return (
    <section class="card" aria-labelledby="signals-title" data-testid="linked-signals">
      <h2 id="signals-title">Quality signals in the window</h2>
      {signals.length === 0 ? (
        <p class="empty">No quality signal opened for these regions and products.</p>
      ) : (
        <ul class="linked-signals">
          {signals.map((s) => (
            <li key={s.id}>
              <span class={`sev ${s.severity}`}>{severityText(s.severity)}</span>
              <a href={s.href}>{[s.metric_name, s.entity_label].filter(Boolean).join(' · ')}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Cost({ i }: { i: IncidentDetail }) {
  const c = i.cost;
  return (
    <section class="card" aria-labelledby="cost-title" data-testid="cost">
      <h2 id="cost-title">Cost avoided</h2>
      <p class="formula">{c.formula}</p>
      <dl class="facts">
        <div>
          <dt>Cost per minute</dt>
          <dd>{formatSavings(c.inputs.cost_per_minute)}</dd>
        </div>
        <div>
          <dt>Manual MTTR</dt>
          <dd>{c.inputs.manual_mttr_minutes} min</dd>
        </div>
        <div>
          <dt>This resolution</dt>
          <dd>{c.inputs.resolution_minutes === null ? '—' : `${c.inputs.resolution_minutes.toFixed(2)} min`}</dd>
        </div>
      </dl>
      {formatSavings(c.savings) ? (
        <p class="savings" data-testid="savings">
          {formatSavings(c.savings)}
        </p>
      ) : (
        <p class="hint" data-testid="savings">
          {isOpen(i.status) ? 'Counted when the incident is resolved.' : 'None: the incident was not resolved.'}
        </p>
      )}
    </section>
  );
}

const NOTIFICATION_TEXT = {
  not_configured: 'No webhook is configured, so nobody was notified (INCIDENT_WEBHOOK_URL is not set).',
  pending: 'The notification goes out when communication runs.',
  delivered: 'Delivered to the incident webhook',
  failed: 'The webhook did not accept the notification.',
} as const;

function Notification({ i }: { i: IncidentDetail }) {
  const n = i.notification;
  const tone = n.status === 'delivered' ? 'done' : n.status === 'failed' ? 'failed' : n.status === 'pending' ? 'waiting' : 'idle';
  return (
    <section class="card" aria-labelledby="notification-title" data-testid="notification" data-state={n.status}>
      <h2 id="notification-title">Notification</h2>
      <p>
        <StatusBadge tone={tone} text={n.status === 'not_configured' ? 'Not configured' : n.status.charAt(0).toUpperCase() + n.status.slice(1)} />
      </p>
      <p class="hint">
        {NOTIFICATION_TEXT[n.status]}
        {n.status === 'delivered' && n.delivered_at && (
          <>
            {' '}
            at <When iso={n.delivered_at} />
          </>
        )}
        {n.status === 'delivered' && '.'}
      </p>
    </section>
  );
}

/** A time in the reader's zone, the exact UTC instant on hover. */
function When({ iso, date = false }: { iso: string; date?: boolean }) {
  const d = parseInstant(iso);
  if (!d) return <>{iso}</>;
  return (
    <time dateTime={d.toISOString()} title={utcExact(d)}>
      {date ? localTime(d) : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}
    </time>
  );
}

const stepsOf = (timeline: Action[]) => Math.max(5, ...timeline.map((a) => (a.kind === 'remediation' ? (a.step ?? 0) : 0)));

/** The incident's story in a sentence: where it stands, and for a failure, what was undone and what was not. */
function summarize(i: IncidentDetail, timeline: Action[]): string {
  const forward = timeline.find((a) => a.kind === 'remediation' && a.status === 'failed');
  const undone = timeline.filter((a) => a.kind === 'remediation' && a.status === 'rolled_back').map((a) => a.step);
  const stuck = timeline.filter((a) => a.kind === 'remediation' && a.status === 'rollback_failed').map((a) => a.step);
  const parts: string[] = [];
  if (i.status === 'resolved') parts.push(`Resolved in ${formatSeconds(i.resolution_time) ?? '—'}${formatSavings(i.cost_savings) ? `, ${formatSavings(i.cost_savings)} avoided` : ''}.`);
  else if (isOpen(i.status)) {
    const current = timeline.findLast((a) => statusTone(a.status) === 'running' || a.status === 'waiting_approval');
    parts.push(current ? `Now: ${actionLine(current)}.` : 'Starting.');
  } else parts.push(`${incidentStatusText(i.status)}.`);
  if (forward) parts.push(`Step ${forward.step} failed after ${forward.attempt ?? 1} attempt${(forward.attempt ?? 1) === 1 ? '' : 's'}.`);
  if (undone.length) parts.push(`Rolled back: step${undone.length > 1 ? 's' : ''} ${undone.join(', ')}.`);
  if (stuck.length) parts.push(`Could not roll back step${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')}: that change is still in place and needs manual attention.`);
  return parts.join(' ');
}
