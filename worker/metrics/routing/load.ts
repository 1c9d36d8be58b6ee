import { parse } from 'yaml';
import { RoutingFileSchema } from './schema.ts';
import type { MetricRoute } from './schema.ts';
import { Lru } from '../../lib/lru.ts';

export interface Routing {
  routes: ReadonlyMap<string, MetricRoute>;
  /** Catalog metrics this routing cannot serve, with why; their tiles fail alone, named. */
  broken?: ReadonlyMap<string, string[]>;
}

export type RoutingCheck =
  | { ok: true; routing: Routing; warnings: string[] }
  | { ok: false; problems: string[]; warnings: string[] };

/** Parses and validates the routing YAML text; the result says what is wrong, line by line. */
type Parsed = { ok: true; routing: Routing } | { ok: false; problems: string[] };

// Every tile request checks routing; the text changes only with a deploy (or a test's own app),
// so each text is parsed and validated once per isolate.
const parsedTexts = new Lru<string, Parsed>(16);

export function parseRouting(text: string): Parsed {
  let parsed = parsedTexts.get(text);
  if (!parsed) {
    parsed = parseRoutingText(text);
    parsedTexts.set(text, parsed);
  }
  return parsed;
}

function parseRoutingText(text: string): Parsed {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return { ok: false, problems: [`metric_routing.yaml is not valid YAML: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = RoutingFileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `metric_routing.yaml ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const { defaults, metrics } = parsed.data;
  const routes = new Map<string, MetricRoute>();
  for (const [name, route] of Object.entries(metrics)) {
    routes.set(name, {
      source: route.source,
      cache_seconds: route.cache_seconds ?? defaults.cache_seconds,
      timeout_ms: route.timeout_ms ?? defaults.timeout_ms,
      fallback: route.fallback ?? defaults.fallback,
    });
  }
  return { ok: true, routing: { routes } };
}

type CatalogEntry = { name: string; queries: { postgres?: string; databricks?: string } };

/** What stops one metric's route from serving it; empty when it can. */
export function routeProblems(metric: CatalogEntry, route: MetricRoute | undefined): string[] {
  if (!route) return [`metric ${metric.name} is in the catalog but has no route in metric_routing.yaml`];
  const problems: string[] = [];
  if (!metric.queries[route.source]) problems.push(`metric ${metric.name} is routed to ${route.source} but has no ${route.source} query`);
  if (route.fallback === 'postgres' && !metric.queries.postgres) {
    problems.push(`metric ${metric.name} falls back to postgres but has no postgres query`);
  }
  return problems;
}

/**
 * The boot gate: every catalog metric needs a route whose source it has a query for; a route
 * for a metric the catalog does not have only warns (it may be staged ahead of a seed).
 */
export function checkRouting(text: string, catalog: readonly CatalogEntry[]): RoutingCheck {
  const parsed = parseRouting(text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems, warnings: [] };
  const problems = catalog.flatMap((metric) => routeProblems(metric, parsed.routing.routes.get(metric.name)));
  const names = new Set(catalog.map((m) => m.name));
  const warnings = [...parsed.routing.routes.keys()]
    .filter((name) => !names.has(name))
    .map((name) => `metric_routing.yaml routes ${name}, which the catalog does not have`);
  return problems.length > 0 ? { ok: false, problems, warnings } : { ok: true, routing: parsed.routing, warnings };
}
