// DuckDB macros giving Spark semantics to the functions dashboards and generated SQL commonly use.
// Names that DuckDB lacks are defined as-is (nvl, try_divide, ...); names DuckDB has with another
// meaning get a `spark_` macro and dialect.ts rewrites calls to it. Macro bodies are DuckDB SQL and are
// never passed through the dialect translation.

/** Spark truncation unit names (`'MM'`, `'MON'`, `'YY'`, ...) -> DuckDB date parts. */
const TRUNC_UNIT = `CASE upper(fmt)
  WHEN 'YYYY' THEN 'year' WHEN 'YY' THEN 'year' WHEN 'YEAR' THEN 'year'
  WHEN 'QUARTER' THEN 'quarter'
  WHEN 'MM' THEN 'month' WHEN 'MON' THEN 'month' WHEN 'MONTH' THEN 'month'
  WHEN 'WEEK' THEN 'week' WHEN 'DD' THEN 'day' WHEN 'DAY' THEN 'day'
  WHEN 'HOUR' THEN 'hour' WHEN 'MINUTE' THEN 'minute' WHEN 'SECOND' THEN 'second'
  ELSE lower(fmt) END`;

/** `n` units as an interval, with Spark's unit names. */
const INTERVAL_OF = `CASE upper(unit)
  WHEN 'MICROSECOND' THEN to_microseconds(CAST(n AS BIGINT))
  WHEN 'MILLISECOND' THEN to_milliseconds(CAST(n AS BIGINT))
  WHEN 'SECOND' THEN to_seconds(CAST(n AS DOUBLE))
  WHEN 'MINUTE' THEN to_minutes(CAST(n AS BIGINT))
  WHEN 'HOUR' THEN to_hours(CAST(n AS BIGINT))
  WHEN 'DAY' THEN to_days(CAST(n AS INTEGER))
  WHEN 'WEEK' THEN to_weeks(CAST(n AS INTEGER))
  WHEN 'MONTH' THEN to_months(CAST(n AS INTEGER))
  WHEN 'QUARTER' THEN to_quarters(CAST(n AS INTEGER))
  WHEN 'YEAR' THEN to_years(CAST(n AS INTEGER))
  END`;

export const SPARK_FUNCTION_MACROS: readonly string[] = [
  `CREATE MACRO spark_trunc_unit(fmt) AS ${TRUNC_UNIT}`,
  `CREATE MACRO spark_interval(unit, n) AS ${INTERVAL_OF}`,

  'CREATE MACRO nvl(a, b) AS coalesce(a, b)',
  'CREATE MACRO nvl2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END',
  'CREATE MACRO try_divide(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END',
  'CREATE MACRO rlike(s, pattern) AS regexp_matches(s, pattern)',

  // datediff(end, start) counts days; the three-argument form counts whole units elapsed.
  `CREATE MACRO spark_datediff(end_date, start_date) AS date_diff('day', CAST(start_date AS DATE), CAST(end_date AS DATE)),
     (unit, start_ts, end_ts) AS date_sub(unit, CAST(start_ts AS TIMESTAMP), CAST(end_ts AS TIMESTAMP))`,
  `CREATE MACRO spark_timestampdiff(unit, start_ts, end_ts) AS date_sub(unit, CAST(start_ts AS TIMESTAMP), CAST(end_ts AS TIMESTAMP))`,
  `CREATE MACRO spark_date_add(d, n) AS CAST(CAST(d AS DATE) + CAST(n AS INTEGER) AS DATE),
     (unit, n, ts) AS CAST(ts AS TIMESTAMP) + spark_interval(unit, n)`,
  'CREATE MACRO spark_date_sub(d, n) AS CAST(CAST(d AS DATE) - CAST(n AS INTEGER) AS DATE)',
  'CREATE MACRO spark_add_months(d, n) AS CAST(CAST(d AS DATE) + to_months(CAST(n AS INTEGER)) AS DATE)',
  // Spark numbers weekdays from Sunday = 1; weekday() from Monday = 0.
  'CREATE MACRO spark_dayofweek(d) AS dayofweek(CAST(d AS DATE)) + 1',
  'CREATE MACRO spark_weekday(d) AS isodow(CAST(d AS DATE)) - 1',
  // The forms with a pattern argument are rewritten by dialect.ts: DuckDB needs a constant format.
  'CREATE MACRO spark_to_date(s) AS CAST(s AS DATE)',
  'CREATE MACRO spark_to_timestamp(s) AS CAST(s AS TIMESTAMP)',
  'CREATE MACRO spark_unix_timestamp(ts) AS CAST(floor(epoch(CAST(ts AS TIMESTAMP))) AS BIGINT)',
  "CREATE MACRO spark_from_unixtime(seconds) AS strftime(make_timestamp(CAST(seconds AS BIGINT) * 1000000), '%Y-%m-%d %H:%M:%S')",
  'CREATE MACRO spark_trunc(d, fmt) AS CAST(date_trunc(spark_trunc_unit(fmt), CAST(d AS DATE)) AS DATE)',
  'CREATE MACRO spark_date_trunc(fmt, ts) AS date_trunc(spark_trunc_unit(fmt), CAST(ts AS TIMESTAMP))',
  `CREATE MACRO spark_percentile_approx(x, p) AS approx_quantile(x, p),
     (x, p, accuracy) AS approx_quantile(x, p)`,
  'CREATE MACRO spark_percentile(x, p) AS quantile_cont(x, p)',
  'CREATE MACRO spark_collect_list(x) AS list(x)',
  'CREATE MACRO spark_collect_set(x) AS list(DISTINCT x)',
  'CREATE MACRO spark_size(x) AS len(x)',
];
