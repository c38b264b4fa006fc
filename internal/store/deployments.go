package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	v, err := s.insertVersioned(ctx, "create deployment", "deployments", deploymentCols, d.WorkspaceID, func(v int) []any {
		return []any{d.ID, d.WorkspaceID, v, d.ContentHash, d.BlobKey, d.Files, d.Size, d.CreatedBy, ms(d.CreatedAt)}
	})
	d.Version = v
	return d, err
}

// insertVersioned inserts a workspace's next version of a versioned row
// (deployments, configurations) in one transaction; row gives the values
// for cols with that version. Writers to one workspace take turns
// (lockWorkspace), and the (workspace_id, version) key backs that up.
func (s *sqlStore) insertVersioned(ctx context.Context, op, table, cols, workspaceID string, row func(version int) []any) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
		return 0, wrap(op, err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT coalesce(max(version), 0) + 1 FROM `+table+` WHERE workspace_id = ?`), workspaceID).Scan(&v); err != nil {
		return 0, wrap(op, err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", strings.Count(cols, ",")+1), ", ")
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO `+table+` (`+cols+`) VALUES (`+marks+`)`), row(v)...); err != nil {
		return 0, wrap(op, err)
	}
	return v, wrap(op, tx.Commit())
}

func (s *sqlStore) Deployments(ctx context.Context, workspaceID string, p Page) ([]Deployment, error) {
	before, err := versionBefore(p)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+deploymentCols+` FROM deployments WHERE workspace_id = ? AND version < ? ORDER BY version DESC`+p.limitSQL()), workspaceID, before)
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

// versionBefore is the exclusive upper bound a page of a newest-first
// version list starts below.
// Versions are INTEGER columns: 32 bits on PostgreSQL.
func versionBefore(p Page) (int64, error) {
	if p.After == "" {
		return math.MaxInt32, nil
	}
	v, err := strconv.ParseInt(p.After, 10, 32)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("version %q: %w", p.After, ErrBadPage)
	}
	return v, nil
}

func (s *sqlStore) ActiveVersions(ctx context.Context, workspaceID string) (int, int, error) {
	var code, conf int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT coalesce((SELECT max(version) FROM deployments WHERE workspace_id = ?), 0),
coalesce((SELECT max(version) FROM configurations WHERE workspace_id = ?), 0)`), workspaceID, workspaceID).Scan(&code, &conf)
	return code, conf, wrap("active versions", err)
}
