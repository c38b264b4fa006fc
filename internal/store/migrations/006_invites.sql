-- Invitations: a user added by email who has no account yet sets a
-- password through a one-time link, and only the link's hash is kept.
CREATE TABLE invites (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  org_id TEXT NOT NULL REFERENCES orgs(id),
  created_by TEXT NOT NULL REFERENCES users(id),
  expires_at BIGINT NOT NULL
);
CREATE INDEX invites_user ON invites (user_id);
