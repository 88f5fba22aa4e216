-- Up Migration
-- Jobplane job state. Tables are created in the schema given to `jobplane migrate`
-- (DATABASE_SCHEMA); the runtime sets search_path to it.

CREATE TABLE jobs (
  id                uuid PRIMARY KEY,
  client_id         text NOT NULL,
  idempotency_key   text NOT NULL,
  request_hash      text NOT NULL,
  type              text NOT NULL,
  payload           jsonb NOT NULL,
  state             text NOT NULL CHECK (state IN ('queued','running','succeeded','failed','dead_lettered','cancelled')),
  attempts          integer NOT NULL DEFAULT 0,
  max_attempts      integer NOT NULL CHECK (max_attempts > 0),
  priority          integer NOT NULL DEFAULT 0,
  run_at            timestamptz NOT NULL,
  progress          integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  progress_message  text,
  result            jsonb,
  error             jsonb,
  mode              text NOT NULL CHECK (mode IN ('pooled','isolated')),
  queue             text NOT NULL,
  parent_id         uuid REFERENCES jobs (id),
  child_index       integer,
  fan_out_total     integer,
  request_id        text,
  -- Fencing: a new token per attempt; every later write of the attempt must present it.
  attempt_token     uuid,
  worker            text,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  start_time        timestamptz,
  finish_time       timestamptz,
  CONSTRAINT jobs_client_idempotency_key UNIQUE (client_id, idempotency_key)
);

-- Keyset pagination: newest first, ties broken by id, per client, optionally per state or type.
CREATE INDEX jobs_client_created ON jobs (client_id, create_time DESC, id DESC);
CREATE INDEX jobs_client_state_created ON jobs (client_id, state, create_time DESC, id DESC);
CREATE INDEX jobs_client_type_created ON jobs (client_id, type, create_time DESC, id DESC);
CREATE INDEX jobs_parent ON jobs (parent_id, child_index) WHERE parent_id IS NOT NULL;
-- The reconciler walks non-terminal jobs only.
CREATE INDEX jobs_active ON jobs (id) WHERE state IN ('queued','running');

CREATE TABLE job_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id       uuid NOT NULL REFERENCES jobs (id),
  from_state   text,
  to_state     text NOT NULL,
  attempt      integer NOT NULL,
  reason       text NOT NULL,
  details      jsonb,
  create_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job ON job_events (job_id, id);

-- Append-only: history is never rewritten.
CREATE FUNCTION job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'job_events is append-only';
END $$;
CREATE TRIGGER job_events_no_update BEFORE UPDATE OR DELETE ON job_events
  FOR EACH ROW EXECUTE FUNCTION job_events_append_only();

CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id       uuid NOT NULL,
  queue        text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('run','aggregate')),
  attempt      integer NOT NULL DEFAULT 0,
  priority     integer NOT NULL DEFAULT 0,
  run_at       timestamptz NOT NULL,
  request_id   text,
  replace      boolean NOT NULL DEFAULT false,
  create_time  timestamptz NOT NULL DEFAULT now()
);

-- Wakes the relay as soon as a row commits (LISTEN jobplane_outbox); polling is the fallback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jobplane_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Down Migration
DROP TABLE outbox;
DROP FUNCTION outbox_notify();
DROP TABLE job_events;
DROP FUNCTION job_events_append_only();
DROP TABLE jobs;
