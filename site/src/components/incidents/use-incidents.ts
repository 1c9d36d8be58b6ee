import { useEffect, useRef, useState } from 'preact/hooks';
import type { Action, IncidentSummary, PerformanceMetrics } from '../../lib/incident-data.ts';
import {
  AgentActionSchema,
  IncidentStatusSchema,
  PerformanceMetricsSchema,
  actionFromFrame,
  loadIncident,
  loadIncidentMetrics,
  loadOpenIncidents,
} from '../../lib/incident-data.ts';
import { inOrder, isOpen, laterOf } from '../../lib/incident-text.ts';
import { store } from '../../lib/store.ts';

export interface Tracked {
  summary: IncidentSummary;
  /** Every action seen for it, by action_id, from its timeline and the stream. */
  actions: Record<string, Action>;
  /** Its timeline has been read, or this page saw it start: no action yet then means none happened. */
  read: boolean;
}

export interface FeedEntry {
  key: string;
  incidentId: string;
  action: Action;
}

/** How many actions the activity feed keeps on screen, newest first. */
const FEED_LENGTH = 20;
/** Finished incidents stay on the dashboard, with their outcome, until this many newer ones push them off. */
const KEEP_FINISHED = 3;

/**
 * The dashboard's incidents: the ones running, and those that finished while the page was open,
 * kept current from the hub's `agent_action` / `incident_status` / `performance_metrics`. An
 * action is keyed by its id, so a step reported again (a replay after a reconnect, or the
 * timeline fetched after its frame) updates its line rather than adding one, and a status never
 * goes back in a step's life.
 */
export function useIncidents(initial: { incidents: IncidentSummary[] | null; metrics: PerformanceMetrics | null }) {
  const [tracked, setTracked] = useState<Record<string, Tracked>>(() =>
    Object.fromEntries((initial.incidents ?? []).filter((i) => isOpen(i.status)).map((i) => [i.incident_id, { summary: i, actions: {}, read: false }])),
  );
  const [feed, setFeed] = useState<FeedEntry[]>([]);
  const [metrics, setMetrics] = useState<PerformanceMetrics | null>(initial.metrics);
  /** Incidents whose detail has been asked for once: a burst of frames asks only once. */
  const asked = useRef(new Set<string>());

  const apply = (incidentId: string, actions: Action[], summary?: IncidentSummary, read = false) => {
    setTracked((t) => {
      const before = t[incidentId];
      const merged = { ...(before?.actions ?? {}) };
      for (const a of actions) merged[a.action_id] = laterOf(merged[a.action_id], a);
      return prune({ ...t, [incidentId]: { summary: mergeSummary(before?.summary, summary, incidentId), actions: merged, read: read || (before?.read ?? false) } });
    });
    setFeed((f) => {
      let next = f;
      for (const a of actions) {
        const key = `${incidentId}:${a.action_id}`;
        const at = next.findIndex((e) => e.key === key);
        if (at >= 0) next = next.map((e, i) => (i === at ? { ...e, action: laterOf(e.action, a) } : e));
        else next = [{ key, incidentId, action: a }, ...next];
      }
      // Newest first by when each step started: a timeline read after a later frame slots in below it.
      return inOrder(next.map((e) => ({ ...e.action, entry: e })))
        .reverse()
        .map((a) => a.entry)
        .slice(0, FEED_LENGTH);
    });
  };

  const fetchDetail = async (id: string) => {
    const loaded = await loadIncident(id);
    if (!loaded.ok) return;
    const { timeline, ...summary } = loaded.value;
    apply(id, inOrder(timeline), summary as IncidentSummary, true);
  };
  const learn = (id: string) => {
    if (asked.current.has(id)) return;
    asked.current.add(id);
    void fetchDetail(id);
  };

  const current = useRef(tracked);
  current.current = tracked;
  /** Everything running, and every incident on screen that was running when the page lost track (it may have ended since). */
  const reloadAll = async () => {
    const [open, m] = await Promise.all([loadOpenIncidents(), loadIncidentMetrics()]);
    if (m.ok) setMetrics(m.value);
    const ids = new Set(Object.values(current.current).filter((t) => isOpen(t.summary.status)).map((t) => t.summary.incident_id));
    if (open.ok) for (const i of open.value) ids.add(i.incident_id);
    for (const id of ids) void fetchDetail(id);
  };

  useEffect(() => {
    if (initial.incidents) for (const i of initial.incidents) if (isOpen(i.status)) learn(i.incident_id);
    if (!initial.incidents || !initial.metrics) void reloadAll();
    const hub = store();
    const offs = [
      hub.subscribe('agent_action', ({ data }) => {
        const parsed = AgentActionSchema.safeParse(data);
        if (!parsed.success) return;
        learn(parsed.data.incident_id);
        apply(parsed.data.incident_id, [actionFromFrame(parsed.data.action)]);
      }),
      hub.subscribe('incident_status', ({ data }) => {
        const parsed = IncidentStatusSchema.safeParse(data);
        if (!parsed.success) return;
        const u = parsed.data;
        learn(u.incident_id);
        setTracked((t) => {
          const before = t[u.incident_id];
          const summary: IncidentSummary = {
            ...(before?.summary ?? { incident_id: u.incident_id, scenario: u.scenario ?? null, title: u.title ?? 'Incident', severity: u.severity ?? 'unknown', created_at: new Date().toISOString() }),
            status: u.status,
            resolution_time: u.resolution_time ?? null,
            cost_savings: u.cost_savings ?? null,
          };
          return prune({ ...t, [u.incident_id]: { summary, actions: before?.actions ?? {}, read: before?.read ?? false } });
        });
      }),
      hub.subscribe('performance_metrics', ({ data }) => {
        const parsed = PerformanceMetricsSchema.safeParse(data);
        if (parsed.success) setMetrics(parsed.data.metrics);
      }),
      // The hub's log no longer covers what this page missed: read the running incidents again.
      hub.subscribe('snapshot', () => {
        asked.current.clear();
        void reloadAll();
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  return {
    tracked,
    feed,
    metrics,
    /** An incident this page started: on screen at once, before its first frame. */
    started(summary: IncidentSummary) {
      asked.current.add(summary.incident_id);
      apply(summary.incident_id, [], summary, true);
    },
  };
}

/**
 * What is known of an incident: a fetched summary fills in the title and scenario, but a read
 * that started before the incident finished does not bring back `active`.
 */
function mergeSummary(before: IncidentSummary | undefined, next: IncidentSummary | undefined, id: string): IncidentSummary {
  const base = before ?? { incident_id: id, scenario: null, title: 'Incident', severity: 'unknown', status: 'active', created_at: new Date().toISOString() };
  if (!next) return base;
  const finished = before && !isOpen(before.status) && isOpen(next.status);
  return { ...base, ...next, ...(finished ? { status: before.status, resolution_time: before.resolution_time, cost_savings: before.cost_savings } : {}) };
}

/** Running incidents first, then the newest finished ones, up to KEEP_FINISHED of those. */
function prune(t: Record<string, Tracked>): Record<string, Tracked> {
  const finished = Object.values(t)
    .filter((x) => !isOpen(x.summary.status))
    .sort((a, b) => b.summary.created_at.localeCompare(a.summary.created_at));
  if (finished.length <= KEEP_FINISHED) return t;
  const drop = new Set(finished.slice(KEEP_FINISHED).map((x) => x.summary.incident_id));
  return Object.fromEntries(Object.entries(t).filter(([id]) => !drop.has(id)));
}
