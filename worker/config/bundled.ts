// The checked-in configuration travels inside the worker bundle: a deploy ships exactly the
// routing and dictionary it was tested with, and `npm run dev` rebuilds when they change.
import routingYaml from '../../config/metric_routing.yaml?raw';
import guidelines from '../../data-dictionary/ai_query_guidelines.md?raw';
import columns from '../../data-dictionary/columns.csv?raw';
import joins from '../../data-dictionary/joins.csv?raw';
import metrics from '../../data-dictionary/metrics.csv?raw';
import tables from '../../data-dictionary/tables.csv?raw';
import { loadDictionary } from '../dictionary/load.ts';
import type { DataDictionary } from '../dictionary/load.ts';

export const BUNDLED_ROUTING_YAML: string = routingYaml;

let dictionary: DataDictionary | undefined;

/** Parsed once per isolate; a broken dictionary fails the build's tests, not a request. */
export function bundledDictionary(): DataDictionary {
  dictionary ??= loadDictionary({ tables, columns, joins, metrics, guidelines });
  return dictionary;
}
