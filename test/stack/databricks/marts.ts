// The quality-signal marts, `workspace.support_marts`, built the way the analytics team's dbt models
// build them on Databricks: SQL over support_l3 alone, so every signal agrees with the dashboard's
// numbers and its drill-down finds the rows behind it. One build:
//   cells         a daily value per metric and entity (region, team, agent, channel, issue_type,
//                 product), from the same formulas as the catalog's queries;
//   fct_signals   cells whose value is 2.5+ standard deviations from the entity's trailing 28-day
//                 mean (at least 14 days of history), one row each; signal_id is a hash of metric,
//                 entity and day, so it is stable across builds;
//   fct_contributions  each slice's share of the deviation (shares of one signal sum to 1);
//   fct_model_drivers  attributions that add up to observed − expected (weekday, volume, top slice,
//                 residual), ranked by size;
//   mart_runs     one row per build.
// Everything is deterministic: the same support_l3 builds the same marts (mart_runs aside, which
// grows by one row per build). `scale` > 1 is the bench's knob: every signal is repeated `scale`
// times under its own id (`<id>-x<n>`), with its contributions and drivers.
export const MARTS_SCHEMA = 'support_marts';
const CATALOG = 'workspace';
const L3 = `${CATALOG}.support_l3`;
const M = `${CATALOG}.${MARTS_SCHEMA}`;

export interface MartOptions {
  /** How many copies of every signal to write (the bench's scale knob); 1 by default. */
  scale?: number;
  /** The dbt version mart_runs records. */
  dbtVersion?: string;
}

/** Metrics the marts watch: the catalog's names and display names, how a cell's value is formed, and its sign of "better". */
const METRICS = [
  { name: 'avg_handle_time', label: 'Average handle time', source: 'interactions', agg: 'avg', expr: 'i.handle_seconds', minRows: 8 },
  { name: 'csat_avg', label: 'Average CSAT', source: 'interactions', agg: 'avg', expr: 'i.csat', minRows: 8 },
  { name: 'first_contact_resolution', label: 'First contact resolution', source: 'interactions', agg: 'avg', expr: 'CASE WHEN i.resolved_first_contact THEN 100.0 ELSE 0.0 END', minRows: 8 },
  { name: 'claim_volume', label: 'Claim volume', source: 'claims', agg: 'count', expr: '1', minRows: 0 },
  { name: 'nps_impact', label: 'NPS impact', source: 'issue_sessions', agg: 'sum', expr: 's.nps_impact', minRows: 0 },
] as const;

/** Entities per source: the column that names the entity, its label, and the slice dimension its deviation is split by. */
const ENTITIES: Record<string, Array<{ type: string; id: string; label: string; slice: [string, string] }>> = {
  interactions: [
    { type: 'region', id: 'c.region', label: 'c.region', slice: ['channel', 'i.channel'] },
    { type: 'team', id: 'a.team', label: 'a.team', slice: ['channel', 'i.channel'] },
    { type: 'agent', id: 'a.agent_id', label: 'a.agent_name', slice: ['issue_type', 'i.issue_type'] },
    { type: 'channel', id: 'i.channel', label: 'i.channel', slice: ['issue_type', 'i.issue_type'] },
    { type: 'issue_type', id: 'i.issue_type', label: 'i.issue_type', slice: ['channel', 'i.channel'] },
  ],
  claims: [
    { type: 'region', id: 'cl.region', label: 'cl.region', slice: ['claim_type', 'cl.claim_type'] },
    { type: 'product', id: 'cl.product', label: 'cl.product', slice: ['claim_type', 'cl.claim_type'] },
  ],
  issue_sessions: [
    { type: 'channel', id: 's.channel', label: 's.channel', slice: ['outcome', 's.outcome'] },
    { type: 'issue_type', id: 's.issue_type', label: 's.issue_type', slice: ['outcome', 's.outcome'] },
  ],
};

