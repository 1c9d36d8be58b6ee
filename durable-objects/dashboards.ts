import type { DashboardHub } from './dashboard-hub.ts';
import type { DashboardHubEdge } from './dashboard-hub-edge.ts';

/** How a dashboard may be named: also the Durable Object name of its hub. */
export const DASHBOARD_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The dashboards this deployment serves come from configuration (DASHBOARDS, comma-separated,
 * `default` when unset), never from the request: every name is a Durable Object with storage, so
 * a client that could pick names could create objects without bound. Routes that reach a hub
 * refuse any other name before touching one.
 */
export function isKnownDashboard(known: readonly string[], name: string): boolean {
  return known.includes(name);
}

/** The dashboard's root hub: the only writer (seq, replay log), and where sockets are placed. */
export function hubFor(namespace: DurableObjectNamespace<DashboardHub>, dashboard: string): DurableObjectStub<DashboardHub> {
  return namespace.get(namespace.idFromName(dashboard));
}

/** Edge k of a dashboard's hub: `#` cannot occur in a dashboard name, so edges never meet roots. */
export function edgeName(dashboard: string, index: number): string {
  return `${dashboard}#${index}`;
}

export function edgeFor(namespace: DurableObjectNamespace<DashboardHubEdge>, dashboard: string, index: number): DurableObjectStub<DashboardHubEdge> {
  return namespace.get(namespace.idFromName(edgeName(dashboard, index)));
}

/** Set by the stream route (or the root) on the upgrade it forwards to an edge: which edge it is. */
export const HUB_EDGE_HEADER = 'x-hub-edge';
/** For a root reached directly whose id carries no name: the dashboard it stands for. */
export const HUB_DASHBOARD_HEADER = 'x-hub-dashboard';

export function parseEdgeHeader(header: string | null): { dashboard: string; index: number } | null {
  if (!header) return null;
  try {
    const v = JSON.parse(header) as { dashboard?: unknown; index?: unknown };
    if (typeof v.dashboard !== 'string' || !DASHBOARD_NAME.test(v.dashboard)) return null;
    if (!Number.isInteger(v.index) || (v.index as number) < 0 || (v.index as number) >= 1_000) return null;
    return { dashboard: v.dashboard, index: v.index as number };
  } catch {
    return null;
  }
}
