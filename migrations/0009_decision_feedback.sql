-- What happened after a recommendation was offered: the ranking learns from it.
CREATE TABLE decision_feedback (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id text NOT NULL REFERENCES issue_sessions (session_id) ON DELETE CASCADE,
  recommendation_id text NOT NULL REFERENCES recommendations (recommendation_id) ON DELETE CASCADE,
  accepted boolean NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('resolved', 'escalated', 'abandoned', 'claim_filed')),
  recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (session_id, recommendation_id)
);
