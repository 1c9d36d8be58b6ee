-- The signal ids a hydration run has read from fct_signals, written by each batch's own upsert
-- statement, so marking the rest stale is an anti-join in Postgres and a run keeps no set of ids in
-- memory however large the mart is. A side table rather than a column of signals: an unchanged
-- signal is seen too, and recording that on its row would rewrite every row on every run. Scratch
-- space for the one run holding the hydration lock: emptied when a run starts and when it ends;
-- only a run that read all of fct_signals marks anything stale, so a failed run's ids are never used.
CREATE TABLE signal_hydration_seen (
  run_id bigint NOT NULL,
  id text NOT NULL
);
