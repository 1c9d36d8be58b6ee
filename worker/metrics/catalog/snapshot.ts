import type { Metric } from './store.ts';

/**
 * The active catalog, remembered in the isolate for a few seconds. Every tile request needs it
 * (its metric's definition, and the routing gate checks every metric has a route), while it
 * changes only when an admin edits a metric. Writes through this isolate drop it at once (the
 * catalog's write functions call invalidateCatalog); other isolates see an edit within
 * CATALOG_TTL_MS.
 */
export const CATALOG_TTL_MS = 5_000;
let snapshot: { metrics: Metric[]; expires: number } | undefined;
// Bumped by every write, so a load that started before the write cannot store what it read.
let generation = 0;

// Each request loads on its own miss: a promise settled by another request's I/O must not be
// awaited across requests in Workers.
export async function cachedCatalog(load: () => Promise<Metric[]>): Promise<Metric[]> {
  if (snapshot && snapshot.expires > Date.now()) return snapshot.metrics;
  const started = generation;
  const metrics = await load();
  if (started === generation) snapshot = { metrics, expires: Date.now() + CATALOG_TTL_MS };
  return metrics;
}

export function invalidateCatalog(): void {
  generation++;
  snapshot = undefined;
}
