// The data dictionary: the CSV reader, the zod row models, the structural validation, the lookups,
// the dictionary:validate CLI and its --live check against the local stand-in.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDictionaryValidate } from '../../scripts/dictionary-validate.ts';
import { createDatabricksClient } from '../../worker/services/databricks/client.ts';
import { CsvError, readCsvTable } from '../../worker/dictionary/csv.ts';
import { HEADERS } from '../../worker/dictionary/schema.ts';
import { checkLakehouse, normalizeTypeText } from '../../worker/dictionary/live-check.ts';
import { DictionaryParseError, checkDictionary, formatProblem, loadDictionary, parseDictionary, validateDictionary } from '../../worker/dictionary/load.ts';
import type { DictionaryFiles } from '../../worker/dictionary/load.ts';
import { splitQualifiedName } from '../../worker/dictionary/model.ts';
import { qualifiedTablesIn } from '../../worker/dictionary/validate.ts';
import { startDatabricksStandIn } from '../stack/databricks/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = path.join(ROOT, 'data-dictionary');
const NAMES = { tables: 'tables.csv', columns: 'columns.csv', joins: 'joins.csv', metrics: 'metrics.csv' } as const;

let real: DictionaryFiles;
let scratch: string;

async function readFiles(dir: string): Promise<DictionaryFiles> {
  const read = (name: string) => readFile(path.join(dir, name), 'utf8');
  return {
    tables: await read(NAMES.tables),
    columns: await read(NAMES.columns),
    joins: await read(NAMES.joins),
    metrics: await read(NAMES.metrics),
    guidelines: await read('ai_query_guidelines.md'),
  };
}

/** A copy of the real files with one edit, checked; returns the readable problem lines. */
function problemsAfter(edit: (files: DictionaryFiles) => Partial<DictionaryFiles>): string[] {
  const { problems } = checkDictionary({ ...real, ...edit(real) });
  return problems.map(formatProblem);
}

function replaceOnce(text: string, from: string, to: string): string {
  expect(text, `fixture must contain ${from}`).toContain(from);
  return text.replace(from, to);
}

