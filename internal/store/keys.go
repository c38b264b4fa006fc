package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WorkerCredential lets a worker on another machine talk to the control
// plane (DESIGN §6.7a); only the hash of its token is stored.
type WorkerCredential struct {
	ID         string
	Name       string
	Hash       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastSeenAt *time.Time
}

func (s *sqlStore) WorkspaceKey(ctx context.Context, workspaceID string) (string, error) {
	var wrapped string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT wrapped FROM workspace_keys WHERE workspace_id = ?`), workspaceID).Scan(&wrapped)
	return wrapped, wrap("workspace key", err)
}

func (s *sqlStore) AddWorkspaceKey(ctx context.Context, workspaceID, wrapped string, at time.Time) (string, error) {
	// Two processes making the first key of a workspace at once: the
	// first insert wins and both use its key.
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO workspace_keys (workspace_id, wrapped, created_at) VALUES (?, ?, ?) ON CONFLICT (workspace_id) DO NOTHING`),
		workspaceID, wrapped, ms(at))
	if err != nil {
		return "", wrap("add workspace key", err)
	}
	return s.WorkspaceKey(ctx, workspaceID)
}

func (s *sqlStore) CreateWorkerCredential(ctx context.Context, c WorkerCredential) (WorkerCredential, error) {
	if c.ID == "" {
		c.ID = NewID()
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO worker_credentials (id, name, hash, created_at) VALUES (?, ?, ?, ?)`),
		c.ID, c.Name, c.Hash, ms(c.CreatedAt))
	return c, wrap("create worker credential "+c.Name, err)
}

const workerCredCols = `id, name, hash, created_at, revoked_at, last_seen_at`

func scanWorkerCred(sc interface{ Scan(...any) error }) (WorkerCredential, error) {
	var c WorkerCredential
	var created int64
	var revoked, seen sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Name, &c.Hash, &created, &revoked, &seen); err != nil {
		return c, err
	}
	c.CreatedAt = fromMS(created)
	if revoked.Valid {
		t := fromMS(revoked.Int64)
		c.RevokedAt = &t
	}
	if seen.Valid {
		t := fromMS(seen.Int64)
		c.LastSeenAt = &t
	}
	return c, nil
}

func (s *sqlStore) WorkerCredentialByHash(ctx context.Context, hash string) (WorkerCredential, error) {
	c, err := scanWorkerCred(s.db.QueryRowContext(ctx, s.q(`SELECT `+workerCredCols+` FROM worker_credentials WHERE hash = ?`), hash))
	return c, wrap("worker credential", err)
}

func (s *sqlStore) WorkerCredentials(ctx context.Context) ([]WorkerCredential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+workerCredCols+` FROM worker_credentials ORDER BY name`)
	if err != nil {
		return nil, wrap("worker credentials", err)
	}
	defer func() { _ = rows.Close() }()
	var out []WorkerCredential
	for rows.Next() {
		c, err := scanWorkerCred(rows)
		if err != nil {
			return nil, wrap("worker credentials", err)
		}
		out = append(out, c)
	}
	return out, wrap("worker credentials", rows.Err())
}

func (s *sqlStore) RevokeWorkerCredential(ctx context.Context, name string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE worker_credentials SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`), ms(at), name)
	if err != nil {
		return wrap("revoke worker credential", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("worker credential %s: %w", name, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) SeenWorkerCredential(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE worker_credentials SET last_seen_at = ? WHERE id = ?`), ms(at), id)
	return wrap("worker credential seen", err)
}
