import type { SafetyRejectCode } from '../../worker/sqlgen/safety.ts';

/**
 * Statements for the SQL safety layer, written against the support lakehouse
 * (`workspace.support_l3`: customers, devices, agents, interactions, claims, issue_sessions).
 * Shared by the tests and the benchmark, so it does no I/O.
 */

export interface ValidCase {
  name: string;
  sql: string;
  /** Unqualified names of the tables the statement reads. */
  tables: readonly string[];
  /** The exact checked SQL, where it differs from the input with ` LIMIT 10000` appended. */
  expect?: string;
}

export interface AttackCase {
  name: string;
  sql: string;
  code: SafetyRejectCode;
}

/** The twelve `databricks_sql` values of data-dictionary/metrics.csv, verbatim. */
export const METRIC_QUERIES: readonly ValidCase[] = [
  {
    name: 'metric nps_impact',
    sql: 'SELECT COALESCE(ROUND(SUM(nps_impact), 1), 0) AS value FROM workspace.support_l3.issue_sessions WHERE started_at >= :start AND started_at < :end',
    tables: ['issue_sessions'],
  },
  {
    name: 'metric issue_sessions_active',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.issue_sessions WHERE resolved_at IS NULL',
    tables: ['issue_sessions'],
  },
  {
    name: 'metric claim_volume',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end',
    tables: ['claims'],
  },
  {
    name: 'metric claims_by_product',
    sql: 'SELECT product AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY product ORDER BY value DESC LIMIT 20',
    tables: ['claims'],
    expect: 'SELECT product AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY product ORDER BY value DESC LIMIT 20',
  },
  {
    name: 'metric claim_status_mix',
    sql: 'SELECT status AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY status ORDER BY value DESC LIMIT 10',
    tables: ['claims'],
    expect: 'SELECT status AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY status ORDER BY value DESC LIMIT 10',
  },
  {
    name: 'metric cost_avoided_mtd',
    sql: "SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM workspace.support_l3.claims WHERE opened_at >= date_trunc('MONTH', current_timestamp()) AND opened_at < current_timestamp()",
    tables: ['claims'],
  },
  {
    name: 'metric avg_handle_time',
    sql: 'SELECT ROUND(AVG(handle_seconds), 1) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'metric first_contact_resolution',
    sql: 'SELECT ROUND(100.0 * count_if(resolved_first_contact) / NULLIF(COUNT(*), 0), 2) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'metric csat_avg',
    sql: 'SELECT ROUND(AVG(csat), 2) AS value FROM workspace.support_l3.interactions WHERE csat IS NOT NULL AND started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'metric repeat_contact_rate',
    sql: "WITH contacts AS (SELECT customer_id, started_at, LAG(started_at) OVER (PARTITION BY customer_id ORDER BY started_at) AS previous_started_at FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end) SELECT ROUND(100.0 * COUNT(DISTINCT CASE WHEN previous_started_at >= started_at - INTERVAL '7' DAY THEN customer_id END) / NULLIF(COUNT(DISTINCT customer_id), 0), 2) AS value FROM contacts",
    tables: ['interactions'],
  },
  {
    name: 'metric sla_breach_rate',
    sql: "SELECT ROUND(100.0 * count_if(closed_at IS NULL OR closed_at > opened_at + INTERVAL '72' HOUR) / NULLIF(COUNT(*), 0), 2) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end - INTERVAL '72' HOUR",
    tables: ['claims'],
  },
  {
    name: 'metric agent_utilization',
    sql: 'SELECT ROUND(100.0 * SUM(handle_seconds) / NULLIF((SELECT COUNT(*) FROM workspace.support_l3.agents) * (unix_timestamp(:end) - unix_timestamp(:start)) * 40.0 / 168.0, 0), 2) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['agents', 'interactions'],
  },
];

