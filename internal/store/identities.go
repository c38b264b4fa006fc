package store

import (
	"context"
	"strconv"
	"time"
)

// LinkIdentity is for identities whose provider verified the user's
// email (GitHub's verified emails): linking one proves the email, so the
// account becomes verified and every organization that invited that email
// gets its member (the invitations turn into memberships and their links
// stop working). When the account was set up through an invitation link
// and never verified, whoever set its password there was not proven to
// own the email: that password stops working and the account's keys and
// sessions are revoked, so the email's owner takes the account back.
func (s *sqlStore) LinkIdentity(ctx context.Context, provider, subject, userID string) error {
	op := "link " + provider + " identity " + subject
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	now := ms(time.Now())
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)`),
		provider, subject, userID, now); err != nil {
		return wrap(op, err)
	}
	var verified int
	var pw string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT email_verified, password_hash FROM users WHERE id = ?`), userID).Scan(&verified, &pw); err != nil {
		return wrap(op, err)
	}
	stmts := []string{
		`INSERT INTO org_members (org_id, user_id, role) SELECT org_id, user_id, role FROM invites WHERE user_id = ? ON CONFLICT DO NOTHING`,
		`DELETE FROM invites WHERE user_id = ?`,
	}
	if verified == 0 && pw != "" {
		stmts = append(stmts, `UPDATE users SET password_hash = '' WHERE id = ?`,
			`UPDATE api_keys SET revoked_at = `+strconv.FormatInt(now, 10)+` WHERE user_id = ? AND revoked_at IS NULL`)
	}
	stmts = append(stmts, `UPDATE users SET email_verified = 1 WHERE id = ?`)
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, s.q(stmt), userID); err != nil {
			return wrap(op, err)
		}
	}
	return wrap(op, tx.Commit())
}

func (s *sqlStore) UserByIdentity(ctx context.Context, provider, subject string) (User, error) {
	return s.scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+`
FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ?`), provider, subject),
		provider+" identity "+subject)
}
