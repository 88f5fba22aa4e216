-- Up Migration
-- Recurring schedules. Each fire creates a normal job (jobs table) whose idempotency key is
-- `schedule:<schedule id>:<fire time>`; schedule_fires records what the scheduler did with each
-- nominal fire time (created, skipped, missed, failed), once per (schedule, fire time).

CREATE TABLE schedules (
  id                       uuid PRIMARY KEY,
  client_id                text NOT NULL,
  cron                     text NOT NULL,
  time_zone                text NOT NULL,
  job_type                 text NOT NULL,
  payload                  jsonb NOT NULL,
  priority                 integer NOT NULL DEFAULT 0,
  max_attempts             integer NOT NULL DEFAULT 0 CHECK (max_attempts >= 0),
  overlap_policy           text NOT NULL CHECK (overlap_policy IN ('allow','skip','buffer_one')),
  catch_up_policy          text NOT NULL CHECK (catch_up_policy IN ('skip','fire_once','all')),
  catch_up_window_seconds  integer NOT NULL CHECK (catch_up_window_seconds > 0),
  jitter_seconds           integer NOT NULL DEFAULT 0 CHECK (jitter_seconds >= 0),
  start_time               timestamptz,
  end_time                 timestamptz,
  description              text NOT NULL DEFAULT '',
  paused                   boolean NOT NULL DEFAULT false,
  -- The next nominal fire time (before jitter); NULL when paused or past end_time.
  next_fire_time           timestamptz,
  -- A fire held back by overlap_policy = buffer_one until the previous job finishes.
  buffered_fire_time       timestamptz,
  last_fire_time           timestamptz,
  last_job_id              uuid,
  create_time              timestamptz NOT NULL DEFAULT now(),
  update_time              timestamptz NOT NULL DEFAULT now(),
  CHECK (end_time IS NULL OR start_time IS NULL OR end_time > start_time)
);

CREATE INDEX schedules_client_created ON schedules (client_id, create_time DESC, id DESC);
-- The scheduler's scan: schedules that are due (or hold a buffered fire), oldest due first.
CREATE INDEX schedules_due ON schedules (next_fire_time) WHERE NOT paused AND next_fire_time IS NOT NULL;
CREATE INDEX schedules_buffered ON schedules (id) WHERE NOT paused AND buffered_fire_time IS NOT NULL;

CREATE TABLE schedule_fires (
  schedule_id  uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  fire_time    timestamptz NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('created','skipped','missed','failed','buffered')),
  job_id       uuid,
  detail       text,
  create_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, fire_time)
);

-- Down Migration
DROP TABLE IF EXISTS schedule_fires;
DROP TABLE IF EXISTS schedules;
