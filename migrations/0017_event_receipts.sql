-- Events taken for asynchronous ingest (POST /v1/events?mode=async, or a producer writing to the
-- events queue) and where each stands: queued until the queue's consumer applies it (it is then
-- in events too), or dead_lettered with the reason it was set aside. GET /v1/events/{id} reads it.
CREATE TABLE IF NOT EXISTS event_receipts (
  event_id text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
  dashboard text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'applied', 'dead_lettered')),
  reason text,
  attempts integer NOT NULL DEFAULT 0,
  queued_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
