-- How many runs of the job may be in progress at once (execute.concurrency,
-- default 1), as it was when the run was queued.
ALTER TABLE runs ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 1;
