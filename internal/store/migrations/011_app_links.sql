-- Public links to apps (DESIGN 6.7): revocable, only the hash is kept.
CREATE TABLE app_links (
  hash TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  job_ref TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
