import { describe, expect, it } from 'vitest';
import { sparkPatternToStrftime, translateDatabricksSql } from './dialect.ts';
import { StatementError } from './errors.ts';

const now = new Date('2025-03-18T15:04:05.678Z');
const translate = (sql: string): string => translateDatabricksSql(sql, { now }).sql;

describe('Databricks -> DuckDB dialect', () => {
  it('turns backtick identifiers into double-quoted ones', () => {
    expect(translate('SELECT `label`, `we"ird``name` FROM t')).toBe('SELECT "label", "we""ird`name" FROM t');
  });

  it('keeps string literal values intact, whatever they contain', () => {
    const literal = "'a `b` :c \"d\" INTERVAL 7 DAYS -- not a comment current_timestamp()'";
    expect(translate(`SELECT ${literal} AS s`)).toBe(`SELECT ${literal} AS s`);
  });

  it('reads double-quoted tokens as strings and decodes backslash escapes, as Spark does', () => {
    expect(translate('SELECT "NA-East" AS r')).toBe("SELECT 'NA-East' AS r");
    expect(translate("SELECT 'it\\'s' AS s")).toBe("SELECT 'it''s' AS s");
    expect(translate("SELECT 'a\\nb' AS s")).toBe("SELECT 'a\nb' AS s");
    expect(translate("SELECT 'it' 's' AS s")).toBe("SELECT 'its' AS s");
  });

  it('rewrites :name markers to bound parameters and reports them once', () => {
    const result = translateDatabricksSql(
      "SELECT x::INT FROM t WHERE a >= :start AND b < :end AND c = ':fake' -- :nope\n AND d >= :start",
      { now },
    );
    expect(result.sql).toBe("SELECT x::INT FROM t WHERE a >= $start AND b < $end AND c = ':fake' -- :nope\n AND d >= $start");
    expect(result.parameters).toEqual(['start', 'end']);
  });

  it('pins the clock functions to the stand-in clock', () => {
    expect(translate('SELECT current_timestamp(), now(), current_date, current_date(), unix_timestamp()')).toBe(
      "SELECT TIMESTAMP '2025-03-18 15:04:05.678', TIMESTAMP '2025-03-18 15:04:05.678', DATE '2025-03-18', DATE '2025-03-18', CAST(1742310245 AS BIGINT)",
    );
    // A column that happens to share the name is left alone.
    expect(translate('SELECT t.current_date FROM t')).toBe('SELECT t.current_date FROM t');
  });

  it('routes Spark functions whose DuckDB namesake differs to their shims', () => {
    expect(translate('SELECT datediff(b, a), date_add(d, 3), dayofweek(d), percentile_approx(x, 0.5) FROM t')).toBe(
      'SELECT spark_datediff(b, a), spark_date_add(d, 3), spark_dayofweek(d), spark_percentile_approx(x, 0.5) FROM t',
    );
    expect(translate('SELECT timestampdiff(HOUR, a, b), dateadd(day, 1, ts)')).toBe(
      "SELECT spark_timestampdiff('HOUR', a, b), spark_date_add('DAY', 1, ts)",
    );
    expect(translate('SELECT nvl(a, 0), count_if(ok), ifnull(a, 1) FROM t')).toBe('SELECT nvl(a, 0), count_if(ok), ifnull(a, 1) FROM t');
  });

  it('converts datetime pattern literals, including in nested calls', () => {
    expect(translate("SELECT date_format(started_at, 'yyyy-MM-dd HH:mm') FROM t")).toBe(
      "SELECT strftime(CAST(started_at AS TIMESTAMP), '%Y-%m-%d %H:%M') FROM t",
    );
    expect(translate("SELECT date_format(to_date(s, 'dd/MM/yyyy'), 'EEE') FROM t")).toBe(
      "SELECT strftime(CAST(CAST(strptime(s, '%d/%m/%Y') AS DATE) AS TIMESTAMP), '%a') FROM t",
    );
    expect(sparkPatternToStrftime("yyyy-MM-dd'T'HH:mm:ss.SSS")).toBe('%Y-%m-%dT%H:%M:%S.%g');
    expect(sparkPatternToStrftime('MMM d, yyyy 100%')).toBe('%b %-d, %Y 100%%');
  });

  it('handles Spark-only operators and literal suffixes', () => {
    expect(translate('SELECT a <=> b, 10L, 2.5D, 1.25BD FROM t')).toBe(
      'SELECT a  IS NOT DISTINCT FROM  b, CAST(10 AS BIGINT), CAST(2.5 AS DOUBLE), 1.25 FROM t',
    );
  });

  it('leaves comments and interval literals alone', () => {
    const sql = "/* window /* nested */ */ SELECT ts - INTERVAL '7' DAY, ts + INTERVAL 2 HOURS -- trailing\nFROM t";
    expect(translate(sql)).toBe(sql);
  });

  it('rejects what Databricks cannot parse', () => {
    expect(() => translate("SELECT 'unterminated")).toThrow(StatementError);
    expect(() => translate('SELECT `open')).toThrow(/PARSE_SYNTAX_ERROR/);
    expect(() => translate('SELECT $1')).toThrow(/PARSE_SYNTAX_ERROR/);
    expect(() => translate('SELECT 1 /* open')).toThrow(/UNCLOSED_BRACKETED_COMMENT/);
  });
});
