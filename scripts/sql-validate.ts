import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { policyFromDictionaryCsv } from '../worker/sqlgen/dictionary-tables.ts';
import { checkSql } from '../worker/sqlgen/safety.ts';
import type { SafetyPolicy, SafetyVerdict } from '../worker/sqlgen/safety.ts';

/**
 * `npm run -s sql:validate`: runs the SQL safety layer over JSON Lines on stdin, one
 * `{"sql": "..."}` per line, and writes one verdict per line to stdout. A line that is not such an
 * object gets `{"ok": false, "code": "bad_input"}` and the run goes on; blank lines are skipped.
 * The policy is the dictionary's `tables.csv`.
 */

export const TABLES_CSV = new URL('../data-dictionary/tables.csv', import.meta.url);

type BadInput = { ok: false; code: 'bad_input'; detail: string };

export function verdictForLine(line: string, policy: SafetyPolicy): SafetyVerdict | BadInput {
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch (e) {
    return { ok: false, code: 'bad_input', detail: `not JSON: ${(e as Error).message}` };
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input) || typeof (input as { sql?: unknown }).sql !== 'string') {
    return { ok: false, code: 'bad_input', detail: 'expected an object with a string "sql" field' };
  }
  return checkSql((input as { sql: string }).sql, policy);
}

/** Validates every line of `input`; resolves with the number of lines answered. */
export async function validateStream(input: Readable, output: Writable, policy: SafetyPolicy): Promise<number> {
  let answered = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const ok = output.write(`${JSON.stringify(verdictForLine(line, policy))}\n`);
    answered++;
    if (!ok) await new Promise((resolve) => output.once('drain', resolve));
  }
  return answered;
}

async function main(): Promise<void> {
  const policy = policyFromDictionaryCsv(await readFile(TABLES_CSV, 'utf8'));
  await validateStream(process.stdin, process.stdout, policy);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`sql-validate: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
