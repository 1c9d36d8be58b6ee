-- Operational data the app itself owns: issue sessions, claims, devices, alerts and
-- recommendations, as the Postgres-routed tiles read them. seed_demo_data() fills them
-- deterministically relative to an anchor time; the demo reset calls it again.
CREATE TABLE devices (
  device_id text PRIMARY KEY,
  customer_id text NOT NULL,
  make text NOT NULL,
  model text NOT NULL,
  os text NOT NULL,
  purchased_on date NOT NULL
);

CREATE TABLE issue_sessions (
  session_id text PRIMARY KEY,
  customer_id text NOT NULL,
  device_id text REFERENCES devices (device_id),
  issue_type text NOT NULL,
  channel text NOT NULL,
  region text NOT NULL,
  started_at timestamptz NOT NULL,
  resolved_at timestamptz,
  outcome text CHECK (outcome IN ('resolved', 'escalated', 'abandoned', 'claim_filed')),
  nps_impact double precision NOT NULL DEFAULT 0
);
CREATE INDEX issue_sessions_started_idx ON issue_sessions (started_at);
CREATE INDEX issue_sessions_open_idx ON issue_sessions (started_at) WHERE resolved_at IS NULL;

CREATE TABLE claims (
  claim_id text PRIMARY KEY,
  customer_id text NOT NULL,
  device_id text REFERENCES devices (device_id),
  product text NOT NULL,
  claim_type text NOT NULL CHECK (claim_type IN ('damage', 'loss', 'theft', 'malfunction')),
  status text NOT NULL CHECK (status IN ('open', 'approved', 'denied', 'fulfilled', 'cancelled')),
  region text NOT NULL,
  opened_at timestamptz NOT NULL,
  closed_at timestamptz,
  claim_cost numeric(12, 2) NOT NULL,
  cost_avoided numeric(12, 2) NOT NULL
);
CREATE INDEX claims_opened_idx ON claims (opened_at);

