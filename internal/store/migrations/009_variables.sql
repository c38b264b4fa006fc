-- Variables (DESIGN 6.8): env vars for runs, for the whole workspace
-- (profile '') or one profile. Secret values are sealed by the server
-- before they get here.
CREATE TABLE variables (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  profile TEXT NOT NULL,
  name TEXT NOT NULL,
  secret INTEGER NOT NULL,
  value TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, profile, name)
);
