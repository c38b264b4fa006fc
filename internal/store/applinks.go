package store

import (
	"context"
	"database/sql"
	"time"
)

// AppLink is a public link to an interactive job's app.
type AppLink struct {
	Hash        string
	WorkspaceID string
	JobRef      string
	CreatedBy   string
	CreatedAt   time.Time
	RevokedAt   *time.Time
}

func (s *sqlStore) CreateAppLink(ctx context.Context, l AppLink) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO app_links (hash, workspace_id, job_ref, created_by, created_at) VALUES (?, ?, ?, ?, ?)`),
		l.Hash, l.WorkspaceID, l.JobRef, l.CreatedBy, ms(l.CreatedAt))
	return wrap("create app link", err)
}

func (s *sqlStore) AppLinkByHash(ctx context.Context, hash string) (AppLink, error) {
	var l AppLink
	var created int64
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT hash, workspace_id, job_ref, created_by, created_at, revoked_at FROM app_links WHERE hash = ?`), hash).
		Scan(&l.Hash, &l.WorkspaceID, &l.JobRef, &l.CreatedBy, &created, &revoked)
	l.CreatedAt, l.RevokedAt = fromMS(created), fromOptMS(revoked)
	return l, wrap("app link", err)
}

func (s *sqlStore) RevokeAppLinks(ctx context.Context, workspaceID, jobRef string, at time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE app_links SET revoked_at = ? WHERE workspace_id = ? AND job_ref = ? AND revoked_at IS NULL`), ms(at), workspaceID, jobRef)
	if err != nil {
		return 0, wrap("revoke app links", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