const ANALYTICAL: readonly ValidCase[] = [
  // Breakdowns and time series in the shapes the guidelines ask for.
  {
    name: 'claims by region',
    sql: 'SELECT c.region AS label, COUNT(*) AS value FROM workspace.support_l3.claims c WHERE c.opened_at >= :start AND c.opened_at < :end GROUP BY c.region ORDER BY value DESC LIMIT 10',
    tables: ['claims'],
  },
  {
    name: 'daily contacts time series',
    sql: "SELECT date_format(date_trunc('DAY', started_at), 'yyyy-MM-dd') AS label, COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY 1 ORDER BY label LIMIT 100",
    tables: ['interactions'],
  },
  {
    name: 'hourly claims time series',
    sql: "SELECT date_format(date_trunc('HOUR', opened_at), 'yyyy-MM-dd HH:00') AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY 1 ORDER BY 1",
    tables: ['claims'],
  },
  {
    name: 'weekly sessions time series',
    sql: "SELECT date_format(date_trunc('WEEK', started_at), 'yyyy-MM-dd') AS label, COUNT(*) AS value FROM workspace.support_l3.issue_sessions GROUP BY ALL ORDER BY label LIMIT 52",
    tables: ['issue_sessions'],
  },
  {
    name: 'CSAT by channel',
    sql: 'SELECT channel AS label, ROUND(AVG(csat), 2) AS value FROM workspace.support_l3.interactions WHERE csat IS NOT NULL AND started_at >= :start AND started_at < :end GROUP BY channel ORDER BY value DESC LIMIT 10',
    tables: ['interactions'],
  },
  {
    name: 'NPS score',
    sql: 'SELECT ROUND(100.0 * (count_if(nps >= 9) - count_if(nps <= 6)) / NULLIF(count(nps), 0), 1) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end LIMIT 1',
    tables: ['interactions'],
  },
  {
    name: 'survey response rate',
    sql: 'SELECT ROUND(100.0 * count_if(csat IS NOT NULL) / NULLIF(COUNT(*), 0), 2) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'transfer rate by channel',
    sql: 'SELECT channel AS label, ROUND(100.0 * count_if(transferred) / NULLIF(COUNT(*), 0), 2) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY channel ORDER BY value DESC LIMIT 10',
    tables: ['interactions'],
  },
  {
    name: 'session outcome mix',
    sql: 'SELECT outcome AS label, COUNT(*) AS value FROM workspace.support_l3.issue_sessions WHERE started_at >= :start AND started_at < :end GROUP BY outcome ORDER BY value DESC LIMIT 10',
    tables: ['issue_sessions'],
  },
  {
    name: 'claim approval rate by product',
    sql: "SELECT product AS label, ROUND(100.0 * count_if(status IN ('approved', 'fulfilled')) / NULLIF(COUNT(*), 0), 2) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY product ORDER BY value DESC LIMIT 10",
    tables: ['claims'],
  },
  {
    name: 'claim cost by type',
    sql: 'SELECT claim_type AS label, COALESCE(SUM(claim_cost), 0) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY claim_type ORDER BY value DESC LIMIT 10',
    tables: ['claims'],
  },
  {
    name: 'average resolution hours of sessions',
    sql: 'SELECT ROUND(AVG(unix_timestamp(resolved_at) - unix_timestamp(started_at)) / 3600.0, 2) AS value FROM workspace.support_l3.issue_sessions WHERE resolved_at IS NOT NULL AND started_at >= :start AND started_at < :end',
    tables: ['issue_sessions'],
  },
  {
    name: 'open claim age in days with COALESCE',
    sql: 'SELECT ROUND(AVG(datediff(COALESCE(closed_at, current_timestamp()), opened_at)), 1) AS value FROM workspace.support_l3.claims WHERE status IN (\'open\', \'approved\')',
    tables: ['claims'],
  },
  {
    name: 'devices by make and os',
    sql: "SELECT concat(make, ' / ', os) AS label, COUNT(*) AS value FROM workspace.support_l3.devices GROUP BY make, os ORDER BY value DESC LIMIT 20",
    tables: ['devices'],
  },
  {
    name: 'agents hired per year',
    sql: 'SELECT CAST(year(hired_on) AS STRING) AS label, COUNT(*) AS value FROM workspace.support_l3.agents GROUP BY year(hired_on) ORDER BY label',
    tables: ['agents'],
  },
  {
    name: 'customer tenure buckets',
    sql: "SELECT CASE WHEN datediff(current_date(), signup_date) < 90 THEN 'new' WHEN datediff(current_date(), signup_date) < 365 THEN 'first year' ELSE 'established' END AS label, COUNT(*) AS value FROM workspace.support_l3.customers GROUP BY 1 ORDER BY value DESC",
    tables: ['customers'],
  },
  {
    name: 'handle time buckets with CASE',
    sql: "SELECT CASE WHEN handle_seconds < 300 THEN 'under 5 min' WHEN handle_seconds < 900 THEN '5-15 min' ELSE 'over 15 min' END AS label, COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY ALL ORDER BY value DESC",
    tables: ['interactions'],
  },
  {
    name: 'contacts by day of week',
    sql: "SELECT date_format(started_at, 'EEE') AS label, COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY 1 ORDER BY value DESC LIMIT 7",
    tables: ['interactions'],
  },
  {
    name: 'contacts by hour of day',
    sql: 'SELECT CAST(hour(started_at) AS STRING) AS label, COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY hour(started_at) ORDER BY hour(started_at) LIMIT 24',
    tables: ['interactions'],
  },
  {
    name: 'distinct customers with contacts',
    sql: 'SELECT COUNT(DISTINCT customer_id) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'median handle time with percentile_approx',
    sql: 'SELECT percentile_approx(handle_seconds, 0.5) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'p90 claim cost with percentile_cont',
    sql: 'SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY claim_cost) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end',
    tables: ['claims'],
  },
  {
    name: 'claim cost filter aggregate',
    sql: "SELECT SUM(claim_cost) FILTER (WHERE status = 'fulfilled') AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end",
    tables: ['claims'],
  },
  {
    name: 'region rollup',
    sql: 'SELECT region, segment, COUNT(*) AS value FROM workspace.support_l3.customers GROUP BY ROLLUP (region, segment) ORDER BY region, segment',
    tables: ['customers'],
  },
  {
    name: 'device cube',
    sql: 'SELECT make, os, COUNT(*) AS value FROM workspace.support_l3.devices GROUP BY CUBE (make, os)',
    tables: ['devices'],
  },
  {
    name: 'HAVING filter',
    sql: 'SELECT agent_id AS label, COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end GROUP BY agent_id HAVING COUNT(*) >= 10 ORDER BY value DESC LIMIT 25',
    tables: ['interactions'],
  },
  {
    name: 'SELECT DISTINCT',
    sql: 'SELECT DISTINCT issue_type AS label FROM workspace.support_l3.issue_sessions ORDER BY label',
    tables: ['issue_sessions'],
  },
  {
    name: 'ORDER BY NULLS LAST',
    sql: 'SELECT claim_id, closed_at FROM workspace.support_l3.claims ORDER BY closed_at DESC NULLS LAST LIMIT 50',
    tables: ['claims'],
  },
  {
    name: 'BETWEEN and ILIKE',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.devices WHERE purchased_on BETWEEN DATE'2024-01-01' AND current_date() AND model ILIKE '%pro%'",
    tables: ['devices'],
  },
  {
    name: 'IS DISTINCT FROM',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE region IS DISTINCT FROM \'NA-East\'',
    tables: ['claims'],
  },
  {
    name: 'array_contains and regexp_extract',
    sql: "SELECT regexp_extract(model, '([0-9]+)', 1) AS label, COUNT(*) AS value FROM workspace.support_l3.devices WHERE array_contains(array('Apple', 'Google'), make) GROUP BY 1 ORDER BY value DESC LIMIT 10",
    tables: ['devices'],
  },
  {
    name: 'max_by and min_by',
    sql: 'SELECT max_by(agent_id, handle_seconds) AS slowest, min_by(agent_id, handle_seconds) AS fastest FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'decimal cast and :: cast',
    sql: 'SELECT CAST(SUM(claim_cost) AS DECIMAL(18, 2)) AS value, COUNT(*)::double AS n FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end',
    tables: ['claims'],
  },
  {
    name: 'parameters cast to TIMESTAMP',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= CAST(:start AS TIMESTAMP) AND opened_at < CAST(:end AS TIMESTAMP)',
    tables: ['claims'],
  },
  {
    name: 'timestampdiff in hours',
    sql: 'SELECT ROUND(AVG(timestampdiff(HOUR, opened_at, closed_at)), 1) AS value FROM workspace.support_l3.claims WHERE closed_at IS NOT NULL AND opened_at >= :start AND opened_at < :end',
    tables: ['claims'],
  },
  {
    name: 'date_sub and add_months',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.customers WHERE signup_date >= date_sub(current_date(), 30) OR signup_date < add_months(current_date(), -24)',
    tables: ['customers'],
  },

  // Joins along the dictionary's keys.
  {
    name: 'handle time by agent team',
    sql: 'SELECT a.team AS label, ROUND(AVG(i.handle_seconds), 1) AS value FROM workspace.support_l3.interactions i JOIN workspace.support_l3.agents a ON i.agent_id = a.agent_id WHERE i.started_at >= :start AND i.started_at < :end GROUP BY a.team ORDER BY value DESC LIMIT 10',
    tables: ['interactions', 'agents'],
  },
  {
    name: 'contacts by device make (LEFT JOIN)',
    sql: "SELECT COALESCE(d.make, 'no device') AS label, COUNT(*) AS value FROM workspace.support_l3.interactions i LEFT JOIN workspace.support_l3.devices d ON i.device_id = d.device_id WHERE i.started_at >= :start AND i.started_at < :end GROUP BY 1 ORDER BY value DESC LIMIT 10",
    tables: ['interactions', 'devices'],
  },
  {
    name: 'claims by customer segment',
    sql: 'SELECT cu.segment AS label, COUNT(*) AS value FROM workspace.support_l3.claims c INNER JOIN workspace.support_l3.customers cu ON c.customer_id = cu.customer_id WHERE c.opened_at >= :start AND c.opened_at < :end GROUP BY cu.segment ORDER BY value DESC',
    tables: ['claims', 'customers'],
  },
  {
    name: 'top device models by claims (three-way join)',
    sql: 'SELECT d.model AS label, COUNT(*) AS value FROM workspace.support_l3.claims c JOIN workspace.support_l3.devices d ON c.device_id = d.device_id JOIN workspace.support_l3.customers cu ON d.customer_id = cu.customer_id WHERE cu.plan = \'premium\' AND c.opened_at >= :start AND c.opened_at < :end GROUP BY d.model ORDER BY value DESC LIMIT 5',
    tables: ['claims', 'devices', 'customers'],
  },
  {
    name: 'JOIN USING',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims JOIN workspace.support_l3.customers USING (customer_id)',
    tables: ['claims', 'customers'],
  },
  {
    name: 'FULL OUTER JOIN of aggregated sides',
    sql: 'SELECT COALESCE(c.region, s.region) AS label, COALESCE(c.n, 0) + COALESCE(s.n, 0) AS value FROM (SELECT region, COUNT(*) AS n FROM workspace.support_l3.claims GROUP BY region) c FULL OUTER JOIN (SELECT cu.region, COUNT(*) AS n FROM workspace.support_l3.issue_sessions x JOIN workspace.support_l3.customers cu ON x.customer_id = cu.customer_id GROUP BY cu.region) s ON c.region = s.region',
    tables: ['claims', 'issue_sessions', 'customers'],
  },
  {
    name: 'CROSS JOIN with a one-row aggregate',
    sql: 'SELECT i.channel AS label, ROUND(100.0 * COUNT(*) / MAX(t.total), 2) AS value FROM workspace.support_l3.interactions i CROSS JOIN (SELECT COUNT(*) AS total FROM workspace.support_l3.interactions) t GROUP BY i.channel',
    tables: ['interactions'],
  },
  {
    name: 'JOIN LATERAL subquery',
    sql: 'SELECT a.agent_name AS label, l.n AS value FROM workspace.support_l3.agents a JOIN LATERAL (SELECT COUNT(*) AS n FROM workspace.support_l3.interactions i WHERE i.agent_id = a.agent_id) l ON true ORDER BY value DESC LIMIT 10',
    tables: ['agents', 'interactions'],
  },
  {
    name: 'comma LATERAL subquery',
    sql: 'SELECT cu.region, l.claims FROM workspace.support_l3.customers cu, LATERAL (SELECT COUNT(*) AS claims FROM workspace.support_l3.claims c WHERE c.customer_id = cu.customer_id) l',
    tables: ['customers', 'claims'],
  },

  // CTEs, subqueries and set operations.
  {
    name: 'CTEs aggregated before joining',
    sql: 'WITH claim_counts AS (SELECT customer_id, COUNT(*) AS claims FROM workspace.support_l3.claims GROUP BY customer_id), session_counts AS (SELECT customer_id, COUNT(*) AS sessions FROM workspace.support_l3.issue_sessions GROUP BY customer_id) SELECT c.customer_id, c.claims, COALESCE(s.sessions, 0) AS sessions FROM claim_counts c LEFT JOIN session_counts s ON c.customer_id = s.customer_id ORDER BY c.claims DESC LIMIT 20',
    tables: ['claims', 'issue_sessions'],
  },
  {
    name: 'chained CTEs',
    sql: 'WITH daily AS (SELECT date_trunc(\'DAY\', opened_at) AS day, COUNT(*) AS n FROM workspace.support_l3.claims GROUP BY 1), ranked AS (SELECT day, n, rank() OVER (ORDER BY n DESC) AS r FROM daily) SELECT date_format(day, \'yyyy-MM-dd\') AS label, n AS value FROM ranked WHERE r <= 5 ORDER BY r',
    tables: ['claims'],
  },
  {
    name: 'CTE named like a table it filters',
    sql: "WITH claims AS (SELECT * FROM workspace.support_l3.claims WHERE status = 'open') SELECT region AS label, COUNT(*) AS value FROM claims GROUP BY region",
    tables: ['claims'],
  },
  {
    name: 'CTE inside a FROM subquery',
    sql: 'SELECT s.label, s.value FROM (WITH t AS (SELECT team AS label, COUNT(*) AS value FROM workspace.support_l3.agents GROUP BY team) SELECT * FROM t) s ORDER BY s.value DESC',
    tables: ['agents'],
  },
  {
    name: 'recursive CTE referring to itself',
    sql: 'WITH RECURSIVE days (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM days WHERE n < 6) SELECT d.n AS label, COUNT(c.claim_id) AS value FROM days d LEFT JOIN workspace.support_l3.claims c ON datediff(current_date(), to_date(c.opened_at)) = d.n GROUP BY d.n ORDER BY d.n',
    tables: ['claims'],
  },
  {
    name: 'CTE used by both UNION ALL branches',
    sql: "WITH w AS (SELECT * FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end) SELECT 'resolved' AS label, count_if(resolved_first_contact) AS value FROM w UNION ALL SELECT 'transferred', count_if(transferred) FROM w",
    tables: ['interactions'],
  },
  {
    name: 'UNION ALL of two tables',
    sql: "SELECT 'claims' AS label, COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end UNION ALL SELECT 'sessions' AS label, COUNT(*) AS value FROM workspace.support_l3.issue_sessions WHERE started_at >= :start AND started_at < :end ORDER BY value DESC",
    tables: ['claims', 'issue_sessions'],
  },
  {
    name: 'UNION (distinct) of customer ids',
    sql: 'SELECT COUNT(*) AS value FROM (SELECT customer_id FROM workspace.support_l3.claims UNION SELECT customer_id FROM workspace.support_l3.interactions) u',
    tables: ['claims', 'interactions'],
  },
  {
    name: 'INTERSECT',
    sql: 'SELECT customer_id FROM workspace.support_l3.claims INTERSECT SELECT customer_id FROM workspace.support_l3.issue_sessions',
    tables: ['claims', 'issue_sessions'],
  },
  {
    name: 'EXCEPT',
    sql: 'SELECT COUNT(*) AS value FROM (SELECT customer_id FROM workspace.support_l3.customers EXCEPT SELECT customer_id FROM workspace.support_l3.interactions) quiet',
    tables: ['customers', 'interactions'],
  },
  {
    name: 'parenthesised UNION ALL branches with a top-level LIMIT',
    sql: '(SELECT claim_id AS id FROM workspace.support_l3.claims ORDER BY opened_at DESC LIMIT 5) UNION ALL (SELECT session_id FROM workspace.support_l3.issue_sessions ORDER BY started_at DESC LIMIT 5) LIMIT 8',
    tables: ['claims', 'issue_sessions'],
    expect: '(SELECT claim_id AS id FROM workspace.support_l3.claims ORDER BY opened_at DESC LIMIT 5) UNION ALL (SELECT session_id FROM workspace.support_l3.issue_sessions ORDER BY started_at DESC LIMIT 5) LIMIT 8',
  },
  {
    name: 'correlated EXISTS',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.customers cu WHERE EXISTS (SELECT 1 FROM workspace.support_l3.claims c WHERE c.customer_id = cu.customer_id AND c.opened_at >= :start AND c.opened_at < :end)',
    tables: ['customers', 'claims'],
  },
  {
    name: 'correlated NOT EXISTS',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.devices d WHERE NOT EXISTS (SELECT 1 FROM workspace.support_l3.claims c WHERE c.device_id = d.device_id)',
    tables: ['devices', 'claims'],
  },
  {
    name: 'IN subquery',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.interactions WHERE agent_id IN (SELECT agent_id FROM workspace.support_l3.agents WHERE team = 'escalations')",
    tables: ['interactions', 'agents'],
  },
  {
    name: 'scalar subquery in the select list',
    sql: 'SELECT COUNT(*) AS open_claims, (SELECT COUNT(*) FROM workspace.support_l3.claims) AS all_claims FROM workspace.support_l3.claims WHERE status = \'open\'',
    tables: ['claims'],
  },
  {
    name: 'scalar subquery in WHERE',
    sql: 'SELECT interaction_id, handle_seconds FROM workspace.support_l3.interactions WHERE handle_seconds > (SELECT AVG(handle_seconds) * 3 FROM workspace.support_l3.interactions) ORDER BY handle_seconds DESC LIMIT 20',
    tables: ['interactions'],
  },
  {
    name: 'subquery in HAVING',
    sql: 'SELECT region AS label, COUNT(*) AS value FROM workspace.support_l3.claims GROUP BY region HAVING COUNT(*) > (SELECT COUNT(*) / 10 FROM workspace.support_l3.claims)',
    tables: ['claims'],
  },
  {
    name: 'derived tables joined',
    sql: 'SELECT a.team AS label, ROUND(100.0 * x.fcr / NULLIF(x.n, 0), 2) AS value FROM (SELECT agent_id, count_if(resolved_first_contact) AS fcr, COUNT(*) AS n FROM workspace.support_l3.interactions GROUP BY agent_id) x JOIN workspace.support_l3.agents a ON a.agent_id = x.agent_id',
    tables: ['interactions', 'agents'],
  },

  // Window functions and QUALIFY.
  {
    name: 'QUALIFY top agent per team',
    sql: 'SELECT a.team, a.agent_name, COUNT(*) AS n FROM workspace.support_l3.interactions i JOIN workspace.support_l3.agents a ON i.agent_id = a.agent_id GROUP BY a.team, a.agent_name QUALIFY row_number() OVER (PARTITION BY a.team ORDER BY COUNT(*) DESC) = 1',
    tables: ['interactions', 'agents'],
  },
  {
    name: 'QUALIFY on an alias',
    sql: 'SELECT customer_id, opened_at, row_number() OVER (PARTITION BY customer_id ORDER BY opened_at DESC) AS rn FROM workspace.support_l3.claims QUALIFY rn = 1',
    tables: ['claims'],
  },
  {
    name: 'running total',
    sql: "SELECT date_format(day, 'yyyy-MM-dd') AS label, SUM(n) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS value FROM (SELECT date_trunc('DAY', opened_at) AS day, COUNT(*) AS n FROM workspace.support_l3.claims WHERE opened_at >= :start AND opened_at < :end GROUP BY 1) d ORDER BY label",
    tables: ['claims'],
  },
  {
    name: 'share of total with an empty window',
    sql: 'SELECT outcome AS label, ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 2) AS value FROM workspace.support_l3.issue_sessions GROUP BY outcome',
    tables: ['issue_sessions'],
  },
  {
    name: 'LAG week over week',
    sql: "WITH weekly AS (SELECT date_trunc('WEEK', started_at) AS week, COUNT(*) AS n FROM workspace.support_l3.interactions GROUP BY 1) SELECT date_format(week, 'yyyy-MM-dd') AS label, n - LAG(n, 1) OVER (ORDER BY week) AS value FROM weekly ORDER BY label",
    tables: ['interactions'],
  },
  {
    name: 'NTILE and DENSE_RANK',
    sql: 'SELECT agent_id, NTILE(4) OVER (ORDER BY handle_seconds) AS quartile, DENSE_RANK() OVER (ORDER BY handle_seconds DESC) AS r FROM workspace.support_l3.interactions WHERE started_at >= :start AND started_at < :end',
    tables: ['interactions'],
  },
  {
    name: 'named WINDOW clause',
    sql: 'SELECT agent_id, AVG(handle_seconds) OVER w AS avg_handle FROM workspace.support_l3.interactions WINDOW w AS (PARTITION BY agent_id ORDER BY started_at) LIMIT 100',
    tables: ['interactions'],
  },
  {
    name: 'first_value IGNORE NULLS',
    sql: 'SELECT customer_id, first_value(csat) IGNORE NULLS OVER (PARTITION BY customer_id ORDER BY started_at) AS first_csat FROM workspace.support_l3.interactions',
    tables: ['interactions'],
  },

  // Naming: qualified, unqualified, quoted, mixed case.
  {
    name: 'schema-qualified name',
    sql: 'SELECT COUNT(*) AS value FROM support_l3.claims',
    tables: ['claims'],
  },
  {
    name: 'bare table name',
    sql: 'SELECT COUNT(*) AS value FROM issue_sessions WHERE outcome = \'escalated\'',
    tables: ['issue_sessions'],
  },
  {
    name: 'backtick-quoted three-part name',
    sql: 'SELECT COUNT(*) AS `value` FROM `workspace`.`support_l3`.`claims` AS `c` WHERE `c`.`status` = \'open\'',
    tables: ['claims'],
  },
  {
    name: 'backticked alias with a space',
    sql: 'SELECT region AS `customer region`, COUNT(*) AS `value` FROM workspace.support_l3.customers GROUP BY region',
    tables: ['customers'],
  },
  {
    name: 'upper-case names',
    sql: 'SELECT COUNT(*) AS VALUE FROM WORKSPACE.SUPPORT_L3.AGENTS WHERE TEAM = \'claims\'',
    tables: ['agents'],
  },
  {
    name: 'no table at all',
    sql: 'SELECT 1 AS value',
    tables: [],
  },
  {
    name: 'inline VALUES',
    sql: "SELECT label, value FROM VALUES ('a', 1), ('b', 2) AS t(label, value)",
    tables: [],
  },
  {
    name: 'double-quoted string literal (a string in Databricks)',
    sql: 'SELECT date_format(opened_at, "yyyy-MM") AS label, COUNT(*) AS value FROM workspace.support_l3.claims GROUP BY 1',
    tables: ['claims'],
  },

  // Intervals.
  {
    name: "INTERVAL '7' DAY",
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.interactions WHERE started_at >= current_timestamp() - INTERVAL '7' DAY",
    tables: ['interactions'],
  },
  {
    name: "INTERVAL '30' MINUTE",
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.issue_sessions WHERE resolved_at IS NULL AND started_at < current_timestamp() - INTERVAL '30' MINUTE",
    tables: ['issue_sessions'],
  },
  {
    name: 'INTERVAL 7 DAYS is normalised',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= current_timestamp() - INTERVAL 7 DAYS',
    tables: ['claims'],
    expect: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at >= current_timestamp() - INTERVAL '7' DAY LIMIT 10000",
  },
  {
    name: 'INTERVAL 72 hours (lower case) is normalised',
    sql: 'SELECT count_if(closed_at > opened_at + interval 72 hours) AS value FROM workspace.support_l3.claims',
    tables: ['claims'],
    expect: "SELECT count_if(closed_at > opened_at + interval '72' HOUR) AS value FROM workspace.support_l3.claims LIMIT 10000",
  },
  {
    name: "INTERVAL '30' DAYS is normalised",
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.customers WHERE signup_date >= current_date() - INTERVAL '30' DAYS",
    tables: ['customers'],
    expect: "SELECT COUNT(*) AS value FROM workspace.support_l3.customers WHERE signup_date >= current_date() - INTERVAL '30' DAY LIMIT 10000",
  },
  {
    name: 'INTERVAL 1 DAY and INTERVAL -2 WEEKS are normalised',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at < :end - INTERVAL 1 DAY AND opened_at >= :end + INTERVAL -2 WEEKS',
    tables: ['claims'],
    expect: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE opened_at < :end - INTERVAL '1' DAY AND opened_at >= :end + INTERVAL '-2' WEEK LIMIT 10000",
  },
  {
    name: "'INTERVAL 7 DAYS' inside a string is left alone",
    sql: "SELECT 'INTERVAL 7 DAYS' AS label, COUNT(*) AS value FROM workspace.support_l3.claims",
    tables: ['claims'],
  },

  // Text around the statement: comments, semicolons, strings that look like code.
  {
    name: 'trailing semicolons are dropped',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims ; ;',
    tables: ['claims'],
    expect: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims LIMIT 10000',
  },
  {
    name: 'trailing line comment is dropped so the LIMIT is not commented out',
    sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims -- all claims; DROP TABLE x',
    tables: ['claims'],
    expect: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims LIMIT 10000',
  },
  {
    name: 'leading header comment and trailing block comment',
    sql: '-- tile: open claims\n/* generated */ SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE status = \'open\'; /* end */',
    tables: ['claims'],
    expect: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE status = 'open' LIMIT 10000",
  },
  {
    name: 'comment with a semicolon inside the statement',
    sql: 'SELECT COUNT(*) AS value -- one number; nothing else\nFROM workspace.support_l3.claims /* ; DROP TABLE claims; */ WHERE status = \'open\'',
    tables: ['claims'],
  },
  {
    name: 'string holding semicolons and comment markers',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.interactions WHERE issue_type <> '; DROP TABLE claims; -- /*'",
    tables: ['interactions'],
  },
  {
    name: 'string with a backslash-escaped quote',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.agents WHERE agent_name = 'O\\'Brien; DROP TABLE agents'",
    tables: ['agents'],
  },
  {
    name: 'string with a doubled quote',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.agents WHERE agent_name <> 'it''s; fine'",
    tables: ['agents'],
  },
  {
    name: 'string naming forbidden things',
    sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE product <> 'reflect(system.access.audit) read_files()'",
    tables: ['claims'],
  },
  {
    name: 'multi-line statement with tabs and CRLF',
    sql: 'SELECT\r\n\tregion AS label,\r\n\tCOUNT(*) AS value\r\nFROM workspace.support_l3.claims\r\nGROUP BY region\r\n',
    tables: ['claims'],
    expect: 'SELECT\r\n\tregion AS label,\r\n\tCOUNT(*) AS value\r\nFROM workspace.support_l3.claims\r\nGROUP BY region LIMIT 10000',
  },
  {
    name: 'non-ASCII text inside strings and comments',
    sql: "SELECT COUNT(*) AS value /* Übersicht — ✓ */ FROM workspace.support_l3.agents WHERE agent_name <> 'José Müller'",
    tables: ['agents'],
  },

  // LIMIT handling.
  {
    name: 'LIMIT above the maximum is lowered',
    sql: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at DESC LIMIT 1000000',
    tables: ['claims'],
    expect: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at DESC LIMIT 10000',
  },
  {
    name: 'absurd LIMIT is lowered, not rejected',
    sql: 'SELECT claim_id FROM workspace.support_l3.claims LIMIT 99999999999999999999999999999',
    tables: ['claims'],
    expect: 'SELECT claim_id FROM workspace.support_l3.claims LIMIT 10000',
  },
  {
    name: 'LIMIT with OFFSET',
    sql: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at LIMIT 50 OFFSET 100',
    tables: ['claims'],
    expect: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at LIMIT 50 OFFSET 100',
  },
  {
    name: 'OFFSET without LIMIT gets a LIMIT in front of it',
    sql: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at OFFSET 10',
    tables: ['claims'],
    expect: 'SELECT claim_id FROM workspace.support_l3.claims ORDER BY opened_at LIMIT 10000 OFFSET 10',
  },
  {
    name: 'LIMIT only inside a subquery: a top-level one is added',
    sql: 'SELECT * FROM (SELECT claim_id FROM workspace.support_l3.claims ORDER BY claim_cost DESC LIMIT 5) top_claims',
    tables: ['claims'],
    expect: 'SELECT * FROM (SELECT claim_id FROM workspace.support_l3.claims ORDER BY claim_cost DESC LIMIT 5) top_claims LIMIT 10000',
  },
  {
    name: 'whole query in parentheses',
    sql: '(SELECT claim_id FROM workspace.support_l3.claims LIMIT 3)',
    tables: ['claims'],
    expect: '(SELECT claim_id FROM workspace.support_l3.claims LIMIT 3) LIMIT 10000',
  },
  {
    name: 'lower-case limit keyword',
    sql: 'select claim_id from workspace.support_l3.claims limit 7',
    tables: ['claims'],
    expect: 'select claim_id from workspace.support_l3.claims limit 7',
  },
];

