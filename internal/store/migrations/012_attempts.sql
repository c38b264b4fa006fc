-- A failed run queued again (execute.retries) is the next attempt.
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
