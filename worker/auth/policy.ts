import type { Role } from './roles.ts';

export type AccessRule = 'public' | Role;

/**
 * Which role each route needs: the one place that says so. Keys are `METHOD /path` as the
 * route is registered. A route missing here is denied to everyone (and fails the route × role
 * test), so a new route cannot ship open by accident.
 */
export const ACCESS_RULES: Record<string, AccessRule> = {
  'GET /health': 'public',
  'GET /livez': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',

  'POST /v1/auth/sign-in': 'public',
  'POST /v1/auth/sign-out': 'public',
  'GET /v1/auth/me': 'viewer',
  'GET /v1/auth/tokens': 'admin',
  'POST /v1/auth/tokens': 'admin',
  'DELETE /v1/auth/tokens/:id': 'admin',

  'GET /v1/metrics': 'viewer',
  'GET /v1/metrics/:name': 'viewer',
  'GET /v1/metrics/:name/history': 'viewer',
  'POST /v1/metrics': 'admin',
  'PATCH /v1/metrics/:name': 'admin',
  'DELETE /v1/metrics/:name': 'admin',
  'GET /v1/metrics/:name/compare': 'admin',

  'GET /v1/widgets': 'viewer',
  'GET /v1/widgets/:id': 'viewer',
  'POST /v1/widgets': 'editor',
  'PATCH /v1/widgets/:id': 'editor',
  'DELETE /v1/widgets/:id': 'editor',
  'POST /v1/widgets/:id/data': 'viewer',
  'POST /v1/widgets/:id/records': 'viewer',

  'GET /v1/databricks/health': 'viewer',

  'POST /v1/sql/validate': 'editor',
  'POST /v1/widgets/sql/generate': 'editor',
  'GET /v1/widgets/sql/generations': 'admin',
  'POST /v1/widgets/clarify': 'editor',
  'GET /v1/widgets/clarify/:id': 'editor',

  'GET /v1/dashboard/state': 'viewer',
  'GET /v1/dashboard/layout': 'viewer',
  'PUT /v1/dashboard/layout': 'editor',
  'POST /v1/events': 'editor',
  'GET /v1/events/:id': 'editor',
  'POST /v1/decisions/next-best-action': 'viewer',
  'POST /v1/feedback/outcome': 'editor',
  'POST /v1/admin/reset-demo': 'admin',

  'GET /v1/dashboard/stream': 'viewer',
  'POST /v1/dashboard/stream/ticket': 'viewer',
  'GET /v1/dashboard/hub': 'admin',

  'GET /v1/calls': 'viewer',
  'GET /v1/calls/export': 'viewer',
  'GET /v1/calls/:id': 'viewer',
  'GET /v1/agents': 'viewer',
  'GET /v1/analytics/summary': 'viewer',
  'GET /v1/analytics/trends': 'viewer',
  'GET /v1/analytics/breakdowns': 'viewer',
  'GET /v1/filters/options': 'viewer',
  'GET /v1/settings/manifest': 'viewer',
  'POST /v1/settings/refresh': 'admin',
  'GET /v1/settings/refresh/:run_id': 'viewer',

  'GET /v1/incidents': 'viewer',
  'POST /v1/incidents': 'editor',
  'GET /v1/incidents/metrics': 'viewer',
  'GET /v1/incidents/scenarios': 'viewer',
  'GET /v1/incidents/:id': 'viewer',
  'POST /v1/incidents/:id/approve': 'editor',
  'POST /v1/incidents/:id/reject': 'editor',
  'POST /v1/incidents/:id/cancel': 'editor',
  'GET /v1/signals': 'viewer',
  'GET /v1/signals/activity': 'viewer',
  'GET /v1/signals/response-times': 'viewer',
  'POST /v1/signals/hydrate': 'admin',
  'POST /v1/signals/bulk': 'editor',
  'GET /v1/signals/:id': 'viewer',
  'PATCH /v1/signals/:id': 'editor',
  'GET /v1/signals/:id/activity': 'viewer',
  'GET /v1/signals/:id/records': 'viewer',
  'POST /v1/signals/:id/notes': 'editor',
};

export function ruleFor(method: string, path: string): AccessRule | undefined {
  return ACCESS_RULES[`${method} ${path}`];
}
