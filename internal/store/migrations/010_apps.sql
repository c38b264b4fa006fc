-- Interactive runs (DESIGN 6.7): where the app listens, for the API's
-- proxy, and when it was last used, for the idle timeout.
ALTER TABLE runs ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN touched_at BIGINT;