CREATE TABLE alerts (
  alert_id text PRIMARY KEY,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  title text NOT NULL,
  metric_name text REFERENCES metrics (name),
  opened_at timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE INDEX alerts_open_idx ON alerts (opened_at) WHERE resolved_at IS NULL;

CREATE TABLE recommendations (
  recommendation_id text PRIMARY KEY,
  issue_type text NOT NULL,
  action text NOT NULL,
  description text NOT NULL,
  base_score double precision NOT NULL,
  accepted_count integer NOT NULL DEFAULT 0,
  success_count integer NOT NULL DEFAULT 0
);

-- A number in [0, 1) that depends only on its inputs, so every seed is identical.
CREATE FUNCTION demo_random(seed text, i integer) RETURNS double precision
  LANGUAGE sql IMMUTABLE AS $$ SELECT ((hashtext(seed || ':' || i)::bigint + 2147483648) % 1000000) / 1000000.0 $$;

CREATE FUNCTION seed_demo_data(anchor timestamptz) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  regions text[] := ARRAY['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM'];
  products text[] := ARRAY['Mobile Protect', 'Home Tech', 'Appliance Care', 'Tablet Shield'];
  issue_types text[] := ARRAY['screen_damage', 'battery', 'connectivity', 'setup', 'billing', 'lost_device'];
  channels text[] := ARRAY['phone', 'chat', 'app', 'email'];
BEGIN
  DELETE FROM alerts;
  DELETE FROM claims;
  DELETE FROM issue_sessions;
  DELETE FROM devices;
  DELETE FROM recommendations;

  INSERT INTO devices (device_id, customer_id, make, model, os, purchased_on)
  SELECT 'D' || lpad(i::text, 5, '0'), 'C' || lpad((1 + floor(demo_random('cust', i) * 4000))::int::text, 5, '0'),
         (ARRAY['Apple', 'Samsung', 'Google', 'Motorola'])[1 + floor(demo_random('make', i) * 4)::int],
         'Model ' || (1 + floor(demo_random('model', i) * 12))::int,
         (ARRAY['iOS', 'Android'])[1 + floor(demo_random('os', i) * 2)::int],
         (anchor - (floor(demo_random('buy', i) * 900) || ' days')::interval)::date
    FROM generate_series(1, 3000) AS i;

  -- Sessions over the last 60 days, busier on weekdays; the recent ones are still open.
  INSERT INTO issue_sessions (session_id, customer_id, device_id, issue_type, channel, region, started_at, resolved_at, outcome, nps_impact)
  SELECT 'S' || lpad(i::text, 6, '0'), d.customer_id, d.device_id,
         issue_types[1 + floor(demo_random('issue', i) * 6)::int],
         channels[1 + floor(demo_random('channel', i) * 4)::int],
         regions[1 + floor(demo_random('region', i) * 5)::int],
         s.started_at,
         CASE WHEN s.started_at > anchor - interval '3 hours' AND demo_random('open', i) < 0.7 THEN NULL
              ELSE s.started_at + ((5 + demo_random('dur', i) * 55) || ' minutes')::interval END,
         CASE WHEN s.started_at > anchor - interval '3 hours' AND demo_random('open', i) < 0.7 THEN NULL
              ELSE (ARRAY['resolved', 'resolved', 'resolved', 'escalated', 'abandoned', 'claim_filed'])[1 + floor(demo_random('outcome', i) * 6)::int] END,
         round((demo_random('nps', i) * 4 - 1.3)::numeric, 2)::double precision
    FROM generate_series(1, 8000) AS i
    JOIN devices d ON d.device_id = 'D' || lpad((1 + (i % 3000))::text, 5, '0')
    CROSS JOIN LATERAL (SELECT anchor - ((demo_random('start', i) ^ 1.3) * 60 * 86400 || ' seconds')::interval AS started_at) s;

  -- Claims over the last 90 days; older claims are mostly closed, cost avoided trends upward.
  INSERT INTO claims (claim_id, customer_id, device_id, product, claim_type, status, region, opened_at, closed_at, claim_cost, cost_avoided)
  SELECT 'K' || lpad(i::text, 6, '0'), d.customer_id, d.device_id,
         products[1 + floor(demo_random('product', i) * 4)::int],
         (ARRAY['damage', 'damage', 'malfunction', 'loss', 'theft'])[1 + floor(demo_random('ctype', i) * 5)::int],
         CASE WHEN c.age_days < 2 THEN 'open'
              WHEN c.age_days < 7 AND demo_random('st', i) < 0.4 THEN 'open'
              ELSE (ARRAY['approved', 'fulfilled', 'fulfilled', 'denied', 'cancelled'])[1 + floor(demo_random('status', i) * 5)::int] END,
         regions[1 + floor(demo_random('cregion', i) * 5)::int],
         c.opened_at,
         CASE WHEN c.age_days < 2 OR (c.age_days < 7 AND demo_random('st', i) < 0.4) THEN NULL
              ELSE c.opened_at + ((6 + demo_random('close', i) * 110) || ' hours')::interval END,
         round((80 + demo_random('cost', i) * 620)::numeric, 2),
         round(((40 + demo_random('avoid', i) * 260) * (1.3 - c.age_days / 180.0))::numeric, 2)
    FROM generate_series(1, 2500) AS i
    JOIN devices d ON d.device_id = 'D' || lpad((1 + ((i * 7) % 3000))::text, 5, '0')
    CROSS JOIN LATERAL (SELECT demo_random('opened', i) * 90 AS age_days) a
    CROSS JOIN LATERAL (SELECT a.age_days, anchor - (a.age_days * 86400 || ' seconds')::interval AS opened_at) c;

  INSERT INTO alerts (alert_id, severity, title, metric_name, opened_at, resolved_at)
  SELECT 'A' || lpad(i::text, 4, '0'),
         (ARRAY['info', 'warning', 'warning', 'critical'])[1 + floor(demo_random('sev', i) * 4)::int],
         (ARRAY['Handle time above target in EMEA', 'Claim backlog growing', 'CSAT dip on chat', 'SLA breaches rising',
                'Repeat contacts up for battery issues', 'Abandonment spike on phone'])[1 + floor(demo_random('title', i) * 6)::int],
         (ARRAY['avg_handle_time', 'claim_volume', 'csat_avg', 'sla_breach_rate', 'repeat_contact_rate', 'issue_sessions_active'])[1 + floor(demo_random('title', i) * 6)::int],
         anchor - ((demo_random('aopen', i) * 72) || ' hours')::interval,
         CASE WHEN demo_random('ares', i) < 0.6 THEN anchor - ((demo_random('ares2', i) * 2) || ' hours')::interval END
    FROM generate_series(1, 24) AS i;

  INSERT INTO recommendations (recommendation_id, issue_type, action, description, base_score) VALUES
    ('R01', 'screen_damage', 'same_day_repair', 'Offer same-day screen repair at a partner store', 0.82),
    ('R02', 'screen_damage', 'mail_in_repair', 'Send a prepaid mail-in repair kit', 0.61),
    ('R03', 'battery', 'battery_diagnostic', 'Run the remote battery diagnostic before any claim', 0.77),
    ('R04', 'battery', 'replacement_device', 'Ship a replacement device', 0.45),
    ('R05', 'connectivity', 'network_reset_guide', 'Walk through a guided network settings reset', 0.7),
    ('R06', 'connectivity', 'carrier_escalation', 'Escalate to the carrier with a warm transfer', 0.52),
    ('R07', 'setup', 'guided_setup', 'Book a guided setup session with an expert', 0.8),
    ('R08', 'billing', 'billing_credit', 'Apply a goodwill billing credit', 0.58),
    ('R09', 'lost_device', 'locate_and_lock', 'Locate and lock the device, then file a loss claim', 0.74),
    ('R10', 'lost_device', 'expedited_replacement', 'Expedite a replacement device', 0.63);
END
$fn$;

SELECT seed_demo_data(now());