const FROM: Record<string, { from: string; time: string }> = {
  interactions: {
    from: `${L3}.interactions i JOIN ${L3}.customers c ON c.customer_id = i.customer_id JOIN ${L3}.agents a ON a.agent_id = i.agent_id`,
    time: 'i.started_at',
  },
  claims: { from: `${L3}.claims cl`, time: 'cl.opened_at' },
  issue_sessions: { from: `${L3}.issue_sessions s`, time: 's.started_at' },
};

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** One row per (metric, entity, day, slice): rows, and the sum of the metric's per-row expression. */
function sliceFacts(): string {
  const parts: string[] = [];
  for (const metric of METRICS) {
    const { from, time } = FROM[metric.source]!;
    for (const entity of ENTITIES[metric.source]!) {
      // Averages count the rows that have a value (CSAT is optional); counts and sums count every row.
      const x = metric.agg === 'avg' ? metric.expr : metric.agg === 'count' ? '1' : metric.expr;
      parts.push(
        `SELECT ${sqlText(metric.name)} AS metric_name, ${sqlText(metric.agg)} AS agg, ${metric.minRows} AS min_rows, ` +
          `${sqlText(entity.type)} AS entity_type, CAST(${entity.id} AS VARCHAR) AS entity_id, CAST(MIN(${entity.label}) AS VARCHAR) AS entity_label, ` +
          `CAST(date_trunc('day', ${time}) AS DATE) AS day, ${sqlText(entity.slice[0])} AS dimension, CAST(${entity.slice[1]} AS VARCHAR) AS dimension_value, ` +
          `COUNT(${x}) AS n, COALESCE(SUM(${x}), 0) AS total ` +
          `FROM ${from} WHERE ${x} IS NOT NULL GROUP BY ALL`,
      );
    }
  }
  return parts.join('\nUNION ALL\n');
}

const metricLabels = () => `(VALUES ${METRICS.map((m) => `(${sqlText(m.name)}, ${sqlText(m.label)})`).join(', ')}) AS ml(metric_name, label)`;

