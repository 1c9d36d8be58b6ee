import { readCsvTable } from '../dictionary/csv.ts';
import { policyFromTables } from './allowlist.ts';
import type { PolicyOptions, SafetyPolicy } from './allowlist.ts';

/** The lakehouse tables described by the dictionary's `tables.csv` (columns catalog, schema, table, ...). */
export interface DictionaryTables {
  catalog: string;
  schema: string;
  tables: string[];
}

/**
 * Reads `tables.csv` text. The safety policy covers one catalog and schema, so a dictionary that
 * spans several is an error rather than a silently narrowed allowlist.
 */
export function dictionaryTables(csvText: string): DictionaryTables {
  const { table: csv, problems } = readCsvTable(csvText);
  if (problems.length > 0) throw new Error(`tables.csv: ${problems.map((p) => p.message).join('; ')}`);
  const rows = csv.rows.map((r) => r.record as Record<string, string | undefined>);
  const locations = new Set<string>();
  const tables: string[] = [];
  for (const [i, row] of rows.entries()) {
    const { catalog, schema, table } = row;
    if (!catalog || !schema || !table) throw new Error(`tables.csv row ${i + 2}: catalog, schema and table are required`);
    locations.add(`${catalog}\n${schema}`);
    tables.push(table);
  }
  const [location, ...others] = locations;
  if (!location) throw new Error('tables.csv lists no tables');
  if (others.length > 0) throw new Error(`tables.csv spans several schemas (${[...locations].map((l) => l.replace('\n', '.')).join(', ')}); the SQL safety policy covers one`);
  const [catalog, schema] = location.split('\n') as [string, string];
  return { catalog, schema, tables };
}

/** The safety policy for the dictionary's tables. */
export function policyFromDictionaryCsv(csvText: string, opts: Pick<PolicyOptions, 'maxLimit'> = {}): SafetyPolicy {
  const { catalog, schema, tables } = dictionaryTables(csvText);
  return policyFromTables(tables, { ...opts, catalog, schema });
}
