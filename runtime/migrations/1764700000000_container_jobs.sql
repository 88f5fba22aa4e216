-- Up Migration
-- Container job types (`defineContainerJobType`): one Kubernetes Job per attempt, created by the
-- launcher. The launcher finds its running jobs by mode.
ALTER TABLE jobs DROP CONSTRAINT jobs_mode_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_mode_check CHECK (mode IN ('pooled','isolated','container'));
CREATE INDEX jobs_container_running ON jobs (id) WHERE mode = 'container' AND state = 'running';

-- Down Migration
DROP INDEX jobs_container_running;
ALTER TABLE jobs DROP CONSTRAINT jobs_mode_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_mode_check CHECK (mode IN ('pooled','isolated'));
