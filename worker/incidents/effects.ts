import type { Bindings } from '../config/env.ts';
import { BUNDLED_ROUTING_YAML } from '../config/bundled.ts';
import { KPI_STRIP } from '../dashboard/kpi-strip.ts';
import { heldPostgres, kpiUpdatesAfterIngest, storeAndPublish } from '../dashboard/events/publish.ts';
import type { IngestEvent } from '../dashboard/events/schema.ts';
import type { Logger } from '../lib/log.ts';
import { listMetrics } from '../metrics/catalog/store.ts';
import type { Metric } from '../metrics/catalog/store.ts';
import { resolveWindow } from '../metrics/compose/window.ts';
import { parseRouting } from '../metrics/routing/load.ts';
import type { Postgres } from '../services/postgres.ts';
import { runStatement } from '../services/statements.ts';
import { Coalescer } from '../lib/coalesce.ts';
import type { Scenario } from './scenarios.ts';

const CHANNELS = ['app', 'web', 'chat', 'call'] as const;
/** What an escalated session costs the NPS strip; recovery gives it back through the sessions it resolves. */
const ESCALATION_NPS = -3;

interface Target {
  incident_id: string;
  regions: readonly string[];
  products: readonly string[];
  services: readonly string[];
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
const idOf = (t: Target, kind: string, i: number) => `inc-${t.incident_id}-${kind}${i}`;

/**
 * The scenario's effects as operational events: its alerts opened, sessions started in the
 * affected regions (some escalated at once, the rest left open) and claims filed on the affected
 * products. Ids and times derive from the incident and `at`, so a replayed step sends the same
 * events and ingest applies each once.
 */
export function injectionEvents(s: Scenario, t: Target, at: Date): IngestEvent[] {
  const when = (ms: number) => new Date(at.getTime() + ms).toISOString();
  const out: IngestEvent[] = [];
  s.effects.alerts.forEach((a, i) =>
    out.push({
      event_id: `${idOf(t, 'alert-open-', i)}`,
      type: 'alert.opened',
      occurred_at: when(i),
      data: { alert_id: idOf(t, 'a', i), severity: a.severity, title: a.title, ...(a.metric ? { metric: a.metric } : {}) },
    }),
  );
  const sessions = s.effects.sessions_opened + s.effects.sessions_escalated;
  for (let i = 0; i < sessions; i++) {
    out.push({
      event_id: idOf(t, 'session-start-', i),
      type: 'session.started',
      occurred_at: when(10 + i),
      data: {
        session_id: idOf(t, 's', i),
        customer_id: `inc-customer-${i}`,
        issue_type: s.effects.issue_type as never,
        channel: pick(CHANNELS, i),
        region: pick(t.regions, i) as never,
      },
    });
  }
  for (let i = 0; i < s.effects.sessions_escalated; i++) {
    out.push({
      event_id: idOf(t, 'session-escalate-', i),
      type: 'session.resolved',
      occurred_at: when(400 + i),
      data: { session_id: idOf(t, 's', s.effects.sessions_opened + i), outcome: 'escalated', nps_impact: ESCALATION_NPS },
    });
  }
  for (let i = 0; i < s.effects.claims_filed; i++) {
    out.push({
      event_id: idOf(t, 'claim-', i),
      type: 'claim.filed',
      occurred_at: when(600 + i),
      data: {
        claim_id: idOf(t, 'k', i),
        customer_id: `inc-customer-${i}`,
        product: pick(t.products, i) as never,
        claim_type: 'malfunction',
        region: pick(t.regions, i) as never,
        claim_cost: 250,
        cost_avoided: 0,
      },
    });
  }
  return out;
}

/**
 * Resolution's recovery: the alerts resolved, and the sessions left open resolved well enough to
 * give the NPS strip back what the escalations took.
 */
export function recoveryEvents(s: Scenario, t: Target, at: Date): IngestEvent[] {
  const when = (ms: number) => new Date(at.getTime() + ms).toISOString();
  const out: IngestEvent[] = s.effects.alerts.map((_, i) => ({
    event_id: idOf(t, 'alert-resolve-', i),
    type: 'alert.resolved' as const,
    occurred_at: when(i),
    data: { alert_id: idOf(t, 'a', i) },
  }));
  const open = s.effects.sessions_opened;
  const giveBack = open > 0 ? Math.min(10, Math.round(((-ESCALATION_NPS * s.effects.sessions_escalated) / open) * 100) / 100) : 0;
  for (let i = 0; i < open; i++) {
    out.push({
      event_id: idOf(t, 'session-recover-', i),
      type: 'session.resolved',
      occurred_at: when(10 + i),
      data: { session_id: idOf(t, 's', i), outcome: 'resolved', nps_impact: giveBack },
    });
  }
  return out;
}

export interface Ingested {
  applied: number;
  published: number;
}

/**
 * Sends events through the ingest path every client uses: stored once per event_id, applied to
 * the operational tables, published to the dashboard with the KPI updates they cause. Like
 * `POST /v1/events`, the outbox claim rides in the insert's round trip (a replayed step, whose
 * events are stored already, drains instead) and the published seqs are recorded while the KPI
 * updates are computed.
 */
export async function ingest(
  env: Bindings,
  db: Postgres,
  events: IngestEvent[],
  receivedBy: string,
  dashboard: string,
  log: Logger,
  catalog?: readonly Metric[],
): Promise<Ingested> {
  const recorded: Array<Promise<unknown>> = [];
  const defer = async (work: Promise<unknown>) => void recorded.push(work);
  const [published, metrics] = await Promise.all([storeAndPublish(env, db, events, receivedBy, dashboard, log, defer), catalog ?? listMetrics(db)]);
  // The step waits for the KPI updates too: the strip moving is part of what the step did.
  // Incidents ingesting together share one recomputation of the strip, with every other ingest
  // of the dashboard in this isolate (publish.ts).
  const routing = parseRouting(BUNDLED_ROUTING_YAML);
  if (!routing.ok) throw new Error(`metric routing is invalid: ${routing.problems.join('; ')}`);
  await Promise.all([kpiUpdatesAfterIngest(dashboard, { env, events: published.events, catalog: metrics, routing: routing.routing, log, open: heldPostgres(db) }), ...recorded]);
  return { applied: events.length - published.known.size, published: published.published.length };
}

/** The strip's Postgres-routed KPIs an incident's events move: what its page links to. */
export const LINKED_KPIS = ['nps_impact', 'issue_sessions_active', 'open_alerts'] as const;

/**
 * The linked KPIs as the strip computes them now: each catalog metric's own Postgres query over
 * the strip's window for it, so the numbers on an incident's page are the tiles' numbers.
 */
export async function sampleKpis(db: Postgres, catalog?: readonly Metric[]): Promise<Record<string, number | null>> {
  return { ...(await samples.join({ db, catalog: catalog ?? (await listMetrics(db)) })) };
}

/** Samples are the same numbers whoever asks: incidents asking together share one (coalesce.ts). */
const samples = new Coalescer<{ db: Postgres; catalog: readonly Metric[] }, Record<string, number | null>>((requests) =>
  sampleNow(requests[0]!.db, requests[0]!.catalog),
);

async function sampleNow(db: Postgres, metrics: readonly Metric[]): Promise<Record<string, number | null>> {
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const now = new Date();
  const out: Record<string, number | null> = {};
  await Promise.all(
    LINKED_KPIS.map(async (name) => {
      const metric = byName.get(name);
      const strip = KPI_STRIP.find((k) => k.metric === name);
      if (!metric?.queries.postgres || !strip) return;
      const window = resolveWindow(strip.window, now, 1_000);
      const answer = await runStatement(
        { postgres: db },
        {
          source: 'postgres',
          sql: metric.queries.postgres,
          params: { start: { value: window.start, type: 'TIMESTAMP' }, end: { value: window.end, type: 'TIMESTAMP' } },
          timeoutMs: 5_000,
        },
      );
      const value = answer.rows[0]?.value;
      out[name] = value === null || value === undefined ? null : Number(value);
    }),
  );
  return out;
}
