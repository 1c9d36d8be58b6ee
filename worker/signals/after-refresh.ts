/**
 * After a successful refresh run the marts are new: hydrate once per run, in the background (the
 * follow request answers at once). A Redis key claims the run, so the page that polls it many
 * times starts one hydration; with Redis down the hydration runs anyway (a second one finds
 * nothing to change, and the advisory lock keeps two from overlapping).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { createServices } from '../services/index.ts';
import { HydrationBusy, hydrate } from './hydrate.ts';
import { requireOwnership } from './ownership-bundled.ts';

const CLAIM_MS = 24 * 3_600_000;

export function hydrateAfterRefresh(c: Context<AppEnv>, refreshRunId: number): void {
  const config = c.get('config');
  const log = c.get('log').child({ component: 'signals-after-refresh' });
  const redis = c.get('services').redis.client;
  const work = (async () => {
    const key = `cc:signals:hydrated-after-refresh:${config.DATABRICKS_HOST}|${refreshRunId}`;
    try {
      if (redis && (await redis.set(key, '1', { nx: true, px: CLAIM_MS })) !== 'OK') return;
    } catch (error) {
      log.warn('could not claim the refresh run for hydration; hydrating anyway', { error });
    }
    // Its own services: the request's pool closes with the response, mid-hydration.
    const services = createServices(config, undefined, log);
    try {
      await hydrate(
        { postgres: services.postgres, databricks: services.databricks.client, catalog: config.DATABRICKS_CATALOG, rules: requireOwnership(), log, env: c.env },
        { trigger: 'refresh', actorId: c.get('identity')?.userId ?? null },
      );
    } catch (error) {
      if (!(error instanceof HydrationBusy)) log.warn('hydration after the refresh failed; the run is recorded', { refresh_run: refreshRunId, error });
    } finally {
      await services.close();
    }
  })();
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a direct app.request): the work still runs to its end.
  }
}
