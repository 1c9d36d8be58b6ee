import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import type { Metric } from './catalog/store.ts';
import { listMetrics, requireActiveMetric } from './catalog/store.ts';
import { cachedCatalog } from './catalog/snapshot.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { requireRouting } from './routing/gate.ts';
import type { Postgres } from '../services/postgres.ts';
import type { Routing } from './routing/load.ts';
import { policyFromTables } from '../sqlgen/allowlist.ts';
import type { SafetyPolicy } from '../sqlgen/allowlist.ts';
import type { DataContext } from './tile-data.ts';
import { tableVersions } from '../analytics/versions.ts';

let policy: { key: string; value: SafetyPolicy } | undefined;

/** The SQL allowlist: the dictionary's tables in the configured catalog and schema. */
export function safetyPolicy(catalog: string, schema: string): SafetyPolicy {
  const key = `${catalog}.${schema}`;
  if (policy?.key !== key) policy = { key, value: policyFromTables(bundledDictionary().tables, { catalog, schema }) };
  return policy.value;
}

/**
 * Everything the data path needs for one request. The routing gate runs here, against the
 * live catalog, so a metric without a route stops its tiles with 503 routing_invalid.
 */
export async function dataContext(c: Context<AppEnv>): Promise<{ ctx: DataContext; routing: Routing; catalog: Metric[] }> {
  const config = c.get('config');
  const services = c.get('services');
  const catalog = await cachedCatalog(() => listMetrics(services.postgres));
  const routing = requireRouting(c.get('routingText'), catalog);
  const ctx: DataContext = {
    services,
    dictionary: bundledDictionary(),
    policy: safetyPolicy(config.DATABRICKS_CATALOG, config.DATABRICKS_SCHEMA),
    qualify: (table) => `${config.DATABRICKS_CATALOG}.${config.DATABRICKS_SCHEMA}.${table}`,
    now: new Date(),
    tableVersions: (tables) => tableVersions(services, config, tables),
  };
  return { ctx, routing, catalog };
}

/** The active metric from the catalog snapshot; one it does not know yet is looked up (404/409). */
export async function activeMetric(db: Pick<Postgres, 'query'>, catalog: readonly Metric[], name: string): Promise<Metric> {
  return catalog.find((m) => m.name === name) ?? requireActiveMetric(db, name);
}
