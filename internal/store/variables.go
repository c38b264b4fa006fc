package store

import (
	"context"
	"fmt"
	"time"
)

// Variable is an environment variable runs of a workspace get (DESIGN
// §6.8): workspace-wide (Profile "") or for one profile. A secret's Value
// is sealed by the server; the store never sees it in clear.
type Variable struct {
	WorkspaceID string
	Profile     string
	Name        string
	Secret      bool
	Value       string
	UpdatedBy   string
	UpdatedAt   time.Time
}

func (s *sqlStore) SetVariable(ctx context.Context, v Variable) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("set variable", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM variables WHERE workspace_id = ? AND profile = ? AND name = ?`), v.WorkspaceID, v.Profile, v.Name); err != nil {
		return wrap("set variable", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO variables (workspace_id, profile, name, secret, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		v.WorkspaceID, v.Profile, v.Name, boolInt(v.Secret), v.Value, v.UpdatedBy, ms(v.UpdatedAt)); err != nil {
		return wrap("set variable", err)
	}
	return wrap("set variable", tx.Commit())
}

func (s *sqlStore) Variables(ctx context.Context, workspaceID string) ([]Variable, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT workspace_id, profile, name, secret, value, updated_by, updated_at FROM variables WHERE workspace_id = ? ORDER BY profile, name`), workspaceID)
	if err != nil {
		return nil, wrap("variables", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Variable
	for rows.Next() {
		var v Variable
		var secret int
		var at int64
		if err := rows.Scan(&v.WorkspaceID, &v.Profile, &v.Name, &secret, &v.Value, &v.UpdatedBy, &at); err != nil {
			return nil, wrap("variables", err)
		}
		v.Secret, v.UpdatedAt = secret != 0, fromMS(at)
		out = append(out, v)
	}
	return out, wrap("variables", rows.Err())
}

func (s *sqlStore) DeleteVariable(ctx context.Context, workspaceID, profile, name string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM variables WHERE workspace_id = ? AND profile = ? AND name = ?`), workspaceID, profile, name)
	if err != nil {
		return wrap("delete variable", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("variable %s: %w", name, ErrNotFound)
	}
	return nil
}
