/**
 * The signals domain as a request sees it: the ownership rules checked, the lakehouse client,
 * Postgres, and first-use hydration (once per database, whoever asks first).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { getMetric } from '../metrics/catalog/store.ts';
import { parseRouting } from '../metrics/routing/load.ts';
import { hydrate } from './hydrate.ts';
import type { HydrateDeps } from './hydrate.ts';
import { requireOwnership } from './ownership-bundled.ts';
import type { SignalDetail } from './schemas.ts';
import type { WorkflowDeps } from './workflow.ts';

export function hydrateDeps(c: Context<AppEnv>): HydrateDeps {
  const services = c.get('services');
  return {
    postgres: services.postgres,
    databricks: services.databricks.client,
    catalog: c.get('config').DATABRICKS_CATALOG,
    rules: requireOwnership(),
    log: c.get('log'),
    env: c.env,
  };
}

export function workflowDeps(c: Context<AppEnv>): WorkflowDeps {
  requireOwnership();
  return { postgres: c.get('services').postgres, env: c.env, log: c.get('log') };
}

/** Databases (by URL) known to have been hydrated once; checked again only in a fresh isolate. */
const hydratedOnce = new Set<string>();

/** For tests that empty the tables: the next list checks again. */
export function forgetFirstUse(): void {
  hydratedOnce.clear();
}

/**
 * First use: when no hydration has ever succeeded and the table is empty, the first request to
 * list signals hydrates (the others, concurrent with it, answer what is there; the advisory lock
 * lets one through). A lakehouse that is down then is logged and the list answers from Postgres.
 */
export async function ensureHydrated(c: Context<AppEnv>): Promise<void> {
  const key = c.get('config').DATABASE_URL ?? '';
  if (hydratedOnce.has(key)) return;
  const postgres = c.get('services').postgres;
  const [state] = await postgres.query<{ has_signals: boolean; has_run: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM signals) AS has_signals, EXISTS (SELECT 1 FROM signal_hydration_runs WHERE status = 'succeeded') AS has_run`,
  );
  if (state?.has_signals || state?.has_run) {
    hydratedOnce.add(key);
    return;
  }
  try {
    const run = await hydrate(hydrateDeps(c), { trigger: 'first_use', actorId: c.get('identity')?.userId ?? null, onlyIfEmpty: true });
    if (run) hydratedOnce.add(key);
  } catch (error) {
    c.get('log').warn('first-use signal hydration failed; the list answers what Postgres has', { error });
  }
}

/** The catalog metric a signal concerns, for its detail: the catalog's entry, else the dictionary's. */
export function metricInfoFor(c: Context<AppEnv>) {
  const routing = parseRouting(c.get('routingText'));
  return async (name: string): Promise<SignalDetail['metric']> => {
    const m = await getMetric(c.get('services').postgres, name);
    const d = bundledDictionary().metrics.find((x) => x.name === name);
    return {
      name,
      label: m?.display_name ?? d?.displayName ?? name,
      unit: m?.unit ?? d?.unit ?? 'count',
      source: routing.ok ? (routing.routing.routes.get(name)?.source ?? 'databricks') : 'databricks',
      definition: m?.description ?? d?.description ?? '',
    };
  };
}