/** The statements of one build, in order. */
export function martStatements(options: MartOptions = {}): string[] {
  const scale = Math.max(1, Math.trunc(options.scale ?? 1));
  const dbt = sqlText(options.dbtVersion ?? '1.8.7');
  const replicas = `(SELECT range AS r FROM range(${scale}))`;
  const replicaId = (col: string) => (scale === 1 ? col : `CASE WHEN x.r = 0 THEN ${col} ELSE ${col} || '-x' || CAST(x.r AS VARCHAR) END`);
  const withReplicas = scale === 1 ? '' : `, ${replicas} x`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${M}`,
    `CREATE TABLE IF NOT EXISTS ${M}.mart_runs (model_run_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL, rows_written BIGINT NOT NULL, dbt_version VARCHAR NOT NULL)`,
    // Intermediate models: slice facts, then cells per (metric, entity, day) over a complete calendar, so a day
    // without claims counts as 0 claims in the baseline rather than vanishing from it.
    `CREATE OR REPLACE TABLE ${M}.int_mart_slices AS ${sliceFacts()}`,
    `CREATE OR REPLACE TABLE ${M}.int_mart_cells AS
     WITH observed AS (
       SELECT metric_name, agg, min_rows, entity_type, entity_id, MIN(entity_label) AS entity_label, day, SUM(n) AS n, SUM(total) AS total
       FROM ${M}.int_mart_slices GROUP BY metric_name, agg, min_rows, entity_type, entity_id, day),
     bounds AS (SELECT MIN(day) AS first_day, MAX(day) AS last_day FROM observed),
     calendar AS (SELECT CAST(d AS DATE) AS day FROM bounds, range(CAST(first_day AS TIMESTAMP), CAST(last_day AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)),
     keys AS (SELECT DISTINCT metric_name, agg, min_rows, entity_type, entity_id FROM observed),
     labels AS (SELECT metric_name, entity_type, entity_id, MIN(entity_label) AS entity_label FROM observed GROUP BY ALL),
     grid AS (
       SELECT k.metric_name, k.agg, k.min_rows, k.entity_type, k.entity_id, l.entity_label, cal.day, COALESCE(o.n, 0) AS n, COALESCE(o.total, 0) AS total
       FROM keys k CROSS JOIN calendar cal
       JOIN labels l USING (metric_name, entity_type, entity_id)
       LEFT JOIN observed o ON o.metric_name = k.metric_name AND o.entity_type = k.entity_type AND o.entity_id = k.entity_id AND o.day = cal.day),
     valued AS (
       SELECT *, CASE agg WHEN 'avg' THEN CASE WHEN n > 0 THEN total / n END WHEN 'count' THEN CAST(n AS DOUBLE) ELSE CAST(total AS DOUBLE) END AS value
       FROM grid)
     SELECT *,
       AVG(value) OVER w AS baseline_mean,
       STDDEV_SAMP(value) OVER w AS baseline_stddev,
       COUNT(value) OVER w AS baseline_days,
       AVG(n) OVER w AS baseline_rows,
       AVG(value) OVER (PARTITION BY metric_name, entity_type, entity_id, dayofweek(day) ORDER BY day ROWS BETWEEN 4 PRECEDING AND 1 PRECEDING) AS weekday_mean
     FROM valued
     WINDOW w AS (PARTITION BY metric_name, entity_type, entity_id ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)`,
    `CREATE OR REPLACE TABLE ${M}.int_mart_signals AS
     SELECT 'sig_' || substr(md5(c.metric_name || '|' || c.entity_type || '|' || c.entity_id || '|' || CAST(c.day AS VARCHAR)), 1, 16) AS signal_id,
       c.*, (c.value - c.baseline_mean) / c.baseline_stddev AS z, ml.label AS metric_label
     FROM ${M}.int_mart_cells c JOIN ${metricLabels()} USING (metric_name)
     WHERE c.value IS NOT NULL AND c.baseline_days >= 14 AND c.baseline_stddev > 0 AND c.n >= c.min_rows
       AND abs((c.value - c.baseline_mean) / c.baseline_stddev) >= 2.5`,
    `CREATE OR REPLACE TABLE ${M}.fct_signals AS
     SELECT CAST(${replicaId('s.signal_id')} AS VARCHAR) AS signal_id,
       CAST(CASE WHEN abs(s.z) >= 3 THEN 'anomaly' ELSE 'drift' END AS VARCHAR) AS signal_type,
       CAST(s.metric_name AS VARCHAR) AS metric_name, CAST(s.entity_type AS VARCHAR) AS entity_type,
       CAST(s.entity_id AS VARCHAR) AS entity_id, CAST(s.entity_label AS VARCHAR) AS entity_label,
       CAST(s.day AS TIMESTAMP) AS window_start, CAST(s.day AS TIMESTAMP) + INTERVAL 1 DAY AS window_end,
       CAST(round(s.value, 4) AS DOUBLE) AS observed_value, CAST(round(s.baseline_mean, 4) AS DOUBLE) AS expected_value,
       CAST(round(s.baseline_stddev, 4) AS DOUBLE) AS baseline_stddev, CAST(round(s.z, 3) AS DOUBLE) AS z_score,
       CAST(CASE WHEN s.z > 0 THEN 'up' ELSE 'down' END AS VARCHAR) AS direction,
       CAST(CASE WHEN abs(s.z) >= 6 THEN 'critical' WHEN abs(s.z) >= 4.5 THEN 'high' WHEN abs(s.z) >= 3.5 THEN 'medium' WHEN abs(s.z) >= 3 THEN 'low' ELSE 'info' END AS VARCHAR) AS severity,
       CAST(round(least(0.99, 1 - exp(-0.5 * (abs(s.z) - 1))), 3) AS DOUBLE) AS confidence,
       CAST(s.metric_label || ' for ' || replace(s.entity_type, '_', ' ') || ' ' || s.entity_label || ' was ' || CAST(round(s.value, 2) AS VARCHAR)
         || ' on ' || strftime(s.day, '%Y-%m-%d') || ', ' || CASE WHEN s.z > 0 THEN 'above' ELSE 'below' END
         || ' its trailing 28-day mean of ' || CAST(round(s.baseline_mean, 2) AS VARCHAR) || ' (z = ' || CAST(round(s.z, 1) AS VARCHAR) || ', '
         || CAST(s.n AS VARCHAR) || ' rows that day).' AS VARCHAR) AS narrative,
       CAST((SELECT 'dbt-' || strftime(MAX(day), '%Y%m%d') || '-' || CAST((SELECT COUNT(*) + 1 FROM ${M}.mart_runs) AS VARCHAR) FROM ${M}.int_mart_cells) AS VARCHAR) AS model_run_id,
       CAST(s.day AS TIMESTAMP) + INTERVAL 1 DAY AS detected_at,
       CAST(s.day AS TIMESTAMP) + INTERVAL 1 DAY AS updated_at
     FROM ${M}.int_mart_signals s${withReplicas}
     ORDER BY 1`,
    // Each slice's part of the deviation. Averages: n_c·(v_c − expected) / n·(v − expected), which
    // sums to exactly 1. Counts and sums: (x_c − expected·share_c) / (x − expected), where share_c is
    // the slice's share of the entity over the whole history, among the slices seen that day; also sums to 1.
    `CREATE OR REPLACE TABLE ${M}.fct_contributions AS
     WITH shares AS (
       SELECT metric_name, entity_type, entity_id, dimension, dimension_value,
         SUM(n) / SUM(SUM(n)) OVER (PARTITION BY metric_name, entity_type, entity_id, dimension) AS share
       FROM ${M}.int_mart_slices GROUP BY metric_name, entity_type, entity_id, dimension, dimension_value),
     parts AS (
       SELECT s.signal_id, sl.dimension, sl.dimension_value,
         CASE s.agg
           WHEN 'avg' THEN (sl.total - sl.n * s.baseline_mean) / (s.total - s.n * s.baseline_mean)
           WHEN 'count' THEN (sl.n - s.baseline_mean * sh.share / SUM(sh.share) OVER (PARTITION BY s.signal_id)) / (s.n - s.baseline_mean)
           ELSE (sl.total - s.baseline_mean * sh.share / SUM(sh.share) OVER (PARTITION BY s.signal_id)) / (s.total - s.baseline_mean)
         END AS contribution
       FROM ${M}.int_mart_signals s
       JOIN ${M}.int_mart_slices sl ON sl.metric_name = s.metric_name AND sl.entity_type = s.entity_type AND sl.entity_id = s.entity_id AND sl.day = s.day
       JOIN shares sh ON sh.metric_name = s.metric_name AND sh.entity_type = s.entity_type AND sh.entity_id = s.entity_id
         AND sh.dimension = sl.dimension AND sh.dimension_value = sl.dimension_value)
     SELECT CAST(${replicaId('p.signal_id')} AS VARCHAR) AS signal_id, CAST(p.dimension AS VARCHAR) AS dimension, CAST(p.dimension_value AS VARCHAR) AS dimension_value,
       CAST(round(p.contribution, 4) AS DOUBLE) AS contribution,
       CAST(row_number() OVER (PARTITION BY p.signal_id${scale === 1 ? '' : ', x.r'} ORDER BY abs(p.contribution) DESC, p.dimension_value) AS INTEGER) AS contribution_rank
     FROM parts p${withReplicas}
     WHERE isfinite(p.contribution)
     ORDER BY 1, 5`,
    // Attributions that sum to observed − expected: the weekday's usual lift, the day's volume
    // against its baseline, the largest slice's part of what is left, and the residual.
    `CREATE OR REPLACE TABLE ${M}.fct_model_drivers AS
     WITH base AS (
       SELECT s.signal_id, s.value - s.baseline_mean AS deviation,
         COALESCE(s.weekday_mean - s.baseline_mean, 0) AS weekday,
         dayname(s.day) AS weekday_name, s.n, s.baseline_rows, s.agg
       FROM ${M}.int_mart_signals s),
     top AS (
       SELECT c.signal_id, c.dimension, c.dimension_value, c.contribution FROM ${M}.fct_contributions c WHERE c.contribution_rank = 1),
     parts AS (
       SELECT b.signal_id, b.deviation, b.weekday_name, b.n, t.dimension, t.dimension_value,
         least(greatest(b.weekday, -abs(b.deviation)), abs(b.deviation)) AS weekday,
         CASE WHEN b.agg = 'avg' AND b.baseline_rows > 0 THEN b.deviation * 0.25 * least(1, abs(b.n - b.baseline_rows) / b.baseline_rows) ELSE 0 END AS volume,
         t.contribution
       FROM base b LEFT JOIN top t ON t.signal_id = b.signal_id),
     shaped AS (
       SELECT signal_id, 'day_of_week' AS feature, weekday_name AS feature_value, weekday AS shap FROM parts
       UNION ALL SELECT signal_id, 'volume', CAST(n AS VARCHAR), volume FROM parts
       UNION ALL SELECT signal_id, COALESCE(dimension, 'slice'), COALESCE(dimension_value, 'none'), (deviation - weekday - volume) * 0.6 * least(1, greatest(0, COALESCE(contribution, 0))) FROM parts
       UNION ALL SELECT signal_id, 'residual', '', deviation - weekday - volume - (deviation - weekday - volume) * 0.6 * least(1, greatest(0, COALESCE(contribution, 0))) FROM parts)
     SELECT CAST(${replicaId('s.signal_id')} AS VARCHAR) AS signal_id, CAST(s.feature AS VARCHAR) AS feature, CAST(s.feature_value AS VARCHAR) AS feature_value,
       CAST(round(s.shap, 4) AS DOUBLE) AS shap_value,
       CAST(row_number() OVER (PARTITION BY s.signal_id${scale === 1 ? '' : ', x.r'} ORDER BY abs(s.shap) DESC, s.feature) AS INTEGER) AS driver_rank
     FROM shaped s${withReplicas}
     ORDER BY 1, 5`,
    `INSERT INTO ${M}.mart_runs
     SELECT (SELECT MIN(model_run_id) FROM ${M}.fct_signals) AS model_run_id, CAST(MAX(day) AS TIMESTAMP) + INTERVAL 1 DAY, CAST(MAX(day) AS TIMESTAMP) + INTERVAL 1 DAY,
       'success', (SELECT COUNT(*) FROM ${M}.fct_signals) + (SELECT COUNT(*) FROM ${M}.fct_contributions) + (SELECT COUNT(*) FROM ${M}.fct_model_drivers), ${dbt}
     FROM ${M}.int_mart_cells`,
    `DROP TABLE IF EXISTS ${M}.int_mart_slices`,
    `DROP TABLE IF EXISTS ${M}.int_mart_cells`,
    `DROP TABLE IF EXISTS ${M}.int_mart_signals`,
  ];
}

/**
 * Builds (or rebuilds) the marts through `run`, which executes one statement of raw DuckDB SQL.
 * The intermediate models are tables of the marts schema for the length of the build, as dbt's
 * would be, and are dropped at its end.
 */
export async function buildMarts(run: (sql: string) => Promise<unknown>, options: MartOptions = {}): Promise<void> {
  for (const statement of martStatements(options)) await run(statement);
}
