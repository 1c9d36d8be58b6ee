-- The operational demo data speaks the data dictionary's vocabulary (columns.csv, allowed_values).
-- Widget filters and group_by only accept the dictionary's values, and the lakehouse stand-in is
-- built from them, so Postgres rows with other names (products such as 'Mobile Protect', channels
-- 'phone' and 'email', the issue type 'lost_device') matched no filter and fell into the '(other)'
-- group. The seed is redefined to draw from the dictionary's values, with the lakehouse's mix, and
-- rows already in the tables are rewritten in place so a database converges without a demo reset.
--
-- No CHECK constraints on these columns: event ingest validates against the dictionary bundled
-- with the worker, and a list repeated here would refuse a value the moment the dictionary gains
-- one, until another migration caught up.

-- One of `choices`, picked by r in [0, 1) with the given relative weights.
CREATE FUNCTION demo_pick(r double precision, choices text[], weights double precision[]) RETURNS text
  LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  total double precision := 0;
  acc double precision := 0;
  k integer;
BEGIN
  FOR k IN 1 .. array_length(weights, 1) LOOP
    total := total + weights[k];
  END LOOP;
  FOR k IN 1 .. array_length(choices, 1) LOOP
    acc := acc + weights[k];
    IF r * total < acc THEN
      RETURN choices[k];
    END IF;
  END LOOP;
  RETURN choices[array_length(choices, 1)];
END
$$;

