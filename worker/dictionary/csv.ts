// The data dictionary's CSVs as header + rows, read by csv-parse (RFC 4180: quoted fields with ""
// escapes and embedded line breaks, a leading BOM, blank lines skipped). Its `sync` build needs only
// the global Buffer, which workerd provides under nodejs_compat. What csv-parse refuses (a stray quote,
// text after a closing quote, an unterminated quote) surfaces as its CsvError, which names the line.
import { parse } from 'csv-parse/sync';

export { CsvError } from 'csv-parse/sync';

export interface CsvTable {
  header: string[];
  rows: Array<{ line: number; record: Record<string, string> }>;
}

/** Problems with a table's shape, each tied to a line. */
export interface CsvShapeProblem {
  line: number;
  message: string;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

const LINE_BREAK = /\r\n|\n|\r/g;

/** csv-parse reports the line a record ends on; people look for the line it starts on. */
function startLine({ record, info }: ParsedRecord): number {
  let breaks = 0;
  for (const value of record) breaks += value.match(LINE_BREAK)?.length ?? 0;
  return info.lines - breaks;
}

/**
 * Header + rows as objects. Rows with the wrong number of fields are reported rather than padded:
 * a shifted column would otherwise pass as valid data. Throws CsvError when the text is not CSV.
 */
export function readCsvTable(text: string): { table: CsvTable; problems: CsvShapeProblem[] } {
  const records = parse(text, {
    bom: true,
    skip_empty_lines: true,
    // Field counts are checked below, so every short or long row is reported, not just the first.
    relax_column_count: true,
    // Any line end, mixed within a file (csv-parse otherwise fixes the first one it sees).
    record_delimiter: ['\r\n', '\n', '\r'],
    info: true,
    // csv-parse's types do not model `info: true`, which wraps each record with its position.
  }) as unknown as ParsedRecord[];
  const [head, ...body] = records;
  if (!head) return { table: { header: [], rows: [] }, problems: [{ line: 1, message: 'the file is empty (no header row)' }] };
  const header = head.record.map((name) => name.trim());
  const problems: CsvShapeProblem[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) problems.push({ line: startLine(head), message: `the header names column "${name}" twice` });
    seen.add(name);
  }
  const rows: CsvTable['rows'] = [];
  for (const parsed of body) {
    const line = startLine(parsed);
    const values = parsed.record;
    if (values.length !== header.length) {
      problems.push({ line, message: `expected ${header.length} fields as in the header, found ${values.length}` });
      continue;
    }
    // fromEntries defines own properties, so a header named __proto__ stays a plain key.
    const record: Record<string, string> = Object.fromEntries(header.map((name, index) => [name, values[index] ?? '']));
    rows.push({ line, record });
  }
  return { table: { header, rows }, problems };
}
