-- Up Migration
-- Flow control (docs/flow-control.md): the concurrency key and limit a submission gave, and the slot
-- set the API resolved from them and the job type's `flow` (flow_key, flow_limit). The relay reads
-- the resolved pair with the outbox row and carries it in the queue message, so a worker takes the
-- slot without reading the job first. All NULL for jobs without flow control.
ALTER TABLE jobs
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency_limit integer,
  ADD COLUMN flow_key text,
  ADD COLUMN flow_limit integer;

-- Down Migration
ALTER TABLE jobs
  DROP COLUMN flow_limit,
  DROP COLUMN flow_key,
  DROP COLUMN concurrency_limit,
  DROP COLUMN concurrency_key;
