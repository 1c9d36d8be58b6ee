-- Every ingested event, once: the client's event_id is the key, so a retry finds the original
-- result instead of applying the event twice. published_seq records the hub's sequence number
-- after fan-out; an event stored but not yet published is published again on retry.
CREATE TABLE events (
  event_id text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  payload jsonb NOT NULL,
  received_by uuid REFERENCES users (id) ON DELETE SET NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  published_seq bigint
);
CREATE INDEX events_unpublished_idx ON events (received_at) WHERE published_seq IS NULL;
