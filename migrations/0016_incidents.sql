-- Incident response (worker/incidents). An incident is one Cloudflare Workflows instance; this is
-- what it has done, as the API and the site read it. Every step writes its row keyed by
-- (incident_id, action_id), so a step the engine replays finds its row instead of adding one.
CREATE TABLE incidents (
  incident_id uuid PRIMARY KEY,
  scenario text,
  title text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status text NOT NULL CHECK (status IN ('active', 'waiting_approval', 'resolved', 'failed', 'cancelled')),
  affected_services text[] NOT NULL,
  affected_regions text[] NOT NULL DEFAULT '{}',
  affected_products text[] NOT NULL DEFAULT '{}',
  options jsonb NOT NULL DEFAULT '{}',
  time_scale double precision NOT NULL DEFAULT 1 CHECK (time_scale > 0 AND time_scale <= 1),
  dashboard text NOT NULL DEFAULT 'default',
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  -- Milliseconds, as the API writes it: the list's cursor carries it and must compare exactly.
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  ended_at timestamptz,
  resolution_time double precision,
  cost_savings numeric(14, 2),
  -- The cost formula's inputs as they were when it resolved.
  cost_inputs jsonb NOT NULL DEFAULT '{}',
  approval_required boolean NOT NULL DEFAULT false,
  approval_state text CHECK (approval_state IN ('pending', 'approved', 'rejected', 'timed_out')),
  approval_deadline timestamptz,
  approval_decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
  approval_decided_at timestamptz,
  -- The catalog KPIs around the incident: {metric: {before, worst, after}}.
  kpis jsonb NOT NULL DEFAULT '{}',
  -- The window its injected effects fall in, for the linked signals.
  effects_from timestamptz,
  effects_until timestamptz,
  -- The outbox drain's claim on this incident's messages: one publisher at a time keeps their order.
  publishing_until timestamptz,
  notification_status text NOT NULL DEFAULT 'pending' CHECK (notification_status IN ('not_configured', 'pending', 'delivered', 'failed')),
  notification_delivered_at timestamptz
);
CREATE INDEX incidents_running_idx ON incidents (created_at) WHERE status IN ('active', 'waiting_approval');
CREATE INDEX incidents_list_idx ON incidents (created_at DESC, incident_id DESC);

CREATE TABLE incident_actions (
  incident_id uuid NOT NULL REFERENCES incidents (incident_id) ON DELETE CASCADE,
  action_id text NOT NULL CHECK (length(action_id) BETWEEN 1 AND 64),
  -- Insertion order: the timeline's order, rollbacks after the failure that caused them.
  position bigint GENERATED ALWAYS AS IDENTITY,
  agent_type text NOT NULL CHECK (agent_type IN ('detection', 'diagnosis', 'prediction', 'resolution', 'communication')),
  step integer CHECK (step BETWEEN 1 AND 5),
  kind text NOT NULL CHECK (kind IN ('phase', 'remediation', 'rollback', 'approval', 'notification')),
  description text NOT NULL,
  status text NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', 'retrying', 'rolled_back', 'rollback_failed',
                                         'waiting_approval', 'approved', 'rejected', 'timed_out', 'cancelled')),
  started_at timestamptz NOT NULL,
  -- When it reached its current status: the time its message carries.
  updated_at timestamptz NOT NULL,
  ended_at timestamptz,
  duration_ms double precision,
  attempt integer NOT NULL DEFAULT 1,
  confidence double precision CHECK (confidence BETWEEN 0 AND 1),
  details jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (incident_id, action_id)
);

-- The hub's outbox for incident messages, like events is for ingest (0014): a message is
-- committed with the row change it reports and published from what was stored. `key` names the
-- transition (incident, action, status, attempt), so a replayed step stores nothing new, and is
-- the hub's publish key, so a publisher that died after the hub took a message cannot send it twice.
CREATE TABLE incident_messages (
  outbox_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (incident_id) ON DELETE CASCADE,
  key text NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 200),
  type text NOT NULL CHECK (type IN ('agent_action', 'incident_status', 'performance_metrics')),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_seq bigint,
  publish_claimed_until timestamptz
);
CREATE INDEX incident_messages_outbox_idx ON incident_messages (incident_id, outbox_seq) WHERE published_seq IS NULL;
