import type { Metric } from '../catalog/store.ts';
import { ApiError } from '../../http/errors.ts';
import { rootLogger } from '../../lib/log.ts';

const log = rootLogger.child({ component: 'routing' });
import { parseRouting, routeProblems } from './load.ts';
import type { Routing } from './load.ts';
import type { MetricRoute } from './schema.ts';

const ROUTING_FILE = 'config/metric_routing.yaml';

/**
 * The gate, run where routing is used. A file that does not parse stops every data route with
 * 503 routing_invalid, every problem listed: nothing it says can be trusted. A catalog metric the
 * file cannot serve (no route, or routed to a source it has no query for) stops only that
 * metric's tiles, named; everything else keeps working. `npm run check` refuses both before a
 * deploy. Warnings (routes staged for metrics the catalog lacks) and broken metrics are logged once.
 */
const warned = new Set<string>();

function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  log.warn(message);
}

export function requireRouting(text: string, catalog: readonly Metric[]): Routing {
  const parsed = parseRouting(text);
  if (!parsed.ok) {
    throw new ApiError('routing_invalid', `Metric routing is invalid: ${parsed.problems.join('; ')}`, {
      errors: parsed.problems.map((p) => ({ pointer: ROUTING_FILE, message: p })),
    });
  }
  const names = new Set(catalog.map((m) => m.name));
  const routes = new Map<string, MetricRoute>();
  const broken = new Map<string, string[]>();
  for (const name of parsed.routing.routes.keys()) {
    if (!names.has(name)) warnOnce(`metric_routing.yaml routes ${name}, which the catalog does not have`);
  }
  for (const metric of catalog) {
    const route = parsed.routing.routes.get(metric.name);
    const problems = routeProblems(metric, route);
    if (problems.length > 0) {
      broken.set(metric.name, problems);
      for (const p of problems) warnOnce(p);
    } else routes.set(metric.name, route!);
  }
  return { routes, broken };
}

/** The metric's route, or 503 routing_invalid naming this metric and what its route lacks. */
export function routeFor(routing: Routing, metric: string): MetricRoute {
  const route = routing.routes.get(metric);
  if (route) return route;
  const problems = routing.broken?.get(metric) ?? [`metric ${metric} has no route in metric_routing.yaml`];
  throw new ApiError('routing_invalid', `Metric ${metric} cannot be served: ${problems.join('; ')}`, {
    errors: problems.map((p) => ({ pointer: ROUTING_FILE, message: p })),
  });
}

/**
 * Whether the routing this worker was built with can serve a metric about to be stored: a
 * catalog write that would leave its own tiles unroutable is refused (422) with what to add.
 */
export function admissionProblems(text: string, metric: Pick<Metric, 'name' | 'queries'>): Array<{ pointer: string; message: string }> {
  const parsed = parseRouting(text);
  if (!parsed.ok) return parsed.problems.map((p) => ({ pointer: ROUTING_FILE, message: p }));
  const route = parsed.routing.routes.get(metric.name);
  const sources = (['postgres', 'databricks'] as const).filter((s) => metric.queries[s]);
  return routeProblems(metric, route).map((p) => ({
    pointer: ROUTING_FILE,
    message: route
      ? `${p}: route it to ${sources.join(' or ')} in ${ROUTING_FILE}, or add the missing query`
      : `${p}: add \`${metric.name}: { source: ${sources[0] ?? 'postgres'} }\` under \`metrics:\` in ${ROUTING_FILE} and deploy, then add the metric`,
  }));
}
