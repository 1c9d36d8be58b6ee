-- The metrics catalog: every tile's number comes from one of these definitions.
CREATE TABLE metrics (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,62}$'),
  display_name text NOT NULL,
  description text NOT NULL,
  unit text NOT NULL CHECK (unit IN ('count', 'usd', 'seconds', 'percent', 'score', 'points')),
  direction text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
  owner text NOT NULL,
  -- {"tables": [...], "columns": ["table.column", ...]} read from the data dictionary
  lineage jsonb NOT NULL DEFAULT '{"tables": [], "columns": []}'::jsonb,
  -- {"postgres": "<sql>", "databricks": "<sql>"}: one query per source that can answer it
  queries jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(queries) = 'object'),
  version integer NOT NULL DEFAULT 1,
  retired_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every definition a metric has had, so a change never erases what a tile used to mean.
CREATE TABLE metric_versions (
  metric_name text NOT NULL REFERENCES metrics (name) ON DELETE CASCADE,
  version integer NOT NULL,
  definition jsonb NOT NULL,
  changed_by uuid REFERENCES users (id) ON DELETE SET NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metric_name, version)
);
