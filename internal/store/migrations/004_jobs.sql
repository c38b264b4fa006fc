CREATE TABLE jobs (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  ref TEXT NOT NULL,
  hash TEXT NOT NULL,
  spec TEXT NOT NULL,
  active INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, ref)
);
