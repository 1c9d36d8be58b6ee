-- Quality signals. The analytics columns are hydrated from the lakehouse mart
-- workspace.support_marts.fct_signals (worker/signals/hydrate.ts) and refreshed on every run; the
-- workflow columns (status, assignee and their times) belong to the application and hydration never
-- writes them, except the ownership rule's assignee when a signal first arrives. A signal that
-- leaves the mart is marked stale (stale_since), never deleted. version moves on every change of
-- the row, so a client that read an older one is refused (optimistic concurrency).
CREATE TABLE signals (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  signal_type text NOT NULL CHECK (length(signal_type) BETWEEN 1 AND 64),
  metric_name text NOT NULL CHECK (length(metric_name) BETWEEN 1 AND 63),
  entity_type text NOT NULL CHECK (entity_type IN ('region', 'product', 'team', 'agent', 'channel', 'issue_type')),
  entity_id text NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 128),
  entity_label text NOT NULL CHECK (length(entity_label) BETWEEN 1 AND 200),
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL CHECK (window_end > window_start),
  observed_value double precision NOT NULL,
  expected_value double precision NOT NULL,
  baseline_stddev double precision NOT NULL CHECK (baseline_stddev >= 0),
  z_score double precision NOT NULL,
  direction text NOT NULL CHECK (direction IN ('up', 'down')),
  severity text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  narrative text NOT NULL CHECK (length(narrative) <= 4000),
  model_run_id text NOT NULL CHECK (length(model_run_id) BETWEEN 1 AND 128),
  detected_at timestamptz NOT NULL,
  -- fct_signals.updated_at: when the mart last changed the row.
  mart_updated_at timestamptz NOT NULL,

  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'acknowledged', 'investigating', 'resolved', 'false_positive', 'expected')),
  assignee uuid REFERENCES users (id) ON DELETE SET NULL,
  assigned_by text CHECK (assigned_by IN ('rule', 'person')),
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  stale_since timestamptz,
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (assignee IS NULL OR assigned_by IS NOT NULL)
);

-- The triage queue pages newest first (keyset on detected_at, id) under its filters.
CREATE INDEX signals_detected_idx ON signals (detected_at DESC, id DESC);
CREATE INDEX signals_status_idx ON signals (status, detected_at DESC, id DESC);
CREATE INDEX signals_assignee_idx ON signals (assignee, detected_at DESC, id DESC) WHERE assignee IS NOT NULL;
CREATE INDEX signals_metric_idx ON signals (metric_name, detected_at DESC);
CREATE INDEX signals_entity_idx ON signals (entity_type, entity_id, detected_at DESC);
CREATE INDEX signals_open_idx ON signals (severity, detected_at DESC) WHERE stale_since IS NULL AND status IN ('new', 'acknowledged', 'investigating');

-- How much of each signal's deviation every slice explains (fct_contributions).
CREATE TABLE signal_contributions (
  signal_id text NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
  dimension text NOT NULL CHECK (length(dimension) BETWEEN 1 AND 64),
  dimension_value text NOT NULL CHECK (length(dimension_value) BETWEEN 1 AND 200),
  contribution double precision NOT NULL,
  rank integer NOT NULL CHECK (rank >= 1),
  PRIMARY KEY (signal_id, dimension, dimension_value)
);

-- The model's feature attributions for each signal (fct_model_drivers).
CREATE TABLE signal_drivers (
  signal_id text NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
  feature text NOT NULL CHECK (length(feature) BETWEEN 1 AND 64),
  feature_value text NOT NULL CHECK (length(feature_value) <= 200),
  shap_value double precision NOT NULL,
  rank integer NOT NULL CHECK (rank >= 1),
  PRIMARY KEY (signal_id, feature)
);

CREATE TABLE signal_notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  signal_id text NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
  author uuid REFERENCES users (id) ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signal_notes_signal_idx ON signal_notes (signal_id, created_at);

-- The audit trail: one row per change, with who (NULL: the system), what kind, from and to.
-- Values are text: a status or severity name, a user id for assignee, a note id, a mart run id,
-- 'stale'/'fresh'. actor_id has no foreign key on purpose: the trail outlives the accounts in it
-- and a user's deletion must not rewrite it.
CREATE TABLE signal_activity (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  signal_id text NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
  actor_id uuid,
  kind text NOT NULL CHECK (kind IN ('status', 'assignee', 'severity', 'note', 'hydrated', 'stale')),
  from_value text,
  to_value text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX signal_activity_signal_idx ON signal_activity (signal_id, id);
CREATE INDEX signal_activity_actor_idx ON signal_activity (actor_id, id DESC) WHERE actor_id IS NOT NULL;

-- Append-only: no UPDATE ever, no TRUNCATE, and no DELETE unless the transaction says it is a
-- purge (SET LOCAL cc.signal_purge = 'on'), which only removes whole signals (test clean-up,
-- retention), never one event out of a trail.
CREATE FUNCTION signal_activity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND coalesce(current_setting('cc.signal_purge', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'signal_activity is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER signal_activity_no_update BEFORE UPDATE OR DELETE ON signal_activity
  FOR EACH ROW EXECUTE FUNCTION signal_activity_append_only();
CREATE TRIGGER signal_activity_no_truncate BEFORE TRUNCATE ON signal_activity
  FOR EACH STATEMENT EXECUTE FUNCTION signal_activity_append_only();

-- One row per hydration: who or what started it, the mart build it read, and what it did.
CREATE TABLE signal_hydration_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trigger text NOT NULL CHECK (trigger IN ('first_use', 'cli', 'api', 'refresh')),
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  model_run_id text,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  read_count integer NOT NULL DEFAULT 0,
  inserted_count integer NOT NULL DEFAULT 0,
  updated_count integer NOT NULL DEFAULT 0,
  unchanged_count integer NOT NULL DEFAULT 0,
  stale_count integer NOT NULL DEFAULT 0,
  rejected_count integer NOT NULL DEFAULT 0,
  error text
);
CREATE INDEX signal_hydration_runs_started_idx ON signal_hydration_runs (started_at DESC);
