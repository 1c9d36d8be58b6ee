import type { DashboardHub } from './dashboard-hub.ts';

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

export function hubFor(namespace: DurableObjectNamespace<DashboardHub>, dashboard: string): DurableObjectStub<DashboardHub> {
  return namespace.get(namespace.idFromName(dashboard));
}
