package store

import (
	"context"
	"time"
)

func (s *sqlStore) LinkIdentity(ctx context.Context, provider, subject, userID string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)`),
		provider, subject, userID, ms(time.Now()))
	return wrap("link "+provider+" identity "+subject, err)
}

func (s *sqlStore) UserByIdentity(ctx context.Context, provider, subject string) (User, error) {
	return s.scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT u.id, u.email, u.name, u.password_hash, u.created_at
FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ?`), provider, subject),
		provider+" identity "+subject)
}
