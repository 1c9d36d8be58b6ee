import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { dictionaryTables, policyFromDictionaryCsv } from '../../worker/sqlgen/dictionary-tables.ts';
import { lex } from '../../worker/sqlgen/lexer.ts';
import { checkSql, DEFAULT_MAX_LIMIT, MAX_SQL_LENGTH, policyFromTables } from '../../worker/sqlgen/safety.ts';
import type { SafetyVerdict } from '../../worker/sqlgen/safety.ts';
import { ATTACKS, METRIC_QUERIES, VALID } from './sql-safety-corpus.ts';
import type { ValidCase } from './sql-safety-corpus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TABLES = ['customers', 'devices', 'agents', 'interactions', 'claims', 'issue_sessions'];
const policy = policyFromTables(TABLES);
const fq = (table: string) => `workspace.support_l3.${table}`;

const TOP_LIMIT = /\bLIMIT\s+(\d+)(\s+OFFSET\s+\d+)?$/i;

/** The input itself when it already ends in a small enough LIMIT, else the input plus the default one. */
function expectedSql(c: ValidCase): string {
  if (c.expect !== undefined) return c.expect;
  const m = TOP_LIMIT.exec(c.sql);
  return m && Number(m[1]) <= DEFAULT_MAX_LIMIT ? c.sql : `${c.sql} LIMIT ${DEFAULT_MAX_LIMIT}`;
}

function passed(v: SafetyVerdict): Extract<SafetyVerdict, { ok: true }> {
  if (!v.ok) throw new Error(`expected a pass, got ${v.code}: ${v.detail}`);
  return v;
}

interface DictionaryMetric {
  metric_name: string;
  tables: string;
  databricks_sql: string;
}

const metricsCsv = async () =>
  (parse(await readFile(new URL('../../data-dictionary/metrics.csv', import.meta.url)), { columns: true }) as DictionaryMetric[]).filter(
    (m) => m.databricks_sql !== '',
  );

describe('SQL safety corpus', () => {
  it('is broad: at least 80 valid queries and 80 attacks, with unique names', () => {
    expect(VALID.length).toBeGreaterThanOrEqual(80);
    expect(ATTACKS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(VALID.map((c) => c.name)).size).toBe(VALID.length);
    expect(new Set(ATTACKS.map((c) => c.name)).size).toBe(ATTACKS.length);
  });

  it('covers every rejection code', () => {
    const codes = new Set(ATTACKS.map((a) => a.code));
    for (const code of ['multiple_statements', 'not_select', 'table_not_allowed', 'forbidden_construct', 'forbidden_function', 'unparseable', 'empty']) {
      expect(codes).toContain(code);
    }
  });

  it("holds the dictionary's twelve metric queries verbatim", async () => {
    const dictionary = await metricsCsv();
    expect(dictionary).toHaveLength(12);
    expect(METRIC_QUERIES.map((m) => m.sql)).toEqual(dictionary.map((m) => m.databricks_sql));
  });
});

describe('valid queries pass', () => {
  it.each(VALID.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const v = passed(checkSql(c.sql, policy));
    expect(v.tables).toEqual([...new Set(c.tables)].map(fq).sort());
    expect(v.sql).toBe(expectedSql(c));
    // The checked SQL is itself accepted unchanged: the edits are stable.
    expect(checkSql(v.sql, policy)).toEqual(v);
  });
});

describe('attacks are refused', () => {
  it.each(ATTACKS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const v = checkSql(c.sql, policy);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect({ code: v.code, detail: v.detail }).toEqual({ code: c.code, detail: expect.any(String) });
    expect(v.detail.length).toBeGreaterThan(0);
  });
});

describe('metrics.csv', () => {
  it('every databricks_sql passes, reads its lineage tables, and comes back as written plus a LIMIT', async () => {
    for (const m of await metricsCsv()) {
      const v = passed(checkSql(m.databricks_sql, policy));
      expect(v.tables, m.metric_name).toEqual(m.tables.split('|').map(fq).sort());
      expect(v.sql.startsWith(m.databricks_sql.replace(/\s+LIMIT\s+\d+$/i, ''))).toBe(true);
      expect(v.sql).toMatch(TOP_LIMIT);
    }
  });
});

