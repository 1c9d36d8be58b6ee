import { createDatabricksClient } from './client.ts';
import type { DatabricksClient } from './client.ts';
import type { Config } from '../../config/env.ts';
import { disabled, probe } from '../mode.ts';
import type { DependencyMode, DependencyProbe } from '../mode.ts';

export interface DatabricksService {
  readonly mode: DependencyMode;
  readonly provider: string;
  /** The Statement Execution API client, or null when Databricks is not configured. */
  readonly client: DatabricksClient | null;
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
  const connect = (maxAttempts?: number) =>
    createDatabricksClient({
      host: config.DATABRICKS_HOST!,
      token: config.DATABRICKS_TOKEN!,
      warehouseId: config.DATABRICKS_WAREHOUSE_ID!,
      catalog: config.DATABRICKS_CATALOG,
      schema: config.DATABRICKS_SCHEMA,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    });
  const client = mode === 'disabled' ? null : connect();
  return {
    mode,
    provider,
    client,
    async health(timeoutMs) {
      if (!client) return disabled(provider, 'DATABRICKS_HOST/DATABRICKS_TOKEN/DATABRICKS_WAREHOUSE_ID are not set');
      return probe(mode, provider, timeoutMs, async (signal) => {
        // The warehouse's state, not a statement: a statement would start a stopped warehouse or
        // keep a running one from auto-stopping, which costs money on every health check.
        // One attempt (a retried refusal would read as `slow`), and the probe's own deadline
        // decides `slow`: the request is abandoned a moment after it.
        const warehouse = await connect(1).warehouse({ timeoutMs: timeoutMs + 500, signal });
        if (warehouse.state === 'DELETED' || warehouse.state === 'DELETING' || warehouse.health === 'FAILED') {
          throw new Error(`warehouse ${warehouse.id} is ${warehouse.state}${warehouse.health ? `, health ${warehouse.health}` : ''}`);
        }
        const idle = warehouse.state === 'RUNNING' ? '' : ' (it starts on the next query)';
        return `warehouse ${warehouse.id} ${warehouse.state}${warehouse.health ? `, health ${warehouse.health}` : ''}${idle}`;
      });
    },
  };
}