beforeAll(async () => {
  real = await readFiles(DIR);
  scratch = await mkdtemp(path.join(tmpdir(), 'dictionary-test-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('CSV reader', () => {
  it('reads every real file into the header and one record per row', () => {
    for (const name of Object.keys(NAMES) as Array<keyof typeof NAMES>) {
      const { table, problems } = readCsvTable(real[name]);
      expect(problems, name).toEqual([]);
      expect(table.header, name).toEqual(HEADERS[NAMES[name]]);
      // Data lines, less the header: no field of the real files spans a line.
      const dataLines = real[name].split('\n').filter((line) => line.trim() !== '').length - 1;
      expect(table.rows, name).toHaveLength(dataLines);
      expect(table.rows[0]?.line, name).toBe(2);
    }
  });

  it('handles RFC 4180 quoting, mixed line ends, a BOM, empty fields and blank lines, keeping start lines', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""",\r\n\r\n"multi\nline",,""\n"",2,3\n4,5';
    expect(readCsvTable(text)).toEqual({
      table: {
        header: ['a', 'b', 'c'],
        rows: [
          { line: 2, record: { a: 'x, y', b: 'say "hi"', c: '' } },
          { line: 4, record: { a: 'multi\nline', b: '', c: '' } },
          { line: 6, record: { a: '', b: '2', c: '3' } },
        ],
      },
      problems: [{ line: 7, message: 'expected 3 fields as in the header, found 2' }],
    });
    expect(readCsvTable('only\n').table).toEqual({ header: ['only'], rows: [] });
    expect(readCsvTable('').problems).toEqual([{ line: 1, message: 'the file is empty (no header row)' }]);
    expect(readCsvTable('a,a\n1,2').problems).toEqual([{ line: 1, message: 'the header names column "a" twice' }]);
  });

  it('refuses ambiguous input with the line number', () => {
    for (const text of ['a,b\n1,"open', 'a,b\n1,"x"y', 'a,b\n1,x"y']) {
      expect(() => readCsvTable(text), text).toThrow(CsvError);
      expect(() => readCsvTable(text), text).toThrow(/line 2/);
    }
  });

  it('reports unreadable CSV as a problem on the file and line', () => {
    const lines = problemsAfter((files) => ({ joins: `${files.joins}devices,"customer_id\n` }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: joins\.csv line \d+: not valid CSV: Quote Not Closed/);
  });
});

describe('the real dictionary', () => {
  it('parses and validates without a single problem', () => {
    const dictionary = parseDictionary(real);
    expect(validateDictionary(dictionary)).toEqual([]);
    expect(dictionary.tables).toEqual(['customers', 'devices', 'agents', 'interactions', 'claims', 'issue_sessions']);
    expect(dictionary.columns).toHaveLength(49);
    expect(dictionary.joins).toHaveLength(8);
    expect(dictionary.metrics).toHaveLength(13);
    expect(dictionary.guidelines).toMatch(/Databricks SQL/);
    expect(loadDictionary(real).tables).toHaveLength(6);
  });

  it('types every field: enums, booleans, lists and Databricks types', () => {
    const dictionary = parseDictionary(real);
    expect(dictionary.column('claims', 'claim_cost')).toMatchObject({
      type: { kind: 'DECIMAL', text: 'DECIMAL(12,2)', precision: 12, scale: 2 },
      nullable: false,
      allowedValues: [],
    });
    expect(dictionary.column('interactions', 'csat')).toMatchObject({ type: { kind: 'INT' }, nullable: true, allowedValues: ['1', '2', '3', '4', '5'] });
    expect(dictionary.column('claims', 'status')?.allowedValues).toEqual(['open', 'approved', 'denied', 'fulfilled', 'cancelled']);
    expect(dictionary.table('claims')).toMatchObject({ catalog: 'workspace', schema: 'support_l3', primaryKey: 'claim_id', qualifiedName: 'workspace.support_l3.claims' });
    expect(dictionary.table('claims')?.columns).toHaveLength(11);
    const utilization = dictionary.metric('agent_utilization');
    expect(utilization).toMatchObject({ unit: 'percent', direction: 'higher_is_better', tables: ['interactions', 'agents'] });
    expect(utilization?.columns).toContain('agents.agent_id');
    expect(dictionary.metric('open_alerts')).toMatchObject({ tables: [], columns: [], databricksSql: null });
    expect(dictionary.joins[0]).toMatchObject({ fromTable: 'devices', fromColumn: 'customer_id', toTable: 'customers', toColumn: 'customer_id', relationship: 'many_to_one' });
  });

  it('answers the lookups the app needs', () => {
    const dictionary = parseDictionary(real);
    expect(dictionary.isAllowedTable('claims')).toBe(true);
    expect(dictionary.isAllowedTable('workspace.support_l3.claims')).toBe(true);
    expect(dictionary.isAllowedTable('`Workspace`.`support_l3`.CLAIMS')).toBe(true);
    expect(dictionary.isAllowedTable('claims', { qualified: true })).toBe(false);
    expect(dictionary.isAllowedTable('workspace.support_l3.claims', { qualified: true })).toBe(true);
    expect(dictionary.isAllowedTable('other.support_l3.claims')).toBe(false);
    expect(dictionary.isAllowedTable('workspace.information_schema.columns')).toBe(false);
    expect(dictionary.isAllowedTable('refunds')).toBe(false);
    expect(dictionary.isAllowedTable('support_l3.claims.extra')).toBe(false);
    expect(dictionary.column('workspace.support_l3.claims', 'Opened_At')?.type.kind).toBe('TIMESTAMP');
    expect(dictionary.column('claims', 'refund_total')).toBeUndefined();
    expect(dictionary.joinsOf('devices').map((join) => `${join.fromTable}->${join.toTable}`)).toEqual([
      'devices->customers',
      'interactions->devices',
      'claims->devices',
      'issue_sessions->devices',
    ]);
    expect(splitQualifiedName('`a.b`.c')).toEqual(['a.b', 'c']);
    expect(splitQualifiedName('a..b')).toBeNull();
    expect(qualifiedTablesIn("SELECT x FROM workspace.support_l3.claims c JOIN `workspace`.`support_l3`.`agents` a WHERE c.y = 'a.b.c'")).toEqual([
      'workspace.support_l3.claims',
      'workspace.support_l3.agents',
    ]);
  });
});

describe('broken dictionaries', () => {
  it('reports a join to a missing column', () => {
    const lines = problemsAfter((f) => ({ joins: replaceOnce(f.joins, 'devices,customer_id,customers,customer_id', 'devices,owner_id,customers,customer_id') }));
    expect(lines).toContain('error: joins.csv line 2: join devices.owner_id -> customers.customer_id: source column devices.owner_id is not declared in columns.csv');
  });

  it('reports a join between incompatible types and one not ending at a primary key', () => {
    const lines = problemsAfter((f) => ({ joins: `${f.joins.trimEnd()}\nclaims,claim_cost,customers,customer_id,many_to_one\nclaims,region,customers,region,many_to_one\n` }));
    expect(lines).toContain('error: joins.csv line 10: join claims.claim_cost -> customers.customer_id: joins DECIMAL(12,2) to STRING; join keys need compatible types');
    expect(lines).toContain('error: joins.csv line 11: join claims.region -> customers.region: a many_to_one join must end at the primary key of customers (customer_id)');
  });

  it('reports a metric that reads a missing table', () => {
    const lines = problemsAfter((f) => ({
      metrics: replaceOnce(f.metrics, 'points,higher_is_better,issue_sessions,', 'points,higher_is_better,issue_sessions|refunds,'),
    }));
    expect(lines).toContain('error: metrics.csv line 2: metric nps_impact: table refunds is not declared in tables.csv');

    const sql = problemsAfter((f) => ({ metrics: replaceOnce(f.metrics, 'FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY product', 'FROM workspace.support_l3.refunds WHERE opened_at >= :start AND opened_at < :end GROUP BY product') }));
    expect(sql.some((line) => /metric claims_by_product: databricks_sql reads workspace\.support_l3\.refunds, which is not a table in tables\.csv/.test(line))).toBe(true);

    const column = problemsAfter((f) => ({ metrics: replaceOnce(f.metrics, 'claims.claim_id|claims.opened_at', 'claims.refund_id|claims.opened_at') }));
    expect(column).toContain('error: metrics.csv line 4: metric claim_volume: column claims.refund_id is not declared in columns.csv');
  });

  it('reports a duplicate column', () => {
    const lines = problemsAfter((f) => ({ columns: `${f.columns.trimEnd()}\nclaims,region,STRING,false,Region again,\n` }));
    expect(lines).toContain('error: columns.csv line 51: column claims.region: is declared twice (first on line 37)');
  });

  it('reports a bad type as a readable parse problem', () => {
    const lines = problemsAfter((f) => ({ columns: replaceOnce(f.columns, 'claims,claim_cost,"DECIMAL(12,2)"', 'claims,claim_cost,MONEY') }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: columns\.csv line 40: type: unsupported Databricks type "MONEY" \(expected one of STRING, .* or DECIMAL\(p,s\)/);
    expect(() => parseDictionary({ ...real, columns: replaceOnce(real.columns, '"DECIMAL(12,2)"', '"DECIMAL(40,2)"') })).toThrow(DictionaryParseError);
  });

  it('reports a table whose primary key column is missing', () => {
    const lines = problemsAfter((f) => ({ columns: replaceOnce(f.columns, 'customers,customer_id,STRING,false,Customer account identifier (primary key),\n', '') }));
    expect(lines).toContain('error: tables.csv line 2: table customers: primary key customer_id is not a column declared for it in columns.csv');
    expect(lines.some((line) => line.includes('target column customers.customer_id is not declared'))).toBe(true);
  });

  it('reports other row and file mistakes', () => {
    const lines = problemsAfter((f) => ({
      tables: replaceOnce(f.tables, 'workspace,support_l3,agents,', 'workspace,support_l3,Agents,'),
      columns: `${f.columns.trimEnd()}\nrefunds,refund_id,STRING,maybe,Refund,\nclaims,opened_on,DATE,false,Day opened,2025-01-01\n`,
      metrics: replaceOnce(f.metrics, 'count,lower_is_better,claims,claims.claim_id', 'pieces,lower_is_worse,claims,claims.claim_id'),
      joins: 'from_table,to_table\ndevices,customers\n',
    }));
    expect(lines).toContain('error: tables.csv line 4: table: must be a lower-case identifier (a-z, 0-9, _)');
    expect(lines).toContain('error: columns.csv line 51: nullable: must be true or false');
    expect(lines.some((line) => line.startsWith('error: metrics.csv line 4: unit: ') && line.includes('direction: '))).toBe(true);
    expect(lines).toContain('error: joins.csv line 1: header must be from_table,from_column,to_table,to_column,relationship (missing from_column, to_column, relationship)');

    const structural = problemsAfter((f) => ({ columns: `${f.columns.trimEnd()}\nrefunds,refund_id,STRING,false,Refund,\nclaims,opened_on,DATE,false,Day opened,2025-01-01\n` }));
    expect(structural).toContain('error: columns.csv line 51: column refunds.refund_id: table refunds is not declared in tables.csv');
    expect(structural).toContain('error: columns.csv line 52: column claims.opened_on: allowed_values are only for STRING (or integer-coded) columns, not DATE');
  });
});

describe('dictionary:validate CLI', () => {
  const run = promisify(execFile);
  const node = path.join(ROOT, 'node_modules/.bin/node');
  const script = path.join(ROOT, 'scripts/dictionary-validate.ts');

  it('exits 0 on the real files and non-zero on a broken copy', async () => {
    const ok = await run(node, [script, '--dir', DIR], { cwd: ROOT });
    expect(ok.stdout).toMatch(/6 tables, 49 columns, 8 joins, 13 metrics: structure ok/);

    const broken = path.join(scratch, 'broken');
    await cp(DIR, broken, { recursive: true });
    await writeFile(path.join(broken, 'joins.csv'), replaceOnce(real.joins, 'claims,device_id,devices,device_id', 'claims,device_id,devices,serial'));
    const failed = await run(node, [script, '--dir', broken], { cwd: ROOT }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('error: joins.csv line 7: join claims.device_id -> devices.serial: target column devices.serial is not declared in columns.csv');
  });

  it('--live checks the lakehouse through the client, starting the stand-in itself', async () => {
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const code = await runDictionaryValidate(['--dir', DIR, '--live'], {}, out);
    expect(lines.join('\n')).toMatch(/live check: 0 errors, 0 warnings/);
    expect(code).toBe(0);
  });

  it('the live check reports missing tables, missing columns, wrong types and extras', async () => {
    const token = 'dapi-live-check-token';
    const standIn = await startDatabricksStandIn({ token, dictionaryDir: DIR, chunkRows: 100 });
    try {
      const drifted = parseDictionary({
        ...real,
        tables: `${real.tables.trimEnd()}\nworkspace,support_l3,refunds,Refunds,refund_id,one row per refund\n`,
        columns: replaceOnce(
          real.columns,
          'claims,region,STRING,false,Region of the customer when the claim was filed,NA-East|NA-West|EMEA|APAC|LATAM\n',
          '',
        )
          .replace('claims,claim_cost,"DECIMAL(12,2)"', 'claims,claim_cost,"DECIMAL(10,2)"')
          .concat('claims,refund_total,DOUBLE,true,Refunded amount,\nrefunds,refund_id,STRING,false,Refund id,\n'),
      });
      const client = createDatabricksClient({ host: standIn.url, token, warehouseId: standIn.warehouseId, catalog: 'workspace', schema: 'support_l3' });
      const lines = (await checkLakehouse(drifted, client, { timeoutMs: 10_000 })).map(formatProblem);
      expect(lines).toContain('error: columns.csv line 39: column claims.claim_cost: declared DECIMAL(10,2) but the lakehouse has DECIMAL(12,2)');
      expect(lines).toContain('error: columns.csv line 50: column claims.refund_total: does not exist in the lakehouse');
      expect(lines.some((line) => /^error: tables\.csv line 8: table refunds: cannot be read at workspace\.support_l3\.refunds: \[TABLE_OR_VIEW_NOT_FOUND\]/.test(line))).toBe(true);
      expect(lines).toContain('warning: workspace.support_l3.claims has column region (STRING) that columns.csv does not describe');
    } finally {
      await standIn.close();
    }
    expect(normalizeTypeText('decimal(12, 2)')).toBe('DECIMAL(12,2)');
    expect(normalizeTypeText('LONG')).toBe('BIGINT');
    expect(normalizeTypeText('integer')).toBe('INT');
  });
});
