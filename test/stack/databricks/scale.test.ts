// The stand-in's scale knob: a lakehouse of any size from the same seed, its customer base growing
// with it, the same tables every time, and the engine baseline the benchmark compares routes with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DICTIONARY_DIR } from '../../../scripts/dictionary-files.ts';
import { startDatabricksStandIn } from './server.ts';
import type { DatabricksStandIn } from './server.ts';
import { DEFAULT_VOLUMES, generateLakehouse, interactionsFromEnv, scaledVolumes } from './synthetic-data.ts';

const NOW = new Date('2025-03-18T15:00:00.000Z');
const TOKEN = 'dapi-scale-test';
const SIZE = 75_000;

let standIn: DatabricksStandIn;

beforeAll(async () => {
  standIn = await startDatabricksStandIn({ token: TOKEN, dictionaryDir: DICTIONARY_DIR, now: NOW, interactions: SIZE, jobPhaseMs: 5 });
});

afterAll(async () => {
  await standIn?.close();
});

const submit = async (statement: string, parameters: Array<{ name: string; value: string; type: string }> = []) => {
  const res = await fetch(`${standIn.url}/api/2.0/sql/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ warehouse_id: standIn.warehouseId, statement, parameters, wait_timeout: '10s' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: { state: string }; result?: { data_array?: string[][] } };
};

describe('the scale knob', () => {
  it('reads LAKEHOUSE_INTERACTIONS as a whole number, and refuses anything else', () => {
    expect(interactionsFromEnv({})).toBeUndefined();
    expect(interactionsFromEnv({ LAKEHOUSE_INTERACTIONS: '' })).toBeUndefined();
    expect(interactionsFromEnv({ LAKEHOUSE_INTERACTIONS: '1_000_000' })).toBe(1_000_000);
    expect(interactionsFromEnv({ LAKEHOUSE_INTERACTIONS: '250000' })).toBe(250_000);
    expect(() => interactionsFromEnv({ LAKEHOUSE_INTERACTIONS: '1e6' })).toThrow(/whole number/);
    expect(() => scaledVolumes(10_000_000)).toThrow(/seven digits/);
    expect(() => scaledVolumes(0)).toThrow();
  });

  it('grows the customer base and devices with the contacts, and leaves the rest', () => {
    expect(scaledVolumes(1_000_000)).toEqual({ ...DEFAULT_VOLUMES, interactions: 1_000_000, customers: 200_000, devices: 250_000 });
    // Smaller than the default keeps the default base.
    expect(scaledVolumes(1_000)).toEqual({ ...DEFAULT_VOLUMES, interactions: 1_000 });
  });

  it('is deterministic at any size: the same seed gives the same contacts', () => {
    const a = generateLakehouse({ now: NOW, seed: 7, volumes: scaledVolumes(SIZE) }).interactions!;
    const b = generateLakehouse({ now: NOW, seed: 7, volumes: scaledVolumes(SIZE) }).interactions!;
    expect(a).toHaveLength(SIZE);
    expect(b).toEqual(a);
  });

  it('loads that many contacts, laid out by time, every one joining its customer, agent and device', async () => {
    expect(standIn.rowCounts).toMatchObject({ interactions: SIZE, customers: scaledVolumes(SIZE).customers, devices: scaledVolumes(SIZE).devices });
    const [check] = await standIn.query(`
      SELECT COUNT(*) AS n, COUNT(DISTINCT interaction_id) AS ids,
        COUNT_IF(c.customer_id IS NULL) AS orphan_customers, COUNT_IF(a.agent_id IS NULL) AS orphan_agents,
        COUNT_IF(i.device_id IS NOT NULL AND d.device_id IS NULL) AS orphan_devices,
        MAX(i.started_at) < TIMESTAMP '2025-03-18 15:00:00' AS before_now
      FROM workspace.support_l3.interactions i
      LEFT JOIN workspace.support_l3.customers c USING (customer_id)
      LEFT JOIN workspace.support_l3.agents a USING (agent_id)
      LEFT JOIN workspace.support_l3.devices d ON d.device_id = i.device_id`);
    expect(check).toEqual({ n: SIZE, ids: SIZE, orphan_customers: 0, orphan_agents: 0, orphan_devices: 0, before_now: true });
    // Ids follow time, so the physical order is time order: zone maps on started_at prune windows.
    const [order] = await standIn.query(`
      SELECT COUNT_IF(next_start < started_at) AS out_of_order FROM (
        SELECT started_at, LEAD(started_at) OVER (ORDER BY interaction_id) AS next_start FROM workspace.support_l3.interactions)`);
    expect(order).toEqual({ out_of_order: 0 });
  });

  it('logs what was submitted and times exactly that on the engine, without HTTP', async () => {
    const before = standIn.statementsSince(Number.MAX_SAFE_INTEGER).last;
    const sql = 'SELECT COUNT(*) AS n FROM workspace.support_l3.interactions WHERE started_at >= :start';
    const answer = await submit(sql, [{ name: 'start', value: '2025-03-01T00:00:00Z', type: 'TIMESTAMP' }]);
    expect(answer.status.state).toBe('SUCCEEDED');
    await submit('DESCRIBE HISTORY workspace.support_l3.interactions LIMIT 1');
    const logged = standIn.statementsSince(before).statements;
    // Metadata questions are not part of a route's query cost.
    expect(logged.map((l) => l.request.statement)).toEqual([sql]);
    const latencies = await standIn.timeOnEngine(logged.map((l) => l.request), 3);
    expect(latencies).toHaveLength(3);
    for (const ms of latencies) expect(ms).toBeGreaterThan(0);
    const [plan] = await standIn.explainOnEngine(logged.map((l) => l.request));
    expect(plan).toMatch(/TABLE_SCAN/);
  });
});
