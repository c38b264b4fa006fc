package store

import (
	"context"
	"time"
)

const deploymentCols = `id, workspace_id, version, content_hash, blob_key, files, size, created_by, created_at`

func scanDeployment(sc interface{ Scan(...any) error }) (Deployment, error) {
	var d Deployment
	var created int64
	err := sc.Scan(&d.ID, &d.WorkspaceID, &d.Version, &d.ContentHash, &d.BlobKey, &d.Files, &d.Size, &d.CreatedBy, &created)
	d.CreatedAt = fromMS(created)
	return d, err
}

func (s *sqlStore) CreateDeployment(ctx context.Context, d Deployment) (Deployment, error) {
	if d.ID == "" {
		d.ID = NewID()
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, wrap("create deployment", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := tx.QueryRowContext(ctx, s.q(`SELECT coalesce(max(version), 0) + 1 FROM deployments WHERE workspace_id = ?`), d.WorkspaceID).Scan(&d.Version); err != nil {
		return d, wrap("create deployment", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deployments (`+deploymentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.WorkspaceID, d.Version, d.ContentHash, d.BlobKey, d.Files, d.Size, d.CreatedBy, ms(d.CreatedAt)); err != nil {
		return d, wrap("create deployment", err)
	}
	return d, wrap("create deployment", tx.Commit())
}

func (s *sqlStore) Deployments(ctx context.Context, workspaceID string) ([]Deployment, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+deploymentCols+` FROM deployments WHERE workspace_id = ? ORDER BY version DESC`), workspaceID)
	if err != nil {
		return nil, wrap("deployments", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, wrap("deployments", err)
		}
		out = append(out, d)
	}
	return out, wrap("deployments", rows.Err())
}

func (s *sqlStore) ActiveDeployment(ctx context.Context, workspaceID string) (Deployment, error) {
	d, err := scanDeployment(s.db.QueryRowContext(ctx, s.q(`SELECT `+deploymentCols+` FROM deployments WHERE workspace_id = ? ORDER BY version DESC LIMIT 1`), workspaceID))
	return d, wrap("active deployment", err)
}
