// Reads a data dictionary folder from disk into the texts worker/dictionary/load.ts parses. Node-only, so
// it lives here rather than under worker/: with nodejs_compat a node:fs import would still bundle into
// the worker and only fail once it ran. The worker gets the same texts bundled instead.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DictionaryFiles } from '../worker/dictionary/load.ts';

/** The repository's own data-dictionary/ folder. */
export const DICTIONARY_DIR = fileURLToPath(new URL('../data-dictionary/', import.meta.url));

/**
 * The four CSVs (each required) and ai_query_guidelines.md (optional: only the query builder needs it).
 * Throws the file system's error when a CSV cannot be read; the contents are left for
 * `checkDictionary`/`loadDictionary` to judge.
 */
export function readDictionaryDir(dir: string): DictionaryFiles {
  const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
  const files: DictionaryFiles = {
    tables: read('tables.csv'),
    columns: read('columns.csv'),
    joins: read('joins.csv'),
    metrics: read('metrics.csv'),
  };
  try {
    files.guidelines = read('ai_query_guidelines.md');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return files;
}
