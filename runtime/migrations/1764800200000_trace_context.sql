-- Up Migration
-- W3C trace context (`traceparent`) of the request that created a job, written with the job and
-- its outbox row in the same transaction, so the relay and every worker attempt join the job's
-- trace (docs/observability.md). NULL when tracing is off or the job predates it.

ALTER TABLE jobs ADD COLUMN traceparent text;
ALTER TABLE outbox ADD COLUMN traceparent text;

-- Down Migration
ALTER TABLE outbox DROP COLUMN traceparent;
ALTER TABLE jobs DROP COLUMN traceparent;