/** Statements that must pass: the dictionary's metric queries plus a broad analytical set. */
export const VALID: readonly ValidCase[] = [...METRIC_QUERIES, ...ANALYTICAL];

/** Statements that must be refused, with the code they must be refused with. */
export const ATTACKS: readonly AttackCase[] = [
  // DDL, DML and commands.
  { name: 'DROP TABLE', sql: 'DROP TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'drop table in lower case', sql: 'drop table claims', code: 'not_select' },
  { name: 'DROP SCHEMA CASCADE', sql: 'DROP SCHEMA workspace.support_l3 CASCADE', code: 'not_select' },
  { name: 'CREATE TABLE AS SELECT', sql: 'CREATE TABLE workspace.support_l3.copy AS SELECT * FROM workspace.support_l3.claims', code: 'not_select' },
  { name: 'CREATE OR REPLACE VIEW', sql: 'CREATE OR REPLACE VIEW workspace.support_l3.claims AS SELECT 1 AS x', code: 'not_select' },
  { name: 'CREATE FUNCTION', sql: "CREATE FUNCTION f() RETURNS STRING RETURN 'x'", code: 'not_select' },
  { name: 'ALTER TABLE', sql: 'ALTER TABLE workspace.support_l3.claims ADD COLUMN pwned INT', code: 'not_select' },
  { name: 'INSERT INTO', sql: "INSERT INTO workspace.support_l3.claims (claim_id) VALUES ('x')", code: 'not_select' },
  { name: 'INSERT OVERWRITE', sql: 'INSERT OVERWRITE workspace.support_l3.claims SELECT * FROM workspace.support_l3.claims WHERE 1 = 0', code: 'not_select' },
  { name: 'UPDATE', sql: 'UPDATE workspace.support_l3.claims SET claim_cost = 0', code: 'not_select' },
  { name: 'DELETE', sql: 'DELETE FROM workspace.support_l3.claims WHERE 1 = 1', code: 'not_select' },
  { name: 'MERGE', sql: 'MERGE INTO workspace.support_l3.claims t USING workspace.support_l3.devices s ON t.device_id = s.device_id WHEN MATCHED THEN DELETE', code: 'not_select' },
  { name: 'TRUNCATE', sql: 'TRUNCATE TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'GRANT', sql: 'GRANT SELECT ON TABLE workspace.support_l3.claims TO `account users`', code: 'not_select' },
  { name: 'REVOKE', sql: 'REVOKE SELECT ON TABLE workspace.support_l3.claims FROM `analysts`', code: 'not_select' },
  { name: 'COPY INTO', sql: "COPY INTO workspace.support_l3.claims FROM 's3://bucket/x' FILEFORMAT = CSV", code: 'not_select' },
  { name: 'OPTIMIZE', sql: 'OPTIMIZE workspace.support_l3.claims ZORDER BY (opened_at)', code: 'not_select' },
  { name: 'VACUUM', sql: 'VACUUM workspace.support_l3.claims RETAIN 0 HOURS', code: 'not_select' },
  { name: 'SET', sql: 'SET spark.databricks.delta.retentionDurationCheck.enabled = false', code: 'not_select' },
  { name: 'RESET', sql: 'RESET', code: 'not_select' },
  { name: 'USE CATALOG', sql: 'USE CATALOG system', code: 'not_select' },
  { name: 'SHOW TABLES', sql: 'SHOW TABLES IN workspace.support_l3', code: 'not_select' },
  { name: 'DESCRIBE', sql: 'DESCRIBE TABLE EXTENDED workspace.support_l3.claims', code: 'not_select' },
  { name: 'EXPLAIN', sql: 'EXPLAIN SELECT * FROM workspace.support_l3.claims', code: 'not_select' },
  { name: 'CALL', sql: 'CALL system.some_procedure()', code: 'not_select' },
  { name: 'EXECUTE IMMEDIATE', sql: "EXECUTE IMMEDIATE 'DROP TABLE workspace.support_l3.claims'", code: 'not_select' },
  { name: 'CACHE TABLE', sql: 'CACHE TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'UNCACHE TABLE', sql: 'UNCACHE TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'REFRESH TABLE', sql: 'REFRESH TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'ANALYZE TABLE', sql: 'ANALYZE TABLE workspace.support_l3.claims COMPUTE STATISTICS', code: 'not_select' },
  { name: 'MSCK REPAIR', sql: 'MSCK REPAIR TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'RESTORE', sql: 'RESTORE TABLE workspace.support_l3.claims TO VERSION AS OF 1', code: 'not_select' },
  { name: 'WITH ... INSERT', sql: 'WITH x AS (SELECT * FROM workspace.support_l3.claims) INSERT INTO workspace.support_l3.claims SELECT * FROM x', code: 'not_select' },
  { name: 'parenthesised DROP', sql: '(DROP TABLE workspace.support_l3.claims)', code: 'not_select' },
  { name: 'comment before DROP', sql: '/* harmless */ -- really\nDROP TABLE workspace.support_l3.claims', code: 'not_select' },
  { name: 'SELECT INTO', sql: 'SELECT * INTO stolen FROM workspace.support_l3.claims', code: 'not_select' },
  { name: 'FROM-first query', sql: 'FROM workspace.support_l3.claims SELECT *', code: 'not_select' },
  { name: 'bare VALUES', sql: 'VALUES (1), (2)', code: 'not_select' },
  { name: 'TABLE statement', sql: 'TABLE workspace.support_l3.claims', code: 'not_select' },

  // Stacked statements.
  { name: 'stacked DROP', sql: 'SELECT 1; DROP TABLE workspace.support_l3.claims', code: 'multiple_statements' },
  { name: 'stacked without space', sql: 'SELECT 1;DROP TABLE claims', code: 'multiple_statements' },
  { name: 'two SELECTs', sql: 'SELECT * FROM workspace.support_l3.claims; SELECT * FROM system.access.audit', code: 'multiple_statements' },
  { name: 'leading semicolon', sql: '; DROP TABLE claims', code: 'multiple_statements' },
  { name: 'empty statement between', sql: 'SELECT 1 ; ; DELETE FROM claims', code: 'multiple_statements' },
  { name: 'second statement after a comment line', sql: 'SELECT 1; -- nothing to see\nDROP TABLE claims', code: 'multiple_statements' },
  { name: 'semicolon between block comments', sql: 'SELECT 1 /* a */ ; /* b */ DROP TABLE claims', code: 'multiple_statements' },
  { name: 'string semicolon then a real one', sql: "SELECT ';' AS s; DROP TABLE claims", code: 'multiple_statements' },
  { name: 'doubled-quote string then a real semicolon', sql: "SELECT 'a'';' AS s; DELETE FROM claims", code: 'multiple_statements' },
  { name: 'semicolon inside parentheses', sql: 'SELECT (1; DROP TABLE claims)', code: 'multiple_statements' },
  { name: 'line comment ended by CR', sql: 'SELECT 1 -- comment\r; DROP TABLE claims', code: 'multiple_statements' },
  { name: 'escaped quote does not end the string early', sql: "SELECT 'it\\'s' AS s; DROP TABLE claims", code: 'multiple_statements' },

  // Comment tricks.
  { name: 'nested block comment', sql: 'SELECT 1 /* /* */ DROP TABLE claims */', code: 'forbidden_construct' },
  { name: 'nested comment hiding a string boundary', sql: "SELECT 1 AS a /* /* */ ' */ , (SELECT max(event_time) FROM system.access.audit) AS leak -- '", code: 'forbidden_construct' },
  { name: 'line comment continued by a backslash', sql: 'SELECT COUNT(*) AS value FROM workspace.support_l3.claims -- note \\\nWHERE 1 = 1', code: 'forbidden_construct' },
  { name: 'optimizer hint', sql: 'SELECT /*+ REPARTITION(100000) */ * FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'unterminated block comment', sql: 'SELECT 1 /* DROP TABLE claims', code: 'unparseable' },
  { name: "'//' comment of other dialects", sql: 'SELECT 1 // , (SELECT 1 FROM system.access.audit)', code: 'unparseable' },
  { name: "'#' comment of other dialects", sql: 'SELECT 1 # ; DROP TABLE claims', code: 'unparseable' },

  // Tables outside the allowlist, directly or hidden in the tree.
  { name: 'system audit log', sql: 'SELECT * FROM system.access.audit', code: 'table_not_allowed' },
  { name: 'system billing', sql: 'SELECT SUM(usage_quantity) FROM system.billing.usage', code: 'table_not_allowed' },
  { name: 'information_schema', sql: 'SELECT table_name FROM information_schema.tables', code: 'table_not_allowed' },
  { name: 'catalog information_schema', sql: 'SELECT column_name FROM workspace.information_schema.columns', code: 'table_not_allowed' },
  { name: 'hive_metastore', sql: 'SELECT * FROM hive_metastore.default.people', code: 'table_not_allowed' },
  { name: 'samples catalog', sql: 'SELECT * FROM samples.nyctaxi.trips', code: 'table_not_allowed' },
  { name: 'same table, other catalog', sql: 'SELECT * FROM prod.support_l3.claims', code: 'table_not_allowed' },
  { name: 'same table, other schema', sql: 'SELECT * FROM workspace.finance.claims', code: 'table_not_allowed' },
  { name: 'same table, other schema (two parts)', sql: 'SELECT * FROM support_l4.claims', code: 'table_not_allowed' },
  { name: 'unlisted table in the schema', sql: 'SELECT * FROM workspace.support_l3.users', code: 'table_not_allowed' },
  { name: 'unlisted bare table', sql: 'SELECT * FROM secrets', code: 'table_not_allowed' },
  { name: 'dotted name in one backtick identifier', sql: 'SELECT * FROM `workspace.support_l3.claims`', code: 'table_not_allowed' },
  { name: 'homoglyph table name in backticks', sql: 'SELECT * FROM workspace.support_l3.`\u0441laims`', code: 'table_not_allowed' },
  { name: 'hidden in a CTE body', sql: 'WITH a AS (SELECT * FROM system.access.audit) SELECT COUNT(*) FROM workspace.support_l3.claims', code: 'table_not_allowed' },
  { name: 'hidden in a CTE named like a table', sql: 'WITH claims AS (SELECT * FROM system.access.audit) SELECT * FROM claims', code: 'table_not_allowed' },
  { name: 'hidden in a FROM subquery', sql: 'SELECT * FROM (SELECT * FROM system.access.audit) a', code: 'table_not_allowed' },
  { name: 'hidden in parentheses without a subquery', sql: 'SELECT * FROM (system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in a parenthesised join', sql: 'SELECT * FROM (workspace.support_l3.claims c JOIN system.access.audit a ON true)', code: 'table_not_allowed' },
  { name: 'hidden in a WHERE IN subquery', sql: 'SELECT * FROM workspace.support_l3.claims WHERE customer_id IN (SELECT user_id FROM system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in EXISTS', sql: 'SELECT * FROM workspace.support_l3.claims WHERE EXISTS (SELECT 1 FROM system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in a scalar subquery in SELECT', sql: 'SELECT (SELECT max(event_time) FROM system.access.audit) AS leak FROM workspace.support_l3.claims', code: 'table_not_allowed' },
  { name: 'hidden in HAVING', sql: 'SELECT region FROM workspace.support_l3.claims GROUP BY region HAVING COUNT(*) > (SELECT COUNT(*) FROM system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in QUALIFY', sql: 'SELECT claim_id FROM workspace.support_l3.claims QUALIFY row_number() OVER (ORDER BY opened_at) < (SELECT COUNT(*) FROM system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in a UNION ALL branch', sql: 'SELECT claim_id FROM workspace.support_l3.claims UNION ALL SELECT user_id FROM system.access.audit', code: 'table_not_allowed' },
  { name: 'hidden in an INTERSECT branch', sql: 'SELECT customer_id FROM workspace.support_l3.claims INTERSECT SELECT user_id FROM system.access.audit', code: 'table_not_allowed' },
  { name: 'hidden in an EXCEPT branch', sql: 'SELECT customer_id FROM workspace.support_l3.claims EXCEPT SELECT user_id FROM hive_metastore.default.people', code: 'table_not_allowed' },
  { name: 'hidden in a lateral join', sql: 'SELECT * FROM workspace.support_l3.claims c JOIN LATERAL (SELECT * FROM system.access.audit a WHERE a.user_id = c.customer_id) l ON true', code: 'table_not_allowed' },
  { name: 'hidden in a JOIN condition', sql: 'SELECT * FROM workspace.support_l3.claims c JOIN workspace.support_l3.devices d ON c.device_id = d.device_id AND EXISTS (SELECT 1 FROM system.access.audit)', code: 'table_not_allowed' },
  { name: 'hidden in CASE', sql: "SELECT CASE WHEN status = 'open' THEN (SELECT max(user_id) FROM system.access.audit) END FROM workspace.support_l3.claims", code: 'table_not_allowed' },
  { name: 'hidden in a function argument', sql: 'SELECT coalesce((SELECT max(user_id) FROM system.access.audit), 0) AS leak', code: 'table_not_allowed' },
  { name: 'hidden in a window ORDER BY', sql: 'SELECT row_number() OVER (ORDER BY (SELECT 1 FROM system.access.audit)) FROM workspace.support_l3.claims', code: 'table_not_allowed' },
  { name: 'hidden in an inline VALUES row', sql: 'SELECT * FROM VALUES (1), ((SELECT COUNT(*) FROM system.access.audit)) AS v(n)', code: 'table_not_allowed' },
  { name: 'hidden in a nested CTE inside a subquery', sql: 'SELECT * FROM (WITH inner_cte AS (SELECT * FROM system.access.audit) SELECT * FROM inner_cte) s', code: 'table_not_allowed' },
  { name: 'CTE name used outside its scope', sql: 'SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT * FROM x) s JOIN x ON true', code: 'table_not_allowed' },
  { name: 'CTE referencing itself without RECURSIVE', sql: 'WITH loop_cte AS (SELECT * FROM loop_cte) SELECT * FROM loop_cte', code: 'table_not_allowed' },
  { name: 'qualified name is not a CTE', sql: 'WITH audit AS (SELECT 1 AS a) SELECT * FROM system.audit', code: 'table_not_allowed' },
  { name: 'CTE of a parenthesised first branch does not reach the next branch', sql: '(WITH c AS (SELECT 1 AS a) SELECT * FROM c) UNION ALL SELECT * FROM c', code: 'table_not_allowed' },

  // File and path sources, table-valued functions, IDENTIFIER.
  { name: 'read_files in FROM', sql: "SELECT * FROM read_files('s3://bucket/exports/', format => 'csv')", code: 'forbidden_function' },
  { name: 'read_files in the select list', sql: "SELECT read_files('/Volumes/x') AS f", code: 'forbidden_function' },
  { name: 'read_kafka', sql: "SELECT * FROM read_kafka(bootstrapServers => 'kafka:9092', subscribe => 'events')", code: 'forbidden_function' },
  { name: 'table_changes', sql: "SELECT * FROM table_changes('system.access.audit', 0)", code: 'forbidden_function' },
  { name: 'range table function', sql: 'SELECT COUNT(*) FROM range(1000000000000)', code: 'forbidden_function' },
  { name: 'unknown table-valued function', sql: 'SELECT * FROM STREAM(workspace.support_l3.claims)', code: 'forbidden_construct' },
  { name: 'lateral table-valued function', sql: 'SELECT * FROM workspace.support_l3.claims c, LATERAL my_tvf(c.claim_id)', code: 'forbidden_construct' },
  { name: 'script transform', sql: "SELECT TRANSFORM(claim_id) USING 'cat /etc/passwd' AS (x) FROM workspace.support_l3.claims", code: 'forbidden_construct' },
  { name: 'variable substitution inside a string', sql: "SELECT '${env:DATABRICKS_TOKEN}' AS token", code: 'forbidden_construct' },
  { name: 'variable substitution of a configuration value', sql: "SELECT COUNT(*) FROM workspace.support_l3.claims WHERE product = '${spark.databricks.workspaceUrl}'", code: 'forbidden_construct' },
  { name: 'csv path source', sql: 'SELECT * FROM csv.`/tmp/exports/claims.csv`', code: 'forbidden_construct' },
  { name: 'delta path source', sql: 'SELECT * FROM delta.`/mnt/raw/claims`', code: 'forbidden_construct' },
  { name: 'parquet cloud source', sql: 'SELECT * FROM parquet.`s3://bucket/claims/`', code: 'forbidden_construct' },
  { name: 'json path source in a join', sql: 'SELECT * FROM workspace.support_l3.claims c JOIN json.`/Volumes/x/y.json` j ON true', code: 'forbidden_construct' },
  { name: 'bare path in backticks', sql: 'SELECT * FROM `dbfs:/tmp/claims`', code: 'forbidden_construct' },
  { name: 'IDENTIFIER in FROM', sql: "SELECT * FROM IDENTIFIER('system.access.audit')", code: 'forbidden_construct' },
  { name: 'IDENTIFIER with a parameter', sql: 'SELECT * FROM IDENTIFIER(:tbl)', code: 'forbidden_construct' },
  { name: 'identifier in lower case with a space', sql: "SELECT identifier ('claim_cost') FROM workspace.support_l3.claims", code: 'forbidden_construct' },

  // Forbidden functions.
  { name: 'reflect', sql: "SELECT reflect('java.lang.Runtime', 'getRuntime') AS x", code: 'forbidden_function' },
  { name: 'reflect in mixed case', sql: "SELECT ReFlEcT('java.lang.System', 'getenv', 'PATH') AS x", code: 'forbidden_function' },
  { name: 'reflect in backticks', sql: "SELECT `reflect`('java.lang.System', 'getenv', 'PATH') AS x", code: 'forbidden_function' },
  { name: 'reflect with a comment before the parenthesis', sql: "SELECT reflect /* x */ ('java.lang.System', 'getenv', 'HOME') AS x", code: 'forbidden_function' },
  { name: 'java_method nested deep', sql: "SELECT upper(lower(coalesce(java_method('java.lang.System', 'getenv', 'PATH'), 'x'))) AS x FROM workspace.support_l3.claims", code: 'forbidden_function' },
  { name: 'try_reflect', sql: "SELECT try_reflect('java.lang.System', 'getenv', 'PATH') AS x", code: 'forbidden_function' },
  { name: 'secret', sql: "SELECT secret('prod', 'db-password') AS x", code: 'forbidden_function' },
  { name: 'try_secret', sql: "SELECT TRY_SECRET('prod', 'db-password') AS x", code: 'forbidden_function' },
  { name: 'http_request', sql: "SELECT http_request(conn => 'exfil', method => 'POST', path => '/x', json => to_json(named_struct('a', 1))) AS r", code: 'forbidden_function' },
  { name: 'ai_query', sql: "SELECT ai_query('databricks-meta-llama', concat('summarise ', product)) FROM workspace.support_l3.claims", code: 'forbidden_function' },
  { name: 'ai_ family in upper case', sql: 'SELECT AI_SUMMARIZE(product) FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: 'input_file_name', sql: 'SELECT input_file_name() AS path FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: '_metadata.file_path', sql: 'SELECT _metadata.file_path FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: '_metadata qualified by its table', sql: 'SELECT c._metadata.file_name AS f FROM workspace.support_l3.claims c', code: 'forbidden_construct' },
  { name: '_metadata whole', sql: 'SELECT `_metadata` AS m FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: '_metadata in a filter', sql: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE _metadata.file_size > 0", code: 'forbidden_construct' },
  { name: 'current_user()', sql: 'SELECT current_user() AS who', code: 'forbidden_function' },
  { name: 'current_user without parentheses', sql: 'SELECT current_user AS who FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: 'session_user', sql: 'SELECT session_user AS who', code: 'forbidden_function' },
  { name: 'user as a niladic function', sql: 'SELECT user AS who FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: 'is_member', sql: "SELECT is_member('admins') AS admin", code: 'forbidden_function' },
  { name: 'sleep', sql: 'SELECT sleep(1000) AS x', code: 'forbidden_function' },
  { name: 'pg_sleep in WHERE', sql: 'SELECT * FROM workspace.support_l3.claims WHERE pg_sleep(10) IS NULL', code: 'forbidden_function' },
  { name: 'forbidden function in HAVING', sql: "SELECT region FROM workspace.support_l3.claims GROUP BY region HAVING max(reflect('a', 'b')) IS NULL", code: 'forbidden_function' },
  { name: 'forbidden function in ORDER BY', sql: "SELECT claim_id FROM workspace.support_l3.claims ORDER BY java_method('java.util.UUID', 'randomUUID')", code: 'forbidden_function' },
  { name: 'forbidden function in a CTE', sql: "WITH x AS (SELECT secret('s', 'k') AS v) SELECT * FROM x", code: 'forbidden_function' },
  { name: 'forbidden function in a subquery', sql: "SELECT * FROM workspace.support_l3.claims WHERE claim_id IN (SELECT reflect('a', 'b'))", code: 'forbidden_function' },
  { name: 'schema-qualified UDF', sql: 'SELECT support_l3.exfiltrate(claim_id) FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: 'catalog-qualified UDF', sql: 'SELECT workspace.support_l3.exfiltrate(claim_id) FROM workspace.support_l3.claims', code: 'forbidden_function' },
  { name: 'explode of a huge sequence', sql: 'SELECT explode(sequence(1, 2000000000)) AS n', code: 'forbidden_function' },
  { name: 'xpath', sql: "SELECT xpath('<a><b>1</b></a>', 'a/b/text()') AS x", code: 'forbidden_function' },

  // Unicode, invisible characters and other lexical tricks.
  { name: 'full-width semicolon', sql: 'SELECT 1 FROM workspace.support_l3.claims\uFF1B DROP TABLE claims', code: 'forbidden_construct' },
  { name: 'no-break space as a separator', sql: 'SELECT\u00A0* FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'zero-width space inside a keyword', sql: 'DR\u200BOP TABLE claims', code: 'forbidden_construct' },
  { name: 'Cyrillic letter in a keyword', sql: '\u0405ELECT * FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'line separator U+2028', sql: 'SELECT 1\u2028FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'right-to-left override', sql: 'SELECT \u202E1 FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'byte order mark', sql: '\uFEFFSELECT 1', code: 'forbidden_construct' },
  { name: 'vertical tab', sql: 'SELECT\u000B1', code: 'forbidden_construct' },
  { name: 'NUL byte', sql: 'SELECT 1\u0000; DROP TABLE claims', code: 'forbidden_construct' },
  { name: 'raw string literal', sql: "SELECT r'\\' , (SELECT max(user_id) FROM system.access.audit) AS leak, r'\\'", code: 'forbidden_construct' },
  { name: 'raw string literal in upper case', sql: "SELECT R'\\' AS a, (SELECT 1 FROM system.access.audit) AS b, R'\\'", code: 'forbidden_construct' },
  { name: 'backslash before the closing quote of a hex literal', sql: "SELECT X'\\' AS x", code: 'unparseable' },
  { name: 'double-quoted text with a backslash', sql: 'SELECT "a\\"b" AS x FROM workspace.support_l3.claims', code: 'forbidden_construct' },
  { name: 'escaped backtick', sql: 'SELECT 1 AS `a``b`', code: 'forbidden_construct' },

  // LIMIT that is not a literal.
  { name: 'LIMIT parameter', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT :n', code: 'forbidden_construct' },
  { name: 'LIMIT ALL', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT ALL', code: 'forbidden_construct' },
  { name: 'LIMIT expression', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT 10 + 5', code: 'forbidden_construct' },
  { name: 'LIMIT subquery', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT (SELECT COUNT(*) FROM workspace.support_l3.claims)', code: 'forbidden_construct' },
  { name: 'negative LIMIT', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT -1', code: 'forbidden_construct' },
  { name: 'OFFSET parameter', sql: 'SELECT * FROM workspace.support_l3.claims LIMIT 5 OFFSET :skip', code: 'forbidden_construct' },

  // Nothing there.
  { name: 'empty string', sql: '', code: 'empty' },
  { name: 'whitespace only', sql: '  \n\t \r\n', code: 'empty' },
  { name: 'line comment only', sql: '-- SELECT * FROM claims', code: 'empty' },
  { name: 'block comment only', sql: '/* SELECT * FROM claims */', code: 'empty' },
  { name: 'semicolons only', sql: ' ; ;; ', code: 'empty' },

  // Garbage and things the parser cannot read.
  { name: 'prose', sql: 'show me the claims please', code: 'not_select' },
  { name: 'random words', sql: 'hello world', code: 'unparseable' },
  { name: 'a number', sql: '42', code: 'unparseable' },
  { name: 'SELECT alone', sql: 'SELECT', code: 'unparseable' },
  { name: 'FROM without a table', sql: 'SELECT * FROM', code: 'unparseable' },
  { name: 'typo in SELECT', sql: 'SELEC * FROM workspace.support_l3.claims', code: 'unparseable' },
  { name: 'unterminated string', sql: "SELECT 'open FROM workspace.support_l3.claims", code: 'unparseable' },
  { name: 'unbalanced parenthesis', sql: 'SELECT (1 FROM workspace.support_l3.claims', code: 'unparseable' },
  { name: 'stray closing parenthesis', sql: 'SELECT 1) FROM workspace.support_l3.claims', code: 'unparseable' },
  { name: 'positional parameter', sql: 'SELECT * FROM workspace.support_l3.claims WHERE claim_id = ?', code: 'unparseable' },
  { name: 'session variable', sql: 'SELECT @password', code: 'unparseable' },
  { name: 'dollar-quoted text', sql: 'SELECT $$ DROP TABLE claims $$', code: 'unparseable' },
  { name: 'double-quoted table names (strings in Databricks)', sql: 'SELECT * FROM "system"."access"', code: 'unparseable' },
  { name: 'double-quoted allowlisted table name (a string in Databricks)', sql: 'SELECT * FROM "claims"', code: 'unparseable' },
  { name: 'single-quoted table name', sql: "SELECT * FROM 'claims' c", code: 'unparseable' },
  { name: 'time travel', sql: "SELECT * FROM workspace.support_l3.claims TIMESTAMP AS OF '2020-01-01'", code: 'unparseable' },
  { name: 'version suffix', sql: 'SELECT * FROM workspace.support_l3.claims@v1', code: 'unparseable' },
  { name: 'TABLE in a set operation', sql: 'SELECT * FROM workspace.support_l3.claims UNION ALL TABLE system.access.audit', code: 'unparseable' },
  { name: 'FROM-first subquery', sql: 'SELECT * FROM (FROM system.access.audit SELECT *)', code: 'unparseable' },
  { name: 'nesting beyond the limit', sql: `SELECT ${'('.repeat(70)}1${')'.repeat(70)}`, code: 'unparseable' },
  { name: 'far too long', sql: `SELECT 1 AS x${' '.repeat(25_000)}`, code: 'unparseable' },
];
