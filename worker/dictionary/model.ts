// The DataDictionary object: parsed rows plus the lookups the app needs (is this a table a query may
// read? what type is this column?). Names match case-insensitively, as Databricks identifiers do.
import type {
  DataDictionary,
  DictionaryColumn,
  DictionaryJoin,
  DictionaryMetric,
  DictionaryTable,
  TableLookupOptions,
} from './schema.ts';

export interface DictionaryParts {
  tables: Array<Omit<DictionaryTable, 'columns' | 'qualifiedName'>>;
  columns: DictionaryColumn[];
  joins: DictionaryJoin[];
  metrics: DictionaryMetric[];
  guidelines: string | null;
}

/**
 * Splits `a.b.c` into its parts, honouring backtick quoting (`` `a.b`.c `` is two parts, `` `` `` a
 * literal backtick). Null when the name is not well formed.
 */
export function splitQualifiedName(name: string): string[] | null {
  const parts: string[] = [];
  let i = 0;
  const source = name.trim();
  while (i <= source.length) {
    let part = '';
    if (source[i] === '`') {
      i++;
      for (;;) {
        if (i >= source.length) return null;
        if (source[i] === '`') {
          if (source[i + 1] === '`') {
            part += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += source[i];
        i++;
      }
    } else {
      while (i < source.length && source[i] !== '.' && source[i] !== '`') {
        part += source[i];
        i++;
      }
      part = part.trim();
    }
    if (part === '') return null;
    parts.push(part);
    if (i === source.length) return parts;
    if (source[i] !== '.') return null;
    i++;
  }
  return null;
}

const key = (name: string): string => name.toLowerCase();

export function createDataDictionary(parts: DictionaryParts): DataDictionary {
  const tableDefinitions: DictionaryTable[] = parts.tables.map((table) => ({
    ...table,
    qualifiedName: `${table.catalog}.${table.schema}.${table.name}`,
    columns: parts.columns.filter((column) => key(column.table) === key(table.name)),
  }));
  // First declaration wins; duplicates are for validateDictionary to report, not to shadow.
  const byName = new Map<string, DictionaryTable>();
  for (const table of tableDefinitions) if (!byName.has(key(table.name))) byName.set(key(table.name), table);
  const columnsByTable = new Map<string, Map<string, DictionaryColumn>>();
  for (const column of parts.columns) {
    const columns = columnsByTable.get(key(column.table)) ?? new Map<string, DictionaryColumn>();
    if (!columns.has(key(column.name))) columns.set(key(column.name), column);
    columnsByTable.set(key(column.table), columns);
  }
  const metricsByName = new Map<string, DictionaryMetric>();
  for (const metric of parts.metrics) if (!metricsByName.has(key(metric.name))) metricsByName.set(key(metric.name), metric);

  const table = (name: string, options: TableLookupOptions = {}): DictionaryTable | undefined => {
    const split = splitQualifiedName(name);
    if (!split || split.length > 3 || (options.qualified && split.length !== 3)) return undefined;
    const found = byName.get(key(split[split.length - 1] ?? ''));
    if (!found) return undefined;
    const [catalog, schema] = split.length === 3 ? [split[0], split[1]] : [undefined, split[0]];
    if (split.length >= 2 && key(schema ?? '') !== key(found.schema)) return undefined;
    if (split.length === 3 && key(catalog ?? '') !== key(found.catalog)) return undefined;
    return found;
  };

  return {
    tables: tableDefinitions.map((definition) => definition.name),
    tableDefinitions,
    columns: parts.columns,
    joins: parts.joins,
    metrics: parts.metrics,
    guidelines: parts.guidelines,
    table,
    column(tableName, column) {
      const found = table(tableName);
      return found ? columnsByTable.get(key(found.name))?.get(key(column)) : undefined;
    },
    isAllowedTable: (name, options) => table(name, options) !== undefined,
    metric: (name) => metricsByName.get(key(name)),
    joinsOf(tableName) {
      const found = table(tableName);
      if (!found) return [];
      const name = key(found.name);
      return parts.joins.filter((join) => key(join.fromTable) === name || key(join.toTable) === name);
    },
  };
}