describe('LIMIT handling', () => {
  const small = policyFromTables(TABLES, { maxLimit: 100 });
  const q = 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at DESC';

  it('adds the maximum when there is none', () => {
    expect(passed(checkSql(q, small)).sql).toBe(`${q} LIMIT 100`);
  });

  it('keeps a smaller LIMIT and lowers a larger one', () => {
    expect(passed(checkSql(`${q} LIMIT 50`, small)).sql).toBe(`${q} LIMIT 50`);
    expect(passed(checkSql(`${q} LIMIT 100`, small)).sql).toBe(`${q} LIMIT 100`);
    expect(passed(checkSql(`${q} LIMIT 101`, small)).sql).toBe(`${q} LIMIT 100`);
    expect(passed(checkSql(`${q} LIMIT 500 OFFSET 20`, small)).sql).toBe(`${q} LIMIT 100 OFFSET 20`);
  });

  it('bounds the whole set operation, not its last branch', () => {
    const union = 'SELECT claim_id FROM workspace.support_l3.claims UNION ALL SELECT session_id FROM workspace.support_l3.issue_sessions';
    expect(passed(checkSql(`${union} LIMIT 5000`, small)).sql).toBe(`${union} LIMIT 100`);
  });

  it('every valid query comes back with a top-level literal LIMIT within the maximum', () => {
    for (const c of VALID) {
      const m = TOP_LIMIT.exec(passed(checkSql(c.sql, small)).sql);
      expect(m, c.name).not.toBeNull();
      expect(Number(m![1]), c.name).toBeLessThanOrEqual(100);
    }
  });

  it('is not fooled by LIMIT inside strings or comments', () => {
    const sql = "SELECT 'LIMIT 5' AS s FROM workspace.support_l3.claims /* LIMIT 5 */";
    expect(passed(checkSql(sql, small)).sql).toBe("SELECT 'LIMIT 5' AS s FROM workspace.support_l3.claims LIMIT 100");
  });
});

describe('returned SQL', () => {
  it('is the original text, not a regenerated statement', () => {
    const sql = 'SELECT `c`.`region` AS `label`, date_format(opened_at, "yyyy") AS y /* keep */ FROM `workspace`.support_l3.claims AS `c`';
    expect(passed(checkSql(sql, policy)).sql).toBe(`${sql} LIMIT 10000`);
  });

  it('accepts named parameters anywhere and leaves them for the data path', () => {
    const sql = 'SELECT :label AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at BETWEEN :start AND :end';
    expect(passed(checkSql(sql, policy)).sql).toBe(`${sql} LIMIT 10000`);
  });

  it('treats "SELECT 1 -- ; DROP TABLE x" as one harmless statement', () => {
    expect(checkSql('SELECT 1 -- ; DROP TABLE x', policy)).toEqual({ ok: true, sql: 'SELECT 1 LIMIT 10000', tables: [] });
  });

  it('lists each table once, fully qualified and sorted', () => {
    const sql = 'SELECT * FROM claims a JOIN support_l3.claims b ON true JOIN WORKSPACE.support_l3.Agents g ON true';
    expect(passed(checkSql(sql, policy)).tables).toEqual([fq('agents'), fq('claims')]);
  });

  it('refuses statements longer than the bound', () => {
    expect(checkSql(`SELECT 1${' '.repeat(MAX_SQL_LENGTH)}`, policy)).toMatchObject({ ok: false, code: 'unparseable' });
  });
});

describe('mutated corpus', () => {
  /** mulberry32: a seeded generator, so a failure reproduces. */
  const generator = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const FRAGMENTS = [
    ';', "'", '"', '`', '--', '/*', '*/', '(', ')', '\n', '\\', ':', ',', '.', 'LIMIT 5', 'OFFSET 2', 'INTERVAL 3 DAYS',
    ' UNION ALL SELECT * FROM system.access.audit', ' reflect(', ' DROP TABLE claims', 'system.', 'WITH q AS (SELECT 1) ',
  ];

  it('never throws; whatever passes is one statement, bounded, allowlisted and stable', () => {
    const random = generator(20_260_506);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const sources = [...VALID, ...ATTACKS].map((c) => c.sql);
    for (let n = 0; n < 3_000; n++) {
      let sql = pick(sources);
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
        const at = Math.floor(random() * (sql.length + 1));
        const r = random();
        const insert = r < 0.5 ? pick(FRAGMENTS) : r < 0.8 ? '' : String.fromCharCode(Math.floor(random() * 128));
        sql = sql.slice(0, at) + insert + sql.slice(r >= 0.5 && r < 0.8 ? at + 1 + Math.floor(random() * 5) : at);
      }
      const v = checkSql(sql, policy);
      if (!v.ok) continue;
      const tokens = lex(v.sql);
      expect(tokens.ok && !tokens.tokens.some((t) => t.kind === 'punct' && t.value === ';'), sql).toBe(true);
      expect(v.sql, sql).toMatch(/\bLIMIT\s+\d+(\s+OFFSET\s+\d+)?$/i);
      for (const table of v.tables) expect(TABLES.map(fq), sql).toContain(table);
      expect(checkSql(v.sql, policy), sql).toEqual(v);
    }
  });
});

