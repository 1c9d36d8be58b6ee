import type { Bindings } from '../../config/env.ts';
import { loadConfig } from '../../config/env.ts';
import { rootLogger } from '../../lib/log.ts';
import { createServices } from '../../services/index.ts';
import { drainOutbox, pendingDashboards } from './outbox.ts';

const log = rootLogger.child({ component: 'outbox-drain' });

/** Events younger than this are left to the request that stored them. */
export const DRAIN_AFTER_SECONDS = 5;

/**
 * The scheduled drain (wrangler.toml's cron trigger): publishes events that no request did, for
 * example when the hub was unreachable after the commit and no later ingest came for that dashboard.
 */
export async function drainWaitingEvents(env: Bindings): Promise<{ dashboards: number; published: number; failed: number }> {
  const loaded = loadConfig(env);
  if (!loaded.ok || !loaded.config.DATABASE_URL) return { dashboards: 0, published: 0, failed: 0 };
  const services = createServices(loaded.config, undefined, log);
  const totals = { dashboards: 0, published: 0, failed: 0 };
  try {
    for (const dashboard of await pendingDashboards(services.postgres, DRAIN_AFTER_SECONDS)) {
      totals.dashboards++;
      // Each drain takes one hub batch; keep going while a dashboard still has a full one waiting.
      for (let round = 0; round < 20; round++) {
        const drained = await drainOutbox(env, services.postgres, dashboard, log);
        totals.published += drained.published.length;
        if (drained.failed) totals.failed++;
        if (drained.failed || drained.published.length === 0) break;
      }
    }
    if (totals.published > 0 || totals.failed > 0) log.info('outbox drained', totals);
  } catch (err) {
    log.error('outbox drain failed', { error: err });
  } finally {
    await services.close();
  }
  return totals;
}
