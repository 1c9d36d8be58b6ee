import { openLakehouse } from '../stack/databricks/lakehouse.ts';
import { readDictionaryDir } from '../../scripts/dictionary-files.ts';
import { loadDictionary } from '../../worker/dictionary/load.ts';
const dictionary = loadDictionary(readDictionaryDir('data-dictionary'));
const t = performance.now();
const l = await openLakehouse({ dictionary, now: new Date('2026-12-01T00:00:00Z'), seed: 1, volumes: { interactions: 1_000_000, customers: 200_000, devices: 250_000 } });
console.log('open ms', performance.now() - t, l.rowCounts);
console.log(process.memoryUsage().rss/1e6);
