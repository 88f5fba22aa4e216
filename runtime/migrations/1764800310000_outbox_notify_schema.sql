-- Up Migration
-- The outbox NOTIFY names the schema it fired in, so a relay wakes only for its own installation
-- when several share one PostgreSQL database (each in its own DATABASE_SCHEMA).
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jobplane_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jobplane_outbox', '');
  RETURN NULL;
END $$;
