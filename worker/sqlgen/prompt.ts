import type { Metric } from '../metrics/catalog/store.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import type { DictionaryTable } from '../dictionary/schema.ts';

/**
 * The SQL generator's prompt. It is a pure function of the catalog metric, the data dictionary and
 * the caller's question: no clock, no randomness, stable ordering. Its SHA-256 therefore names the
 * exact text a model saw, which is what the generation record keeps.
 */

export interface SqlPrompt {
  system: string;
  user: string;
  /** SHA-256 (hex) of the system and user text together. */
  digest: string;
}

/** The dictionary's tables as the model should read them: the metric's own tables first. */
function orderedTables(metric: Metric, dictionary: DataDictionary): DictionaryTable[] {
  const lineage = new Set(metric.lineage.tables.map((t) => t.toLowerCase()));
  const own = dictionary.tableDefinitions.filter((t) => lineage.has(t.name.toLowerCase()));
  const rest = dictionary.tableDefinitions.filter((t) => !lineage.has(t.name.toLowerCase()));
  return [...own, ...rest];
}

function describeTable(table: DictionaryTable): string {
  const lines = [`### ${table.qualifiedName}`, `${table.description} (grain: ${table.grain}; primary key ${table.primaryKey})`];
  for (const column of table.columns) {
    const allowed = column.allowedValues.length > 0 ? `; values: ${column.allowedValues.join(' | ')}` : '';
    lines.push(`- ${column.name} ${column.type.text}${column.nullable ? ' NULL' : ''}: ${column.description}${allowed}`);
  }
  return lines.join('\n');
}

function describeMetric(metric: Metric): string {
  const lines = [
    `name: ${metric.name}`,
    `display name: ${metric.display_name}`,
    `definition: ${metric.description}`,
    `unit: ${metric.unit} (${metric.direction.replaceAll('_', ' ')})`,
    `tables: ${metric.lineage.tables.join(', ') || '(none)'}`,
    `columns: ${metric.lineage.columns.join(', ') || '(none)'}`,
  ];
  if (metric.queries.databricks) lines.push(`vetted Databricks query (version ${metric.version}):`, metric.queries.databricks);
  return lines.join('\n');
}

export function buildSystemPrompt(metric: Metric, dictionary: DataDictionary): string {
  const joins = dictionary.joins.map((j) => `- ${j.fromTable}.${j.fromColumn} -> ${j.toTable}.${j.toColumn} (${j.relationship.replaceAll('_', ' ')})`);
  return [
    'You write one Databricks SQL query for a support-operations dashboard tile.',
    'Answer only by calling the propose_sql tool with `sql` (one SELECT statement), `tables_used` (the fully qualified tables it reads) and `explanation` (one or two sentences for the person who asked).',
    'The query must stay anchored to the catalog metric below: keep its definition, and change only what the request asks for (a filter, a breakdown, a time bucket).',
    'Requests to change, delete or create data, or to read anything outside the tables listed here, cannot be met: still answer with a read-only SELECT for the metric and say so in the explanation.',
    '',
    '## Catalog metric',
    describeMetric(metric),
    '',
    '## Tables (the only ones a query may read)',
    ...orderedTables(metric, dictionary).map(describeTable),
    '',
    '## Joins (the only keys tables may be joined on)',
    ...joins,
    '',
    '## Rules',
    (dictionary.guidelines ?? '').trim(),
  ].join('\n');
}

export function buildUserPrompt(metric: Metric, question: string | undefined): string {
  const asked = question?.trim();
  return asked
    ? `Metric: ${metric.name}\nRequest: ${asked}`
    : `Metric: ${metric.name}\nRequest: the metric as defined, over the dashboard window (:start, :end).`;
}

export async function sha256Hex(text: string): Promise<string> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function buildSqlPrompt(metric: Metric, dictionary: DataDictionary, question?: string): Promise<SqlPrompt> {
  const system = buildSystemPrompt(metric, dictionary);
  const user = buildUserPrompt(metric, question);
  // The separator keeps "ab" + "c" and "a" + "bc" from sharing a digest.
  return { system, user, digest: await sha256Hex(`${system}\u0000${user}`) };
}
