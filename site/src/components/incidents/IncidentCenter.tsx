import { useEffect, useRef, useState } from 'preact/hooks';
import type { IncidentSummary, PerformanceMetrics, Scenario } from '../../lib/incident-data.ts';
import { AGENTS, loadScenarios, startIncident } from '../../lib/incident-data.ts';
import { formatPercent } from '../../lib/format.ts';
import {
  AGENT_LABEL,
  actionLine,
  agentStates,
  formatConfidence,
  formatSavings,
  formatSeconds,
  incidentStatusText,
  incidentTone,
  isOpen,
  severityText,
  statusText,
  statusTone,
} from '../../lib/incident-text.ts';
import type { AgentState } from '../../lib/incident-text.ts';
import { AgentIcon, StatusBadge } from './icons.tsx';
import { useCountUp } from './use-count-up.ts';
import { useIncidents } from './use-incidents.ts';
import type { FeedEntry, Tracked } from './use-incidents.ts';
import './incidents.css';

interface Props {
  canStart: boolean;
  scenarios: Scenario[] | null;
  incidents: IncidentSummary[] | null;
  metrics: PerformanceMetrics | null;
}

/**
 * Incident response on the dashboard: the scenario buttons (editors and admins), the incidents
 * running with their five agents, the activity feed in words, the savings meter and the health
 * of the scenarios' services, all kept current by the hub's stream.
 */
export default function IncidentCenter({ canStart, scenarios: initialScenarios, incidents, metrics: initialMetrics }: Props) {
  const { tracked, feed, metrics, started } = useIncidents({ incidents, metrics: initialMetrics });
  const [scenarios, setScenarios] = useState(initialScenarios);
  useEffect(() => {
    if (!initialScenarios) void loadScenarios().then((l) => l.ok && setScenarios(l.value));
  }, []);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  const list = Object.values(tracked).sort(
    (a, b) => Number(isOpen(b.summary.status)) - Number(isOpen(a.summary.status)) || b.summary.created_at.localeCompare(a.summary.created_at),
  );
  const byId = new Map((scenarios ?? []).map((s) => [s.id, s]));

  // An incident's outcome (or its wait for a decision) is said once, politely, when it changes.
  const statuses = useRef(new Map(list.map((t) => [t.summary.incident_id, t.summary.status])));
  useEffect(() => {
    for (const { summary: i } of list) {
      const before = statuses.current.get(i.incident_id);
      statuses.current.set(i.incident_id, i.status);
      if (before === undefined || before === i.status) continue;
      const when = i.status === 'resolved' && formatSeconds(i.resolution_time) ? ` in ${formatSeconds(i.resolution_time)}` : '';
      setAnnounce(`${i.title}: ${incidentStatusText(i.status).toLowerCase()}${when}.`);
    }
  }, [tracked]);

  async function start(s: Scenario) {
    setBusy(s.id);
    setNotice(null);
    const res = await startIncident(s.id);
    setBusy(null);
    if (res.ok) {
      started(res.value);
      setAnnounce(`${s.label} started.`);
    } else setNotice(res.code === 'incident_limit' ? `Not started: ${res.problem}` : `${s.label} could not start: ${res.problem}`);
  }

  return (
    <section class="incident-center" aria-labelledby="incidents-title" data-testid="incident-center">
      <div class="section-head">
        <h2 id="incidents-title">Incident response</h2>
        <a class="button" href="/incidents">All incidents</a>
      </div>
      {canStart && scenarios && scenarios.length > 0 && (
        <div class="scenarios" role="group" aria-labelledby="scenarios-label">
          <span id="scenarios-label" class="scenarios-label">Start a scenario</span>
          {scenarios.map((s) => (
            <button
              type="button"
              key={s.id}
              class="scenario"
              data-scenario={s.id}
              aria-describedby={`scenario-${s.id}`}
              disabled={busy === s.id}
              onClick={() => void start(s)}
            >
              <span class={`sev ${s.severity}`}>{severityText(s.severity)}</span> {s.label}
              <span id={`scenario-${s.id}`} class="visually-hidden">
                {s.description} Affects {s.affected_services.join(', ')}.{s.approval.required ? ' Remediation waits for approval.' : ''}
              </span>
            </button>
          ))}
        </div>
      )}
      {notice && (
        <p class="notice error" role="alert" data-testid="incident-notice">
          {notice}
        </p>
      )}
      <p class="visually-hidden" role="status">
        {announce}
      </p>
      <div class="incident-layout">
        <div class="incident-main">
          <ActiveIncidents list={list} scenarios={byId} />
          <ActivityFeed feed={feed} tracked={tracked} />
        </div>
        <div class="incident-side">
          <ImpactMeter metrics={metrics} list={list} />
          <SystemHealth scenarios={scenarios ?? []} list={list} metrics={metrics} />
        </div>
      </div>
    </section>
  );
}

