-- Admin-written Postgres metric queries run as cc_metric_reader: a role that can SELECT the
-- operational tables (0004, 0008) and nothing else. Users, API tokens, the catalog, widgets,
-- conversations and generation logs stay out of reach even if a query slipped past the
-- write-time allowlist (worker/sqlgen/allowlist.ts keeps the same table list; a test checks it).
-- The data path takes the role with SET LOCAL ROLE inside each metric statement's read-only
-- transaction, so the connection's own role is back after it.
--
-- Roles belong to the whole server (or Neon branch), not one database, and several databases on
-- one server run this file, possibly at once: creation tolerates a role that already exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_metric_reader') THEN
    CREATE ROLE cc_metric_reader NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO cc_metric_reader;
GRANT SELECT ON alerts, claims, devices, events, issue_sessions, recommendations TO cc_metric_reader;

-- SET ROLE needs the connecting role to be a member with the SET option. A superuser (the local
-- stack) may take any role; on Neon the database owner that runs migrations created the role
-- (CREATEROLE, which gives it ADMIN OPTION but, from Postgres 16, not SET) and grants itself
-- membership here. The app must connect as that same role.
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT cc_metric_reader TO %I', current_user);
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- The write-time check reads Postgres metric queries with node-sql-parser, whose grammar cannot
-- read `date_trunc(...) AT TIME ZONE 'UTC'`; the seeded cost_avoided_mtd says the same with the
-- three-argument date_trunc, so admins can still edit the metric. Only an untouched seed changes.
UPDATE metrics
   SET queries = jsonb_set(queries, '{postgres}', to_jsonb($q$SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM claims WHERE opened_at >= date_trunc('month', now(), 'UTC') AND opened_at < now()$q$::text))
 WHERE name = 'cost_avoided_mtd'
   AND queries->>'postgres' = $q$SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM claims WHERE opened_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND opened_at < now()$q$;

UPDATE metric_versions
   SET definition = jsonb_set(definition, '{queries,postgres}', to_jsonb($q$SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM claims WHERE opened_at >= date_trunc('month', now(), 'UTC') AND opened_at < now()$q$::text))
 WHERE metric_name = 'cost_avoided_mtd'
   AND definition->'queries'->>'postgres' = $q$SELECT COALESCE(SUM(cost_avoided), 0) AS value FROM claims WHERE opened_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND opened_at < now()$q$;
