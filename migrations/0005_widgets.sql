-- A user's tiles. Each widget embeds the metric definition block it was built from (name,
-- version, display name, unit, direction) so a tile can say what it meant even after the
-- catalog moves on; data always runs the metric's current definition.
CREATE TABLE widgets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
  metric_name text NOT NULL REFERENCES metrics (name),
  metric jsonb NOT NULL,
  visualization text NOT NULL CHECK (visualization IN ('kpi', 'line', 'bar', 'table', 'pie')),
  time_window jsonb NOT NULL,
  filters jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(filters) = 'array'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widgets_owner_idx ON widgets (owner_id, created_at);