-- The seed's categorical draws, as functions of the row number, so the seed and the rewrite of
-- already-seeded rows below give every seeded row the same value. Weights follow the lakehouse
-- stand-in (test/stack/databricks/synthetic-data.ts) so both sources tell the same story.
CREATE FUNCTION demo_claim_product(i integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT demo_pick(demo_random('product', i),
                   ARRAY['Total Protection', 'Screen Protect', 'Device Care', 'Multi-Device Protect', 'Home Tech Protect'],
                   ARRAY[0.38, 0.22, 0.18, 0.14, 0.08])
$$;

-- A screen-only plan is claimed for damage, not for a lost or stolen device.
CREATE FUNCTION demo_claim_type(i integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN demo_claim_product(i) = 'Screen Protect'
              THEN demo_pick(demo_random('ctype', i), ARRAY['damage', 'malfunction'], ARRAY[0.9, 0.1])
              ELSE (ARRAY['damage', 'damage', 'malfunction', 'loss', 'theft'])[1 + floor(demo_random('ctype', i) * 5)::int] END
$$;

CREATE FUNCTION demo_session_issue_type(i integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT demo_pick(demo_random('issue', i),
                   ARRAY['connectivity', 'battery', 'screen_damage', 'setup', 'performance', 'software_update', 'lost_or_stolen', 'billing'],
                   ARRAY[0.2, 0.13, 0.15, 0.14, 0.1, 0.1, 0.06, 0.12])
$$;

-- Troubleshooting starts mostly in self-service (app, web); assisted channels pick up the rest.
CREATE FUNCTION demo_session_channel(i integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT demo_pick(demo_random('channel', i), ARRAY['app', 'web', 'chat', 'call'], ARRAY[0.45, 0.3, 0.17, 0.08])
$$;

-- Every issue type has two actions to rank; the reset and the rewrite below both insert these.
CREATE FUNCTION demo_recommendations()
  RETURNS TABLE (recommendation_id text, issue_type text, action text, description text, base_score double precision)
  LANGUAGE sql IMMUTABLE AS $$
  VALUES
    ('R01', 'screen_damage', 'same_day_repair', 'Offer same-day screen repair at a partner store', 0.82::double precision),
    ('R02', 'screen_damage', 'mail_in_repair', 'Send a prepaid mail-in repair kit', 0.61),
    ('R03', 'battery', 'battery_diagnostic', 'Run the remote battery diagnostic before any claim', 0.77),
    ('R04', 'battery', 'replacement_device', 'Ship a replacement device', 0.45),
    ('R05', 'connectivity', 'network_reset_guide', 'Walk through a guided network settings reset', 0.7),
    ('R06', 'connectivity', 'carrier_escalation', 'Escalate to the carrier with a warm transfer', 0.52),
    ('R07', 'setup', 'guided_setup', 'Book a guided setup session with an expert', 0.8),
    ('R08', 'billing', 'billing_credit', 'Apply a goodwill billing credit', 0.58),
    ('R09', 'lost_or_stolen', 'locate_and_lock', 'Locate and lock the device, then file a loss claim', 0.74),
    ('R10', 'lost_or_stolen', 'expedited_replacement', 'Expedite a replacement device', 0.63),
    ('R11', 'setup', 'setup_walkthrough', 'Send the step-by-step setup walkthrough for the device', 0.62),
    ('R12', 'billing', 'plan_review', 'Review the plan with the customer and correct the billing', 0.66),
    ('R13', 'performance', 'remote_cleanup', 'Run the remote storage and app health check', 0.71),
    ('R14', 'performance', 'guided_reset', 'Back up and walk through a guided factory reset', 0.54),
    ('R15', 'software_update', 'guided_update', 'Walk through installing the pending update over Wi-Fi', 0.76),
    ('R16', 'software_update', 'update_recovery', 'Book an expert session to recover from a failed update', 0.57)
$$;

CREATE OR REPLACE FUNCTION seed_demo_data(anchor timestamptz) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  regions text[] := ARRAY['NA-East', 'NA-West', 'EMEA', 'APAC', 'LATAM'];
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
         demo_session_issue_type(i),
         demo_session_channel(i),
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
         demo_claim_product(i),
         demo_claim_type(i),
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
                'Repeat contacts up for battery issues', 'Abandonment spike on calls'])[1 + floor(demo_random('title', i) * 6)::int],
         (ARRAY['avg_handle_time', 'claim_volume', 'csat_avg', 'sla_breach_rate', 'repeat_contact_rate', 'issue_sessions_active'])[1 + floor(demo_random('title', i) * 6)::int],
         anchor - ((demo_random('aopen', i) * 72) || ' hours')::interval,
         CASE WHEN demo_random('ares', i) < 0.6 THEN anchor - ((demo_random('ares2', i) * 2) || ' hours')::interval END
    FROM generate_series(1, 24) AS i;

  INSERT INTO recommendations (recommendation_id, issue_type, action, description, base_score)
  SELECT r.recommendation_id, r.issue_type, r.action, r.description, r.base_score FROM demo_recommendations() r;
END
$fn$;

-- Rows the seed wrote (K000001-K002500, S000001-S008000: ids ingest cannot reuse while they exist)
-- take the redefined seed's draw for their row number, so a migrated database holds what a reset
-- would give it and keeps the lakehouse's mix; their other columns are left as they are. Any
-- other row, such as one written by event ingest, has its old name mapped to the dictionary's.
-- (Nested CASEs: the number is only read from an id that has the seed's shape.)
UPDATE claims c
   SET product = CASE
         WHEN s.n IS NOT NULL THEN demo_claim_product(s.n)
         WHEN c.product = 'Mobile Protect' THEN 'Total Protection'
         WHEN c.product = 'Tablet Shield' THEN 'Multi-Device Protect'
         WHEN c.product = 'Appliance Care' THEN 'Device Care'
         WHEN c.product = 'Home Tech' THEN 'Home Tech Protect'
         ELSE c.product END,
       claim_type = CASE WHEN s.n IS NOT NULL THEN demo_claim_type(s.n) ELSE c.claim_type END
  FROM (SELECT claim_id,
               CASE WHEN claim_id ~ '^K[0-9]{6}$' THEN
                 CASE WHEN substr(claim_id, 2)::int BETWEEN 1 AND 2500 THEN substr(claim_id, 2)::int END END AS n
          FROM claims) s
 WHERE s.claim_id = c.claim_id;

UPDATE issue_sessions t
   SET issue_type = CASE
         WHEN s.n IS NOT NULL THEN demo_session_issue_type(s.n)
         WHEN t.issue_type = 'lost_device' THEN 'lost_or_stolen'
         ELSE t.issue_type END,
       channel = CASE
         WHEN s.n IS NOT NULL THEN demo_session_channel(s.n)
         WHEN t.channel = 'phone' THEN 'call'
         -- An emailed request comes in through the web contact form.
         WHEN t.channel = 'email' THEN 'web'
         ELSE t.channel END
  FROM (SELECT session_id,
               CASE WHEN session_id ~ '^S[0-9]{6}$' THEN
                 CASE WHEN substr(session_id, 2)::int BETWEEN 1 AND 8000 THEN substr(session_id, 2)::int END END AS n
          FROM issue_sessions) s
 WHERE s.session_id = t.session_id;

UPDATE recommendations SET issue_type = 'lost_or_stolen' WHERE issue_type = 'lost_device';

-- The new issue types get their actions now; existing ones keep the outcomes they have learned.
INSERT INTO recommendations (recommendation_id, issue_type, action, description, base_score)
SELECT r.recommendation_id, r.issue_type, r.action, r.description, r.base_score FROM demo_recommendations() r
ON CONFLICT (recommendation_id) DO NOTHING;

-- A seeded alert title names a channel too.
UPDATE alerts SET title = 'Abandonment spike on calls' WHERE title = 'Abandonment spike on phone';
