-- Every SQL generation, kept as an audit trail: who asked, for which metric, with which prompt
-- (its digest identifies the exact text the model saw), what came back and what the safety layer
-- said about it. A refused or failed generation is recorded as well as a good one.
CREATE TABLE sql_generations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  metric_name text NOT NULL REFERENCES metrics (name),
  question text CHECK (question IS NULL OR length(question) <= 2000),
  prompt_digest text NOT NULL CHECK (prompt_digest ~ '^[0-9a-f]{64}$'),
  -- The model id for Bedrock generations; null for the offline catalog template.
  model text,
  -- The checked statement when the verdict is ok, otherwise what the model proposed (null when it proposed nothing).
  sql text,
  -- 'ok', a safety code as the API reports it, or llm_unavailable.
  verdict text NOT NULL CHECK (verdict ~ '^[a-z_]{2,40}$'),
  detail text,
  source text NOT NULL CHECK (source IN ('bedrock', 'template')),
  dry_run boolean NOT NULL,
  latency_ms integer NOT NULL CHECK (latency_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sql_generations_created_idx ON sql_generations (created_at DESC);
CREATE INDEX sql_generations_metric_idx ON sql_generations (metric_name, created_at DESC);
