/**
 * The filtered list as CSV: streamed a keyset chunk at a time (the worker never holds the whole
 * file), bounded at EXPORT_MAX_ROWS, and labelled with its filters, window, sort and as-of in
 * `#` comment lines before the header, so a file found later still says what it is.
 */
import { countCalls, EXPORT_COLUMNS, fetchPage } from './calls.ts';
import type { Sort } from './calls.ts';
import { canonicalFilters } from './filters.ts';
import type { ParsedFilters } from './filters.ts';
import { unavailable } from './run.ts';
import type { Run } from './run.ts';

export const EXPORT_MAX_ROWS = 50_000;
/** Rows per statement; the SQL safety layer caps any statement at 10,000. */
const CHUNK_ROWS = 5_000;
const CHUNK_TIMEOUT_MS = 30_000;

/** A CSV field: quoted when it must be; text a spreadsheet would run as a formula is defused. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (values: readonly unknown[]) => `${values.map(csvField).join(',')}\r\n`;

export async function exportResponse(run: Run, parsed: ParsedFilters, sort: Sort): Promise<Response> {
  const window = parsed.period.current;
  const filters = canonicalFilters(parsed.filters);
  const asOf = new Date().toISOString();
  let first: Array<Record<string, unknown>>;
  let total: number;
  // The first chunk and the count run before the response starts, so a lakehouse failure is a 503, not a cut file.
  try {
    [first, total] = await Promise.all([
      fetchPage(run, { filters: parsed.filters, window, sort, limit: Math.min(CHUNK_ROWS, EXPORT_MAX_ROWS) }, CHUNK_TIMEOUT_MS),
      countCalls(run, parsed.filters, window),
    ]);
  } catch (err) {
    return unavailable(err, 'The export', run.log);
  }
  const rows = Math.min(total, EXPORT_MAX_ROWS);
  const header = [
    `# Command Center contacts export`,
    `# as_of: ${asOf}`,
    `# window: ${window.start.toISOString()} to ${window.end.toISOString()} (${parsed.period.period})`,
    `# filters: ${Object.entries(filters).map(([k, v]) => `${k}=${v}`).join('; ') || 'none'}`,
    `# sort: ${sort}`,
    `# rows: ${rows} of ${total}${total > EXPORT_MAX_ROWS ? ` (capped at ${EXPORT_MAX_ROWS}; narrow the filters for the rest)` : ''}`,
  ].map((l) => `${l.replaceAll(/[\r\n]/g, ' ')}\r\n`);

  const encoder = new TextEncoder();
  let chunk: Array<Record<string, unknown>> | null = first;
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(header.join('') + line(EXPORT_COLUMNS)));
    },
    async pull(controller) {
      try {
        if (!chunk) {
          controller.close();
          return;
        }
        const take = chunk.slice(0, EXPORT_MAX_ROWS - sent);
        controller.enqueue(encoder.encode(take.map((r) => line(EXPORT_COLUMNS.map((c) => r[c]))).join('')));
        sent += take.length;
        const last = chunk.at(-1);
        if (chunk.length < CHUNK_ROWS || sent >= EXPORT_MAX_ROWS || !last) {
          chunk = null;
          return;
        }
        chunk = await fetchPage(
          run,
          { filters: parsed.filters, window, sort, after: [last.cc_sort as string | number, String(last.interaction_id)], limit: Math.min(CHUNK_ROWS, EXPORT_MAX_ROWS - sent) },
          CHUNK_TIMEOUT_MS,
        );
        if (chunk.length === 0) chunk = null;
      } catch (err) {
        // Too late for a status: the file says it is incomplete, in its own comment syntax.
        run.log.warn('export interrupted', { sent, error: err });
        controller.enqueue(encoder.encode(`# error: the export stopped after ${sent} rows: ${err instanceof Error ? err.message.replaceAll(/[\r\n]/g, ' ') : 'unknown'}\r\n`));
        controller.close();
      }
    },
  });
  const stamp = asOf.slice(0, 19).replaceAll(':', '-');
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="contacts-${stamp}.csv"`,
      'cache-control': 'no-store',
      'x-export-rows': String(rows),
      'x-export-total': String(total),
    },
  });
}
