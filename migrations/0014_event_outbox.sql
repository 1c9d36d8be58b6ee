-- The events table is the hub's outbox. An event is committed first and published after; a
-- publisher claims the unpublished rows it will send (publish_claimed_until), so two requests,
-- or a request and the scheduled drain, never send the same event, and a claim left by a
-- publisher that died expires and is taken again. The dashboard says which hub an event goes to;
-- outbox_seq keeps the order events were stored in, within a batch too, so the hub sees them so.
ALTER TABLE events ADD COLUMN IF NOT EXISTS dashboard text NOT NULL DEFAULT 'default';
ALTER TABLE events ADD COLUMN IF NOT EXISTS publish_claimed_until timestamptz;
ALTER TABLE events ADD COLUMN IF NOT EXISTS outbox_seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX IF EXISTS events_unpublished_idx;
CREATE INDEX IF NOT EXISTS events_outbox_idx ON events (dashboard, outbox_seq) WHERE published_seq IS NULL;
