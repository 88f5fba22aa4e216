-- Up Migration
-- Attempt numbers keep counting after a redrive (RetryJob): `attempts` is never reset, and
-- `attempt_base` records how many attempts the job had used when its current budget began, so a
-- redrive grants the budget again (max_attempts = attempts + budget) and backoff restarts from it.
ALTER TABLE jobs ADD COLUMN attempt_base integer NOT NULL DEFAULT 0 CHECK (attempt_base >= 0);

-- Down Migration
ALTER TABLE jobs DROP COLUMN attempt_base;
