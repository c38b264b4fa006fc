package store

import (
	"context"
	"time"
)

// LinkIdentity also deletes the user's pending invitations: signing in
// with the identity has claimed the account, so nobody may set a password
// for it through an old link.
func (s *sqlStore) LinkIdentity(ctx context.Context, provider, subject, userID string) error {
	op := "link " + provider + " identity " + subject
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)`),
		provider, subject, userID, ms(time.Now())); err != nil {
		return wrap(op, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM invites WHERE user_id = ?`), userID); err != nil {
		return wrap(op, err)
	}
	return wrap(op, tx.Commit())
}

func (s *sqlStore) UserByIdentity(ctx context.Context, provider, subject string) (User, error) {
	return s.scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT u.id, u.email, u.name, u.password_hash, u.created_at
FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ?`), provider, subject),
		provider+" identity "+subject)
}
