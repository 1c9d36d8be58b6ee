-- Every session carries the epoch its user had when it was issued; a session from an older epoch
-- is refused. The epoch moves whenever access should end everywhere at once: sign-out
-- everywhere (the worker bumps it), and any change of role, password or disabled state, however
-- it is made (the worker, `npm run user:create`, or SQL by hand): the trigger below sees them all.
ALTER TABLE users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;

CREATE FUNCTION users_bump_session_epoch() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.role IS DISTINCT FROM OLD.role
     OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
     OR NEW.disabled_at IS DISTINCT FROM OLD.disabled_at THEN
    NEW.session_epoch := GREATEST(NEW.session_epoch, OLD.session_epoch + 1);
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER users_session_epoch
  BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_bump_session_epoch();
