-- deployed_at: when a job became active, the anchor of its every-ticks and
-- first windows (a job archived and deployed again starts over).
ALTER TABLE jobs ADD COLUMN deployed_at BIGINT NOT NULL DEFAULT 0;
UPDATE jobs SET deployed_at = updated_at;
-- Runs the scheduler makes carry the run that caused them (job.success,
-- job.fail) and a key that makes them once-only, even with two schedulers.
ALTER TABLE runs ADD COLUMN cause_run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX runs_dedupe ON runs (workspace_id, job_ref, dedupe_key);
