import type { Config } from '../env.ts';
import { disabled, probe } from './mode.ts';
import type { DependencyMode, DependencyProbe } from './mode.ts';

export interface DatabricksService {
  readonly mode: DependencyMode;
  readonly provider: string;
  readonly configured: boolean;
  health(timeoutMs: number): Promise<DependencyProbe>;
}

function modeFor(config: Config): { mode: DependencyMode; provider: string } {
  if (!config.DATABRICKS_HOST || !config.DATABRICKS_TOKEN || !config.DATABRICKS_WAREHOUSE_ID) {
    return { mode: 'disabled', provider: 'none' };
  }
  if (config.LOCAL_DATABRICKS === 'duckdb') {
    return { mode: 'local', provider: 'local SQL Statement Execution API stand-in over DuckDB' };
  }
  return { mode: 'live', provider: 'Databricks SQL warehouse' };
}

export function createDatabricks(config: Config): DatabricksService {
  const { mode, provider } = modeFor(config);
  const configured = mode !== 'disabled';
  return {
    mode,
    provider,
    configured,
    async health(timeoutMs) {
      if (!configured) {
        return disabled(provider, 'DATABRICKS_HOST/DATABRICKS_TOKEN/DATABRICKS_WAREHOUSE_ID are not set');
      }
      return probe(mode, provider, timeoutMs, async () => {
        // A trivial statement proves reachability, auth and the warehouse without scanning data.
        const res = await fetch(new URL('/api/2.0/sql/statements', config.DATABRICKS_HOST), {
          method: 'POST',
          headers: { authorization: `Bearer ${config.DATABRICKS_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            statement: 'SELECT 1 AS ok',
            warehouse_id: config.DATABRICKS_WAREHOUSE_ID,
            wait_timeout: '5s',
            on_wait_timeout: 'CANCEL',
          }),
        });
        if (!res.ok) throw new Error(`statement API answered HTTP ${res.status}`);
        const body = (await res.json()) as { status?: { state?: string } };
        const state = body.status?.state;
        if (state !== 'SUCCEEDED') throw new Error(`statement state ${state ?? 'unknown'}`);
        return `warehouse ${config.DATABRICKS_WAREHOUSE_ID}`;
      });
    },
  };
}
