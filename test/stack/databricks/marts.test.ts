import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMarts } from './marts.ts';
import { startDatabricksStandIn } from './server.ts';
import type { DatabricksStandIn } from './server.ts';

const NOW = new Date('2026-11-02T00:00:00Z');
const M = 'workspace.support_marts';
let standIn: DatabricksStandIn;

beforeAll(async () => {
  standIn = await startDatabricksStandIn({ token: 'dapi-marts-test', dictionaryDir: 'data-dictionary', now: NOW, seed: 7 });
});
afterAll(async () => {
  await standIn?.close();
});

type Signal = { signal_id: string; metric_name: string; entity_type: string; entity_id: string; window_start: Date; window_end: Date; observed_value: number; expected_value: number; model_run_id: string };

describe('the quality-signal marts', () => {
  it('are built at start: signals with contributions summing to 1 and drivers summing to the deviation', async () => {
    const [counts] = await standIn.query(`SELECT (SELECT COUNT(*) FROM ${M}.fct_signals) AS s, (SELECT COUNT(DISTINCT signal_id) FROM ${M}.fct_signals) AS ids,
      (SELECT COUNT(*) FROM ${M}.mart_runs) AS runs`);
    expect(Number(counts!.s)).toBeGreaterThan(50);
    expect(counts!.ids).toBe(counts!.s);
    expect(counts!.runs).toBe(1);
    const sums = await standIn.query(`SELECT s.signal_id, s.observed_value - s.expected_value AS deviation,
        (SELECT SUM(contribution) FROM ${M}.fct_contributions c WHERE c.signal_id = s.signal_id) AS shares,
        (SELECT SUM(shap_value) FROM ${M}.fct_model_drivers d WHERE d.signal_id = s.signal_id) AS shap
      FROM ${M}.fct_signals s`);
    for (const row of sums) {
      if (row.shares !== null) expect(Math.abs(Number(row.shares) - 1)).toBeLessThan(0.01);
      expect(Math.abs(Number(row.shap) - Number(row.deviation))).toBeLessThan(0.01);
    }
    const kinds = await standIn.query(`SELECT DISTINCT entity_type FROM ${M}.fct_signals ORDER BY 1`);
    expect(kinds.length).toBeGreaterThanOrEqual(4);
  });

  it('agree with the catalog queries: a signal’s observed value is the metric over its entity and window', async () => {
    const pick = async (metric: string, entity: string) =>
      (await standIn.query(`SELECT * FROM ${M}.fct_signals WHERE metric_name = '${metric}' AND entity_type = '${entity}' ORDER BY signal_id LIMIT 1`))[0] as Signal | undefined;
    const window = (s: Signal) => `'${new Date(s.window_start).toISOString()}'::TIMESTAMP AND '${new Date(s.window_end).toISOString()}'::TIMESTAMP`;
    const claims = await pick('claim_volume', 'region');
    if (claims) {
      const [row] = await standIn.query(
        `SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE region = '${claims.entity_id}' AND opened_at >= ${window(claims).replace(' AND ', ' AND opened_at < ')}`,
      );
      expect(Number(row!.value)).toBe(claims.observed_value);
    }
    const aht = await pick('avg_handle_time', 'channel');
    expect(aht).toBeDefined();
    const [row] = await standIn.query(
      `SELECT ROUND(AVG(handle_seconds), 4) AS value FROM workspace.support_l3.interactions WHERE channel = '${aht!.entity_id}' AND started_at >= ${window(aht!).replace(' AND ', ' AND started_at < ')}`,
    );
    expect(Number(row!.value)).toBeCloseTo(aht!.observed_value, 3);
  });

  it('are deterministic: a rebuild writes the same signals under the same ids, and records the build', async () => {
    const read = async () =>
      (await standIn.query(`SELECT * EXCLUDE (model_run_id) FROM ${M}.fct_signals ORDER BY signal_id`)).map((r) => JSON.stringify(r));
    const before = await read();
    const contributions = await standIn.query(`SELECT * FROM ${M}.fct_contributions ORDER BY signal_id, contribution_rank`);
    await buildMarts((sql) => standIn.query(sql));
    expect(await read()).toEqual(before);
    expect(await standIn.query(`SELECT * FROM ${M}.fct_contributions ORDER BY signal_id, contribution_rank`)).toEqual(contributions);
    const runs = await standIn.query(`SELECT model_run_id, status FROM ${M}.mart_runs ORDER BY model_run_id`);
    expect(runs.map((r) => r.status)).toEqual(['success', 'success']);
    expect(new Set(runs.map((r) => r.model_run_id)).size).toBe(2);
    const tables = await standIn.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'support_marts' ORDER BY 1`);
    expect(tables.map((t) => t.table_name)).toEqual(['fct_contributions', 'fct_model_drivers', 'fct_signals', 'mart_runs']);
  });

  it('scale repeats every signal under its own id, with its contributions and drivers', async () => {
    const [base] = await standIn.query(`SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM ${M}.fct_model_drivers) AS d FROM ${M}.fct_signals`);
    await buildMarts((sql) => standIn.query(sql), { scale: 3 });
    const [scaled] = await standIn.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT signal_id) AS ids, (SELECT COUNT(*) FROM ${M}.fct_model_drivers) AS d FROM ${M}.fct_signals`);
    expect(Number(scaled!.n)).toBe(Number(base!.n) * 3);
    expect(scaled!.ids).toBe(scaled!.n);
    expect(Number(scaled!.d)).toBe(Number(base!.d) * 3);
    await buildMarts((sql) => standIn.query(sql));
  });
});
