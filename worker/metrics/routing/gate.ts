import type { Metric } from '../catalog/store.ts';
import { ApiError } from '../../http/errors.ts';
import { checkRouting } from './load.ts';
import type { Routing } from './load.ts';
import type { MetricRoute } from './schema.ts';

/**
 * The boot gate, run where routing is used: the routing file must route every catalog
 * metric to a source it has a query for. A failure answers 503 routing_invalid with every
 * problem listed, never a guess. Warnings (routes for unknown metrics) are logged once.
 */
const warned = new Set<string>();

export function requireRouting(text: string, catalog: readonly Metric[]): Routing {
  const check = checkRouting(text, catalog);
  for (const w of check.warnings) {
    if (!warned.has(w)) {
      warned.add(w);
      console.warn(JSON.stringify({ level: 'warn', msg: w }));
    }
  }
  if (!check.ok) {
    throw new ApiError('routing_invalid', `Metric routing is invalid: ${check.problems.join('; ')}`, {
      errors: check.problems.map((p) => ({ pointer: 'config/metric_routing.yaml', message: p })),
    });
  }
  return check.routing;
}

export function routeFor(routing: Routing, metric: string): MetricRoute {
  const route = routing.routes.get(metric);
  if (!route) throw new ApiError('routing_invalid', `Metric ${metric} has no route.`);
  return route;
}
