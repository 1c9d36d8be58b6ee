import type { ValueFormat } from './format.ts';

/**
 * What a table header says about a lakehouse column: a short label taken from the data
 * dictionary's description, the whole description for the hover, and how its values read.
 * Pages build these on the server from the bundled dictionary and hand islands only the tables
 * they show, so no dictionary travels to the browser.
 */
export interface ColumnInfo {
  label: string;
  description: string;
  format: ValueFormat;
}

/** Keyed `table.column`. */
export type ColumnInfoMap = Record<string, ColumnInfo>;

/** A dictionary column as the worker's loader has it. */
export interface DictionaryColumn {
  name: string;
  description: string;
  type: { kind: string };
}

const MAX_LABEL = 32;

/** `claim_cost` → `Claim cost`: the fallback when a description does not make a header. */
export function humanize(column: string): string {
  const text = column.replace(/_/g, ' ').replace(/\bid\b/g, 'ID').replace(/\bnps\b/gi, 'NPS').replace(/\bcsat\b/gi, 'CSAT');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The description's first clause, without its asides: "Cost avoided in USD by repairing or
 * troubleshooting instead of replacing" → "Cost avoided". A description that is a sentence about
 * a flag ("True when …") or stays long after trimming gives way to the column's own name.
 */
export function labelFromDescription(column: string, description: string): string {
  if (/^true when/i.test(description)) return humanize(column);
  let text = description.split(/[;,]/)[0]!.replace(/\s*\([^)]*\)/g, '').replace(/\s+in (USD|seconds)\b/, '').trim();
  if (text.length > MAX_LABEL) {
    const cut = text.search(/\s(when|by|from|instead|as)\s/);
    if (cut > 0) text = text.slice(0, cut);
  }
  if (text === '' || text.length > MAX_LABEL) return humanize(column);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatOf(column: DictionaryColumn): ValueFormat {
  const kind = column.type.kind;
  if (kind === 'TIMESTAMP' || kind === 'TIMESTAMP_NTZ') return 'time';
  if (kind === 'DATE') return 'date';
  if (kind === 'BOOLEAN') return 'boolean';
  if (/\bUSD\b/.test(column.description)) return 'money';
  if (column.name.endsWith('_seconds')) return 'duration';
  if (kind === 'DOUBLE' || kind === 'FLOAT') return 'signed';
  if (['TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'DECIMAL'].includes(kind)) return 'number';
  if (/identifier|^Agent who|^Customer who|^Device the|joins /i.test(column.description) && column.name.endsWith('_id')) return 'id';
  return 'text';
}

export function columnInfo(column: DictionaryColumn): ColumnInfo {
  return { label: labelFromDescription(column.name, column.description), description: column.description, format: formatOf(column) };
}

/** The header for a column the map does not know (a Postgres-only column): its name, readable. */
export function fallbackInfo(column: string, sample: unknown): ColumnInfo {
  const format: ValueFormat =
    typeof sample === 'number' ? 'number' : typeof sample === 'boolean' ? 'boolean' : typeof sample === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(sample) ? 'time' : 'text';
  return { label: humanize(column), description: column, format };
}
