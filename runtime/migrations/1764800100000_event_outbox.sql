-- Up Migration
-- Lifecycle events out of the platform (docs/events.md). Every state transition appended to
-- job_events becomes a CloudEvents 1.0 JSON event, built by a trigger in the same transaction as
-- the transition: one row of event_outbox for the NATS JetStream publisher (only while the 'nats'
-- sink is enabled) and one webhook_deliveries row per matching enabled subscription.

-- Which event sinks keep events. The relay enables 'nats' when it starts with NATS_URL and
-- disables it (dropping pending rows) when it starts without.
CREATE TABLE event_sinks (
  name         text PRIMARY KEY CHECK (name IN ('nats')),
  enabled      boolean NOT NULL,
  update_time  timestamptz NOT NULL DEFAULT now()
);

-- Events waiting to be published to NATS, in id order; deleted once JetStream acknowledged them.
CREATE TABLE event_outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  -- Subject suffix after the configured prefix: 'succeeded', 'subscription.disabled' …
  topic        text NOT NULL,
  event        jsonb NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_subscriptions (
  id               uuid PRIMARY KEY,
  client_id        text NOT NULL,
  url              text NOT NULL,
  -- Short event types ('job.succeeded' …); empty = every type.
  event_types      text[] NOT NULL DEFAULT '{}',
  -- Standard Webhooks secret, 'whsec_<base64 of at least 32 bytes>'.
  secret           text NOT NULL,
  description      text NOT NULL DEFAULT '',
  enabled          boolean NOT NULL DEFAULT true,
  disabled_reason  text,
  disabled_time    timestamptz,
  create_time      timestamptz NOT NULL DEFAULT now(),
  update_time      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_client ON webhook_subscriptions (client_id, create_time DESC, id DESC);

-- One event for one subscription; retried until delivered or given up.
CREATE TABLE webhook_deliveries (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id     uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id            uuid NOT NULL,
  -- Ordering key: deliveries of one subscription and one subject go out in id order.
  subject             text NOT NULL,
  event_type          text NOT NULL,
  event               jsonb NOT NULL,
  state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','succeeded','failed')),
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_time   timestamptz NOT NULL DEFAULT now(),
  -- The retry window starts here (not at creation: a delivery may wait behind earlier ones).
  first_attempt_time  timestamptz,
  last_response_code  integer,
  last_error          text,
  create_time         timestamptz NOT NULL DEFAULT now(),
  finish_time         timestamptz,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_time, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (subscription_id, subject, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finish_time) WHERE state <> 'pending';

-- The delivery log: one row per HTTP attempt.
CREATE TABLE webhook_delivery_attempts (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id      bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id         uuid NOT NULL,
  event_type       text NOT NULL,
  attempt          integer NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('succeeded','failed')),
  response_code    integer,
  duration_ms      integer NOT NULL,
  error            text,
  create_time      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_delivery_attempts_subscription ON webhook_delivery_attempts (subscription_id, id DESC);

-- Fans one CloudEvent out to the sinks (NATS outbox, matching subscriptions). `short_type` is
-- 'job.succeeded', 'subscription.disabled' …; the CloudEvents type is 'dev.jobplane.' || short_type.
CREATE FUNCTION jobplane_emit_event(client text, short_type text, subject text, topic text, ev jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  kept boolean := false;
  n integer;
BEGIN
  IF EXISTS (SELECT 1 FROM event_sinks WHERE name = 'nats' AND enabled) THEN
    INSERT INTO event_outbox (event_id, topic, event) VALUES ((ev ->> 'id')::uuid, topic, ev);
    kept := true;
  END IF;
  INSERT INTO webhook_deliveries (subscription_id, event_id, subject, event_type, event)
  SELECT s.id, (ev ->> 'id')::uuid, subject, short_type, ev
    FROM webhook_subscriptions s
   WHERE s.client_id = client AND s.enabled
     AND (cardinality(s.event_types) = 0 OR short_type = ANY (s.event_types));
  GET DIAGNOSTICS n = ROW_COUNT;
  -- Wakes the relay's event loop only when there is something to send.
  IF kept OR n > 0 THEN
    PERFORM pg_notify('jobplane_events', '');
  END IF;
END $$;

-- job_events row → CloudEvent. Rows that change no state (progress notes, deferrals) emit nothing.
CREATE FUNCTION job_events_emit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  j jobs%ROWTYPE;
  t text;
  ev jsonb;
BEGIN
  IF NEW.from_state IS NOT DISTINCT FROM NEW.to_state THEN
    RETURN NULL;
  END IF;
  t := CASE
         WHEN NEW.from_state IS NULL THEN 'created'
         WHEN NEW.reason = 'attempt_started' THEN 'started'
         WHEN NEW.reason = 'retry_scheduled' THEN 'retry_scheduled'
         WHEN NEW.reason = 'retry_requested' THEN 'requeued'
         ELSE NEW.to_state
       END;
  SELECT * INTO j FROM jobs WHERE id = NEW.job_id;
  -- Nothing wants it (no NATS sink, no matching subscription): build nothing.
  IF NOT EXISTS (SELECT 1 FROM event_sinks WHERE name = 'nats' AND enabled)
     AND NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                      WHERE s.client_id = j.client_id AND s.enabled
                        AND (cardinality(s.event_types) = 0 OR 'job.' || t = ANY (s.event_types))) THEN
    RETURN NULL;
  END IF;
  ev := jsonb_build_object(
    'specversion', '1.0',
    'id', gen_random_uuid(),
    'source', '/jobplane/' || current_schema(),
    'type', 'dev.jobplane.job.' || t,
    'subject', NEW.job_id,
    'time', to_char(NEW.create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'datacontenttype', 'application/json',
    'jobeventid', NEW.id,
    'data', jsonb_strip_nulls(jsonb_build_object(
      'jobId', NEW.job_id,
      'type', j.type,
      'clientId', j.client_id,
      'state', NEW.to_state,
      'fromState', NEW.from_state,
      'attempt', NEW.attempt,
      'maxAttempts', j.max_attempts,
      'reason', NEW.reason,
      'queue', j.queue,
      'parentId', j.parent_id,
      'runAt', CASE WHEN t = 'retry_scheduled' THEN NEW.details -> 'runAt' END,
      'error', CASE WHEN NEW.to_state IN ('failed', 'dead_lettered') AND j.error IS NOT NULL THEN
                 jsonb_build_object('code', j.error ->> 'code',
                                    'message', left(j.error ->> 'message', 1024),
                                    'retryable', (j.error ->> 'retryable')::boolean) END,
      'result', CASE WHEN NEW.to_state = 'succeeded' AND octet_length(j.result::text) <= 4096 THEN j.result END,
      'resultTruncated', CASE WHEN NEW.to_state = 'succeeded' AND octet_length(j.result::text) > 4096 THEN true END
    ))
  );
  PERFORM jobplane_emit_event(j.client_id, 'job.' || t, NEW.job_id::text, t, ev);
  RETURN NULL;
END $$;

CREATE TRIGGER job_events_emit AFTER INSERT ON job_events
  FOR EACH ROW EXECUTE FUNCTION job_events_emit();

-- Down Migration
DROP TRIGGER IF EXISTS job_events_emit ON job_events;
DROP FUNCTION IF EXISTS job_events_emit();
DROP FUNCTION IF EXISTS jobplane_emit_event(text, text, text, text, jsonb);
DROP TABLE IF EXISTS webhook_delivery_attempts;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS webhook_subscriptions;
DROP TABLE IF EXISTS event_outbox;
DROP TABLE IF EXISTS event_sinks;