describe('policy', () => {
  it('resolves unqualified names against its own catalog and schema', () => {
    const other = policyFromTables(['Claims'], { catalog: 'prod', schema: 'ops' });
    expect(passed(checkSql('SELECT * FROM claims', other)).tables).toEqual(['prod.ops.claims']);
    expect(passed(checkSql('SELECT * FROM ops.claims', other)).tables).toEqual(['prod.ops.claims']);
    expect(checkSql('SELECT * FROM workspace.support_l3.claims', other)).toMatchObject({ ok: false, code: 'table_not_allowed' });
  });

  it('refuses bad input', () => {
    expect(() => policyFromTables([])).toThrow(/at least one table/);
    expect(() => policyFromTables(['claims; drop'])).toThrow(/invalid table name/);
    expect(() => policyFromTables(['claims'], { maxLimit: 0 })).toThrow(/maxLimit/);
    expect(() => policyFromTables(['claims'], { schema: 'a.b' })).toThrow(/invalid schema name/);
  });

  it("is built from the dictionary's tables.csv", async () => {
    const csv = await readFile(new URL('../../data-dictionary/tables.csv', import.meta.url), 'utf8');
    expect(dictionaryTables(csv)).toEqual({ catalog: 'workspace', schema: 'support_l3', tables: TABLES });
    const p = policyFromDictionaryCsv(csv, { maxLimit: 500 });
    expect(p).toEqual({ catalog: 'workspace', schema: 'support_l3', tables: new Set(TABLES), maxLimit: 500 });
  });

  it('refuses a dictionary that spans several schemas', () => {
    const csv = 'catalog,schema,table\nworkspace,support_l3,claims\nworkspace,finance,ledger\n';
    expect(() => dictionaryTables(csv)).toThrow(/several schemas/);
  });
});

describe('worker compatibility', () => {
  it('uses no Node built-ins and loads only the snowflake grammar', async () => {
    const dir = new URL('../../worker/sqlgen/', import.meta.url);
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
      const source = await readFile(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) {
        expect(spec, file).not.toMatch(/^node:|^(fs|path|os|child_process|crypto)$/);
        if (spec.startsWith('node-sql-parser')) expect(spec, file).toBe('node-sql-parser/build/snowflake.js');
      }
      expect(source, file).not.toMatch(/\brequire\(/);
    }
  });
});

describe('sql:validate CLI', () => {
  it('answers every JSON line on stdin, bad lines included, and exits 0', async () => {
    const input = [
      JSON.stringify({ sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims' }),
      '{"sql": not json',
      JSON.stringify({ sql: 'DROP TABLE workspace.support_l3.claims' }),
      JSON.stringify({ query: 'SELECT 1' }),
      JSON.stringify({ sql: 'SELECT * FROM system.access.audit' }),
    ].join('\n');
    const child = spawn(`${ROOT}node_modules/.bin/node`, ['scripts/sql-validate.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(`${input}\n`);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toEqual({
      ok: true,
      sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims LIMIT 10000',
      tables: ['workspace.support_l3.claims'],
    });
    expect(lines[1]).toMatchObject({ ok: false, code: 'bad_input' });
    expect(lines[2]).toMatchObject({ ok: false, code: 'not_select' });
    expect(lines[3]).toMatchObject({ ok: false, code: 'bad_input' });
    expect(lines[4]).toMatchObject({ ok: false, code: 'table_not_allowed' });
    for (const line of lines.slice(1)) expect(line.detail).toEqual(expect.any(String));
  });
});
