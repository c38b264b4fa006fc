-- An account has proven its email when the server's operator made it (the
-- first owner) or a verified GitHub email signed in to it. One set up
-- through an invitation link has not: the link proves only that the
-- inviting organization's owner handed it to whoever holds it. Existing
-- accounts count as verified when linked to GitHub or when they are the
-- first user (made by the setup link).
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
UPDATE users SET email_verified = 1 WHERE id IN (SELECT user_id FROM identities) OR created_at = (SELECT min(created_at) FROM users);
-- An invitation is a pending membership of one organization, with the
-- role it will give; a person may be invited by several organizations at
-- once, and each one's link admits them to that organization only.
ALTER TABLE invites ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
UPDATE invites SET role = COALESCE((SELECT m.role FROM org_members m WHERE m.org_id = invites.org_id AND m.user_id = invites.user_id), 'member');
DELETE FROM org_members WHERE role <> 'owner' AND EXISTS (SELECT 1 FROM invites i WHERE i.org_id = org_members.org_id AND i.user_id = org_members.user_id);
CREATE UNIQUE INDEX invites_user_org ON invites (user_id, org_id);
-- The one-time links for the first owner: every API process that starts on
-- an empty database adds its own, and the first one used claims the setup
-- for all of them (the single row of setup_claim), so two processes on one
-- database cannot each create a first owner.
CREATE TABLE setup_tokens (
  hash TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
CREATE TABLE setup_claim (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  claimed_at BIGINT NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);
