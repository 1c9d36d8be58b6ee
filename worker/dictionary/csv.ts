// A small RFC 4180 reader for the data dictionary. It is pure string work so it bundles into workerd
// without Node's Buffer (csv-parse's Node build needs it at module load) and without a dependency.
// Accepts CRLF or LF line ends, quoted fields with "" escapes and embedded line breaks, a leading BOM,
// and blank lines (skipped). Anything ambiguous — a stray quote, text after a closing quote, an
// unterminated quote — is an error naming the line, rather than a guess.

export interface CsvRecord {
  /** 1-based line on which the record starts, for messages people can act on. */
  line: number;
  values: string[];
}

export class CsvSyntaxError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let values: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // Whether the current record has any content, so blank lines can be told from a record of one empty field.
  let touched = false;

  const endRecord = (): void => {
    values.push(field);
    if (touched) records.push({ line: recordLine, values });
    values = [];
    field = '';
    touched = false;
  };

  while (i < source.length) {
    const c = source[i];
    if (c === '"') {
      if (field !== '') throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      touched = true;
      const openedOn = line;
      i++;
      for (;;) {
        if (i >= source.length) throw new CsvSyntaxError(openedOn, 'a quoted field is never closed');
        const q = source[i];
        if (q === '"') {
          if (source[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      const next = source[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvSyntaxError(line, 'text after the closing quote of a field');
      }
      // The closing quote settles the field even if it is empty, so `""` is not mistaken for a blank line.
      if (next === ',') {
        values.push(field);
        field = '';
        i++;
      }
      continue;
    }
    if (c === ',') {
      touched = true;
      values.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      i += c === '\r' && source[i + 1] === '\n' ? 2 : 1;
      endRecord();
      line++;
      recordLine = line;
      continue;
    }
    touched = true;
    field += c;
    i++;
  }
  if (touched || field !== '' || values.length > 0) endRecord();
  return records;
}

export interface CsvTable {
  header: string[];
  rows: Array<{ line: number; record: Record<string, string> }>;
}

/** Problems with a table's shape, each tied to a line. */
export interface CsvShapeProblem {
  line: number;
  message: string;
}

/**
 * Header + rows as objects. Rows with the wrong number of fields are reported rather than padded:
 * a shifted column would otherwise pass as valid data.
 */
export function readCsvTable(text: string): { table: CsvTable; problems: CsvShapeProblem[] } {
  const [head, ...body] = parseCsv(text);
  if (!head) return { table: { header: [], rows: [] }, problems: [{ line: 1, message: 'the file is empty (no header row)' }] };
  const header = head.values.map((name) => name.trim());
  const problems: CsvShapeProblem[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) problems.push({ line: head.line, message: `the header names column "${name}" twice` });
    seen.add(name);
  }
  const rows: CsvTable['rows'] = [];
  for (const { line, values } of body) {
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
