-- External identities (GitHub) linked to users: one account per provider
-- subject and one subject per provider per user.
CREATE TABLE identities (
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (provider, subject),
  UNIQUE (provider, user_id)
);
