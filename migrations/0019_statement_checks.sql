-- Checks that run inside a statement. A batch of statements sent in one round trip (Neon's HTTP
-- transaction) cannot hand a row count back to the worker between statements, so a statement that
-- finds its input wrong fails the transaction itself, with a SQLSTATE the worker maps to its
-- answer: CC409 conflict, CC422 validation, CCDUP "the batch holds events already stored".
CREATE OR REPLACE FUNCTION cc_fail(sqlstate text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
END
$$;
