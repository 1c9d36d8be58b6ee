import { fileURLToPath } from 'node:url';
import sqlParser from 'node-sql-parser/build/snowflake.js';
import { checkSql, policyFromTables } from '../../worker/sqlgen/safety.ts';
import { VALID } from '../node/sql-safety-corpus.ts';

/**
 * Cost of the SQL safety layer against its floor, node-sql-parser's own parse, measured in the same
 * run over the same statements (the valid corpus, cycled). The parse side is given each statement
 * in a form it accepts (the checked SQL where the raw text needs INTERVAL normalisation), so both
 * sides parse exactly once per statement.
 */

const TABLES = ['customers', 'devices', 'agents', 'interactions', 'claims', 'issue_sessions'];
/** Many short alternating blocks, each side going first in turn, so load changes hit both equally. */
const BLOCKS = 100;

export interface SqlSafetyBench {
  parseMs: number;
  checkMs: number;
  ratio: number;
  /** Median over the alternating blocks of check time / parse time: steadier on a busy machine. */
  medianBlockRatio: number;
  /** Distinct statements cycled through. */
  distinct: number;
}

export async function benchSqlSafety(count = 10_000): Promise<SqlSafetyBench> {
  const policy = policyFromTables(TABLES);
  const parser = new sqlParser.Parser();
  const opt = { database: 'snowflake' };
  const parses = (sql: string) => {
    try {
      parser.astify(sql, opt);
      return true;
    } catch {
      return false;
    }
  };
  // Statements the bare parser cannot read at all (INTERSECT/EXCEPT, which the checker shows it as
  // UNION) are left out of both sides.
  const inputs: string[] = [];
  const parseInputs: string[] = [];
  for (const { sql } of VALID) {
    const v = checkSql(sql, policy);
    if (!v.ok) throw new Error(`corpus statement rejected: ${v.code}`);
    const bare = parses(sql) ? sql : parses(v.sql) ? v.sql : null;
    if (bare === null) continue;
    inputs.push(sql);
    parseInputs.push(bare);
  }
  const statement = (i: number) => i % inputs.length;

  // Warm both paths so the JIT has seen them before anything is timed.
  for (let i = 0; i < Math.min(count, 2_000); i++) {
    parser.astify(parseInputs[statement(i)]!, opt);
    checkSql(inputs[statement(i)]!, policy);
  }

  let parseMs = 0;
  let checkMs = 0;
  let rejected = 0;
  const perBlock = Math.ceil(count / BLOCKS);
  const blockRatios: number[] = [];
  const runParse = (from: number, to: number) => {
    const t = performance.now();
    for (let i = from; i < to; i++) parser.astify(parseInputs[statement(i)]!, opt);
    const ms = performance.now() - t;
    parseMs += ms;
    return ms;
  };
  const runCheck = (from: number, to: number) => {
    const t = performance.now();
    for (let i = from; i < to; i++) if (!checkSql(inputs[statement(i)]!, policy).ok) rejected++;
    const ms = performance.now() - t;
    checkMs += ms;
    return ms;
  };
  for (let block = 0, from = 0; from < count; block++, from += perBlock) {
    const to = Math.min(count, from + perBlock);
    if (block % 2 === 0) {
      const p = runParse(from, to);
      blockRatios.push(runCheck(from, to) / p);
    } else {
      const c = runCheck(from, to);
      blockRatios.push(c / runParse(from, to));
    }
    // Yield between blocks so a caller's timers and I/O are not starved.
    if (block % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  }
  if (rejected > 0) throw new Error(`${rejected} corpus statements were rejected during the benchmark`);
  blockRatios.sort((x, y) => x - y);
  const medianBlockRatio = blockRatios[Math.floor(blockRatios.length / 2)] ?? Number.NaN;
  return { parseMs, checkMs, ratio: checkMs / parseMs, medianBlockRatio, distinct: inputs.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.env.BENCH_STATEMENTS ?? 10_000);
  const { parseMs, checkMs, ratio, medianBlockRatio, distinct } = await benchSqlSafety(count);
  const us = (ms: number) => `${((ms * 1000) / count).toFixed(1)} µs`;
  console.log(`SQL safety over ${count} statements (${distinct} distinct, cycled)`);
  console.log(`  parser.astify  total ${parseMs.toFixed(1)} ms   mean ${us(parseMs)}`);
  console.log(`  checkSql       total ${checkMs.toFixed(1)} ms   mean ${us(checkMs)}`);
  console.log(`  ratio checkSql / astify: ${ratio.toFixed(3)}x (median over ${BLOCKS} blocks ${medianBlockRatio.toFixed(3)}x)`);
}
