import { readFileSync } from 'node:fs';
import { DICTIONARY_DIR, readDictionaryDir } from '../../scripts/dictionary-files.ts';
import type { Metric } from '../../worker/metrics/catalog/store.ts';
import { loadDictionary } from '../../worker/dictionary/load.ts';
import type { DataDictionary } from '../../worker/dictionary/load.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

export function dictionary(): DataDictionary {
  return loadDictionary(readDictionaryDir(DICTIONARY_DIR));
}

export const qualify = (table: string) => `workspace.support_l3.${table}`;

/** The seeded catalog, read from its migration: the queries the data path composes around. */
export function seededMetrics(): Metric[] {
  const seed = read('migrations/0003_seed_metrics.sql');
  const row = /\(\$q\$(\w+)\$q\$, \$q\$.*?\$q\$, \$q\$.*?\$q\$, '(\w+)', '(\w+)', '[\w-]+', \$q\$(\{"tables".*?)\$q\$::jsonb, \$q\$(\{.*?\})\$q\$::jsonb\)/g;
  const now = new Date().toISOString();
  return [...seed.matchAll(row)].map((m) => ({
    name: m[1]!,
    display_name: m[1]!,
    description: '',
    unit: m[2] as Metric['unit'],
    direction: m[3] as Metric['direction'],
    owner: 'test',
    lineage: JSON.parse(m[4]!) as Metric['lineage'],
    queries: JSON.parse(m[5]!) as Metric['queries'],
    version: 1,
    retired_at: null,
    created_at: now,
    updated_at: now,
  }));
}

export function metric(name: string): Metric {
  const found = seededMetrics().find((m) => m.name === name);
  if (!found) throw new Error(`no seeded metric ${name}`);
  return found;
}
