-- Up Migration
-- A writer that publishes its own outbox rows at once (the API's eager publisher, docs/runtime.md)
-- says so for its transaction with set_config('jobplane.outbox_notify', 'off', true): the relays
-- need not wake for those rows. Every other writer still wakes them.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('jobplane.outbox_notify', true), '') <> 'off' THEN
    PERFORM pg_notify('jobplane_outbox', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jobplane_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END $$;
