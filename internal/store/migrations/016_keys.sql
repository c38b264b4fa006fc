-- Envelope encryption (DESIGN 6.7a): each workspace's secrets (its
-- configuration bundles and secret variables) are sealed with a data key
-- of its own, stored here wrapped (encrypted) by the server's master key.
-- Opening one workspace's secrets never needs another's key.
CREATE TABLE workspace_keys (
  workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
  wrapped TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
-- Workers on other machines authenticate with a credential of their own
-- (only its hash is stored), not with the database or the master key: the
-- control plane hands them the runs they claim, and a run's
-- configuration only while they hold it.
CREATE TABLE worker_credentials (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_seen_at BIGINT
);