function ActiveIncidents({ list, scenarios }: { list: Tracked[]; scenarios: Map<string, Scenario> }) {
  return (
    <section class="card incidents-active" aria-labelledby="active-title">
      <h3 id="active-title">Incidents</h3>
      {list.length === 0 ? (
        <p class="empty">No incident is running. Every agent is standing by.</p>
      ) : (
        <ul class="incident-cards">
          {list.map(({ summary: i, actions, read }) => {
            const scenario = i.scenario ? scenarios.get(i.scenario) : undefined;
            const outcome = [formatSeconds(i.resolution_time) && `in ${formatSeconds(i.resolution_time)}`, formatSavings(i.cost_savings) && `${formatSavings(i.cost_savings)} saved`]
              .filter(Boolean)
              .join(' · ');
            return (
              <li key={i.incident_id} class="incident-card" data-incident={i.incident_id} data-status={i.status}>
                <div class="incident-head">
                  <a href={`/incidents/${i.incident_id}`} class="incident-title">
                    {i.title}
                  </a>
                  {i.severity !== 'unknown' && <span class={`sev ${i.severity}`}>{severityText(i.severity)}</span>}
                  <StatusBadge tone={incidentTone(i.status)} text={incidentStatusText(i.status)} />
                </div>
                {(scenario || outcome) && (
                  <p class="incident-sub">
                    {scenario && `${scenario.label} · ${scenario.affected_services.join(', ')}`}
                    {scenario && outcome && ' · '}
                    {outcome && <span data-testid="incident-outcome">{outcome}</span>}
                  </p>
                )}
                <ol class="agents" aria-label={`Agents working on ${i.title}`}>
                  {(read || Object.keys(actions).length > 0 ? agentStates(Object.values(actions)) : unread).map((a) => (
                    <li key={a.agent} class={`agent ${a.tone}`} data-agent={a.agent} data-tone={a.tone}>
                      <AgentIcon agent={a.agent} />
                      <span class="agent-label">{AGENT_LABEL[a.agent]}</span>
                      <StatusBadge tone={a.tone} text={a.text} />
                      <span class="confidence">{formatConfidence(a.confidence, a.agent) ?? ''}</span>
                    </li>
                  ))}
                </ol>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/**
 * Every step in words, newest first. The list is a log: a new step is announced politely, and a
 * step that changes state updates its own line quietly, so a screen reader hears each phase once
 * rather than every tick; outcomes are said by the incident's own status.
 */
function ActivityFeed({ feed, tracked }: { feed: FeedEntry[]; tracked: Record<string, Tracked> }) {
  const many = Object.keys(tracked).length > 1;
  return (
    <section class="card incident-feed" aria-labelledby="activity-title">
      <h3 id="activity-title">Live activity</h3>
      <div role="log" aria-live="polite" aria-relevant="additions" aria-labelledby="activity-title">
      <ol class="activity" data-testid="incident-feed">
        {feed.length === 0 ? (
          <li class="empty">Agent activity appears here as it happens.</li>
        ) : (
          feed.map(({ key, incidentId, action: a }) => (
            <li
              key={key}
              data-action={a.action_id}
              data-agent={a.agent_type}
              data-kind={a.kind}
              data-step={a.step ?? undefined}
              data-status={a.status}
              data-incident={incidentId}
              class={statusTone(a.status)}
            >
              <AgentIcon agent={a.agent_type} />
              <span class="line">
                {a.started_at && <time dateTime={a.started_at}>{clock(a.started_at)}</time>}
                {actionLine(a)}
                {many && tracked[incidentId] && <span class="muted"> · {tracked[incidentId].summary.title}</span>}
              </span>
              <StatusBadge tone={statusTone(a.status)} text={[statusText(a), formatConfidence(a.confidence, a.agent_type)].filter(Boolean).join(' · ')} />
            </li>
          ))
        )}
      </ol>
      </div>
    </section>
  );
}

/** The savings from resolved incidents, counting up to each new total as it arrives. */
function ImpactMeter({ metrics, list }: { metrics: PerformanceMetrics | null; list: Tracked[] }) {
  const total = metrics?.total_cost_savings ?? 0;
  const shown = useCountUp(total);
  const last = list.find((t) => t.summary.status === 'resolved' && typeof t.summary.cost_savings === 'number');
  return (
    <section class="card impact" aria-labelledby="impact-title">
      <h3 id="impact-title">Business impact</h3>
      {metrics ? (
        <>
          <p class="impact-value" data-testid="impact-value" data-value={total}>
            <span aria-hidden="true">{formatSavings(shown)}</span>
            <span class="visually-hidden">{formatSavings(total)}</span>
          </p>
          <p class="impact-note">
            Cost avoided by resolved incidents
            {last && (
              <>
                {' '}
                · <span class="gain">+{formatSavings(last.summary.cost_savings)}</span> from {last.summary.title}
              </>
            )}
          </p>
        </>
      ) : (
        <p class="empty">Figures are not available right now.</p>
      )}
    </section>
  );
}

/** Before an incident's timeline has been read, the agents' states are not known yet: say so rather than "standing by". */
const unread: AgentState[] = AGENTS.map((agent) => ({ agent, tone: 'idle', text: 'Reading the timeline…', confidence: null }));

type ServiceState = 'operational' | 'degraded' | 'recovering' | 'attention';
const SERVICE_TEXT: Record<ServiceState, string> = { operational: 'Operational', degraded: 'Degraded', recovering: 'Recovering', attention: 'Needs attention' };
const SERVICE_TONE = { operational: 'done', degraded: 'warn', recovering: 'running', attention: 'failed' } as const;

/** The services the scenarios touch, each as bad as the worst incident on it, and the response's running figures. */
function SystemHealth({ scenarios, list, metrics }: { scenarios: Scenario[]; list: Tracked[]; metrics: PerformanceMetrics | null }) {
  const services = new Map<string, ServiceState>();
  for (const s of scenarios) for (const name of s.affected_services) services.set(name, 'operational');
  const rank: Record<ServiceState, number> = { operational: 0, recovering: 1, degraded: 2, attention: 3 };
  for (const t of list) {
    const affected = t.summary.affected_services ?? scenarios.find((s) => s.id === t.summary.scenario)?.affected_services ?? [];
    const state = serviceState(t);
    for (const name of affected) {
      const before = services.get(name) ?? 'operational';
      services.set(name, rank[state] > rank[before] ? state : before);
    }
  }
  return (
    <section class="card system-health" aria-labelledby="system-health-title">
      <h3 id="system-health-title">System health</h3>
      <ul class="services" data-testid="service-health">
        {[...services].map(([name, state]) => (
          <li key={name} data-service={name} data-state={state}>
            <span class="service-name">{name}</span>
            <StatusBadge tone={SERVICE_TONE[state]} text={SERVICE_TEXT[state]} />
          </li>
        ))}
      </ul>
      {metrics && (
        <dl class="facts perf" data-testid="performance-metrics">
          <div>
            <dt>Resolved</dt>
            <dd>{metrics.incidents_resolved}</dd>
          </div>
          <div>
            <dt>Avg. MTTR</dt>
            <dd>{formatSeconds(metrics.avg_mttr) ?? '—'}</dd>
          </div>
          <div>
            <dt>Success rate</dt>
            <dd>{typeof metrics.success_rate === 'number' ? formatPercent(metrics.success_rate * 100) : '—'}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}

/** Degraded until resolution starts, recovering while it runs, operational once resolved; a failed incident leaves its services needing attention. */
function serviceState(t: Tracked): ServiceState {
  const s = t.summary.status;
  if (s === 'resolved') return 'operational';
  if (!isOpen(s)) return 'attention';
  const resolving = Object.values(t.actions).some((a) => a.agent_type === 'resolution' || a.agent_type === 'communication');
  return resolving ? 'recovering' : 'degraded';
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
