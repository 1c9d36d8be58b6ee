import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabricksClient } from '../../worker/services/databricks/client.ts';
import { startDatabricksStandIn } from '../stack/databricks/server.ts';
import type { DatabricksStandIn } from '../stack/databricks/server.ts';

const TOKEN = 'dapi-warehouse-test-5e2a8c1b9d';
let standIn: DatabricksStandIn;

beforeAll(async () => {
  standIn = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: 'data-dictionary', port: 0 });
});

afterAll(async () => {
  await standIn?.close();
});

const client = (overrides: { token?: string; warehouseId?: string } = {}) =>
  createDatabricksClient({
    host: standIn.url,
    token: overrides.token ?? TOKEN,
    warehouseId: overrides.warehouseId ?? standIn.warehouseId,
    catalog: 'workspace',
    schema: 'support_l3',
    maxAttempts: 1,
  });

describe('the warehouse state', () => {
  it('is read without running a statement', async () => {
    // A statement stuck in PENDING would hang a probe that ran one.
    standIn.faults.set({ stuckPending: true });
    try {
      expect(await client().warehouse({ timeoutMs: 2_000 })).toEqual({ id: standIn.warehouseId, state: 'RUNNING', health: 'HEALTHY' });
    } finally {
      standIn.faults.clear();
    }
  });

  it('refuses a wrong token and names an unknown warehouse', async () => {
    await expect(client({ token: 'dapi-not-the-token-000000' }).warehouse({ timeoutMs: 2_000 })).rejects.toMatchObject({ dependency: 'databricks', kind: 'auth' });
    await expect(client({ warehouseId: 'ffffffffffffffff' }).warehouse({ timeoutMs: 2_000 })).rejects.toMatchObject({ dependency: 'databricks', kind: 'rejected' });
  });
});
