// Data dictionary text -> DataDictionary. Pure: it takes the CSVs' contents, so the worker can bundle
// them as text and tools can read them from disk. Every malformed row is reported (not just the first),
// each with its file and line.
import { CsvError, readCsvTable } from './csv.ts';
import { createDataDictionary } from './model.ts';
import { HEADERS, columnRow, formatProblem, joinRow, metricRow, tableRow } from './schema.ts';
import type { DataDictionary, DictionaryFile, Problem } from './schema.ts';
import { validateDictionary } from './validate.ts';
import type { z } from 'zod';

export { validateDictionary } from './validate.ts';
export { formatProblem } from './schema.ts';
export type { DataDictionary, Problem } from './schema.ts';

export interface DictionaryFiles {
  tables: string;
  columns: string;
  joins: string;
  metrics: string;
  /** ai_query_guidelines.md, carried along for the query builder. */
  guidelines?: string;
}

/** The files could not be read into a dictionary at all; `problems` says where and why. */
export class DictionaryParseError extends Error {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(`the data dictionary has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'DictionaryParseError';
    this.problems = problems;
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

function readFile<S extends z.ZodType<unknown, Record<string, string>>>(
  file: DictionaryFile,
  text: string,
  row: S,
  problems: Problem[],
): Array<z.output<S> & { line: number }> {
  let parsed: ReturnType<typeof readCsvTable>;
  try {
    parsed = readCsvTable(text);
  } catch (error) {
    if (error instanceof CsvError) {
      problems.push({ severity: 'error', file, line: typeof error.lines === 'number' ? error.lines : 1, message: `not valid CSV: ${error.message}` });
      return [];
    }
    throw error;
  }
  for (const problem of parsed.problems) problems.push({ severity: 'error', file, ...problem });

  const expected = HEADERS[file];
  const header = parsed.table.header;
  if (header.length > 0 && header.join(',') !== expected.join(',')) {
    const missing = expected.filter((name) => !header.includes(name));
    const extra = header.filter((name) => !expected.includes(name));
    const detail = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `unexpected ${extra.join(', ')}` : '',
      missing.length === 0 && extra.length === 0 ? 'columns out of order' : '',
    ]
      .filter(Boolean)
      .join('; ');
    problems.push({ severity: 'error', file, line: 1, message: `header must be ${expected.join(',')} (${detail})` });
    return [];
  }

  const rows: Array<z.output<S> & { line: number }> = [];
  for (const { line, record } of parsed.table.rows) {
    const result = row.safeParse(record);
    if (result.success) rows.push({ ...(result.data as z.output<S> & object), line });
    else problems.push({ severity: 'error', file, line, message: describeIssues(result.error) });
  }
  return rows;
}

/** Parses the four CSVs; throws DictionaryParseError listing every unreadable file, header or row. */
export function parseDictionary(files: DictionaryFiles): DataDictionary {
  const problems: Problem[] = [];
  const tables = readFile('tables.csv', files.tables, tableRow, problems);
  const columns = readFile('columns.csv', files.columns, columnRow, problems);
  const joins = readFile('joins.csv', files.joins, joinRow, problems);
  const metrics = readFile('metrics.csv', files.metrics, metricRow, problems);
  if (problems.length > 0) throw new DictionaryParseError(problems);
  return createDataDictionary({ tables, columns, joins, metrics, guidelines: files.guidelines ?? null });
}

/** Parse and validate in one go: the dictionary when it could be read, and every problem found. */
export function checkDictionary(files: DictionaryFiles): { dictionary: DataDictionary | null; problems: Problem[] } {
  try {
    const dictionary = parseDictionary(files);
    return { dictionary, problems: validateDictionary(dictionary) };
  } catch (error) {
    if (error instanceof DictionaryParseError) return { dictionary: null, problems: error.problems };
    throw error;
  }
}

/** Parses and validates, throwing when anything is wrong: what the worker does with its bundled copy. */
export function loadDictionary(files: DictionaryFiles): DataDictionary {
  const { dictionary, problems } = checkDictionary(files);
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (!dictionary || errors.length > 0) throw new DictionaryParseError(errors.length > 0 ? errors : problems);
  return dictionary;
}
