-- Up Migration
-- The console (docs/console.md): keyset pages across every client for the admin key, its
-- dead-letter page, and "the last hour" of job_events for queue throughput. Per-client pages use
-- the indexes of the first migration.
CREATE INDEX jobs_created ON jobs (create_time DESC, id DESC);
CREATE INDEX jobs_dead_lettered_created ON jobs (create_time DESC, id DESC) WHERE state = 'dead_lettered';
-- job_events is append-only and inserted in time order: a BRIN index is tiny and cheap to keep.
CREATE INDEX job_events_time ON job_events USING brin (create_time);

-- Down Migration
DROP INDEX job_events_time;
DROP INDEX jobs_dead_lettered_created;
DROP INDEX jobs_created;
