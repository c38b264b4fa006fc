package store

import (
	"context"
	"strings"
	"time"
)

const configurationCols = `id, workspace_id, version, content_hash, blob_key, files, created_by, created_at`

func (s *sqlStore) CreateConfiguration(ctx context.Context, c Configuration) (Configuration, error) {
	if c.ID == "" {
		c.ID = NewID()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	v, err := s.insertVersioned(ctx, "create configuration", "configurations", configurationCols, c.WorkspaceID, func(v int) []any {
		return []any{c.ID, c.WorkspaceID, v, c.ContentHash, c.BlobKey, strings.Join(c.Files, "\n"), c.CreatedBy, ms(c.CreatedAt)}
	})
	c.Version = v
	return c, err
}

func (s *sqlStore) Configurations(ctx context.Context, workspaceID string, p Page) ([]Configuration, error) {
	before, err := versionBefore(p)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+configurationCols+` FROM configurations WHERE workspace_id = ? AND version < ? ORDER BY version DESC`+p.limitSQL()), workspaceID, before)
	if err != nil {
		return nil, wrap("configurations", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Configuration
	for rows.Next() {
		var c Configuration
		var files string
		var created int64
		if err := rows.Scan(&c.ID, &c.WorkspaceID, &c.Version, &c.ContentHash, &c.BlobKey, &files, &c.CreatedBy, &created); err != nil {
			return nil, wrap("configurations", err)
		}
		if files != "" {
			c.Files = strings.Split(files, "\n")
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, wrap("configurations", rows.Err())
}
