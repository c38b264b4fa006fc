-- Runs of deployed jobs and their log lines (DESIGN 6.5, 6.6).
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  job_ref TEXT NOT NULL,
  number INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  profile TEXT NOT NULL,
  refresh INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  deployment_version INTEGER NOT NULL,
  configuration_version INTEGER NOT NULL,
  interval_start BIGINT,
  interval_end BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  exit_code INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  worker TEXT NOT NULL DEFAULT '',
  heartbeat_at BIGINT,
  UNIQUE (workspace_id, job_ref, number)
);
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE TABLE run_logs (
  run_id TEXT NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  at BIGINT NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
