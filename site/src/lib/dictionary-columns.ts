import { bundledDictionary } from '../../../worker/config/bundled.ts';
import { columnInfo } from './column-info.ts';
import type { ColumnInfoMap } from './column-info.ts';

/**
 * Server-side only: the headers for the columns of `tables`, from the dictionary bundled into the
 * worker. A page passes the result to its island, so the browser gets a few labels, not the
 * dictionary.
 */
export function dictionaryColumns(tables: readonly string[]): ColumnInfoMap {
  const wanted = new Set(tables);
  const map: ColumnInfoMap = {};
  for (const c of bundledDictionary().columns) {
    if (wanted.has(c.table)) map[`${c.table}.${c.name}`] = columnInfo(c);
  }
  return map;
}
