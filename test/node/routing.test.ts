import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRouting, parseRouting } from '../../worker/metrics/routing/load.ts';
import { checkRoutingFile } from '../../scripts/routing-check.ts';

const file = new URL('../../config/metric_routing.yaml', import.meta.url);
const catalog = [
  { name: 'claim_volume', queries: { postgres: 'q', databricks: 'q' } },
  { name: 'csat_avg', queries: { databricks: 'q' } },
];
const yaml = (metrics: string) => `version: 1\ndefaults:\n  cache_seconds: 60\n  timeout_ms: 5000\n  fallback: none\nmetrics:\n${metrics}`;

describe('metric routing', () => {
  it('applies defaults and keeps explicit values', () => {
    const parsed = parseRouting(yaml('  claim_volume: { source: databricks, cache_seconds: 300 }\n  csat_avg: { source: databricks, fallback: template }\n'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.routing.routes.get('claim_volume')).toEqual({ source: 'databricks', cache_seconds: 300, timeout_ms: 5000, fallback: 'none' });
    expect(parsed.routing.routes.get('csat_avg')?.fallback).toBe('template');
  });

  it('fails on a missing route, a source without a query, typos and bad YAML; warns on extras', () => {
    const missing = checkRouting(yaml('  claim_volume: { source: postgres }\n  extra_metric: { source: postgres }\n'), catalog);
    expect(missing.ok).toBe(false);
    expect(missing.ok ? [] : missing.problems).toEqual(['metric csat_avg is in the catalog but has no route in metric_routing.yaml']);
    expect(missing.warnings).toEqual(['metric_routing.yaml routes extra_metric, which the catalog does not have']);

    const noQuery = checkRouting(yaml('  claim_volume: { source: postgres }\n  csat_avg: { source: postgres }\n'), catalog);
    expect(noQuery.ok ? [] : noQuery.problems).toEqual(['metric csat_avg is routed to postgres but has no postgres query']);

    const typo = checkRouting(yaml('  claim_volume: { source: postgres, cache_secnds: 5 }\n  csat_avg: { source: databricks }\n'), catalog);
    expect(typo.ok ? '' : typo.problems.join()).toContain('cache_secnds');
    const badSource = checkRouting(yaml('  claim_volume: { source: mysql }\n  csat_avg: { source: databricks }\n'), catalog);
    expect(badSource.ok).toBe(false);
    expect(checkRouting('metrics: [', catalog).ok).toBe(false);
    expect(checkRouting(yaml('  claim_volume: { source: postgres }\n  claim_volume: { source: databricks }\n  csat_avg: { source: databricks }\n'), catalog).ok).toBe(false);
  });

  it('passes the real file against the migrated catalog and fails a copy with a route removed', async () => {
    expect(await checkRoutingFile(file)).toBe(true);
    const dir = await mkdtemp(path.join(tmpdir(), 'routing-'));
    const broken = path.join(dir, 'metric_routing.yaml');
    await writeFile(broken, (await readFile(file, 'utf8')).replace(/^\s*open_alerts:.*$/m, ''));
    expect(await checkRoutingFile(new URL(`file://${broken}`))).toBe(false);
  }, 60_000);
});
