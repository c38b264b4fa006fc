package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// lockWorkspace makes concurrent writers to one workspace's jobs or
// versions take turns until tx ends. PostgreSQL locks the workspace row;
// SQLite has one writer at a time anyway.
func (s *sqlStore) lockWorkspace(ctx context.Context, tx *sql.Tx, workspaceID string) error {
	if !s.postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT id FROM workspaces WHERE id = $1 FOR UPDATE`, workspaceID)
	return err
}

func (s *sqlStore) ReconcileJobs(ctx context.Context, workspaceID string, jobs []Job, at time.Time) ([]JobChange, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("reconcile jobs", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
		return nil, wrap("reconcile jobs", err)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT ref, hash, active FROM jobs WHERE workspace_id = ?`), workspaceID)
	if err != nil {
		return nil, wrap("reconcile jobs", err)
	}
	type cur struct {
		hash   string
		active bool
	}
	existing := map[string]cur{}
	for rows.Next() {
		var ref, hash string
		var active int
		if err := rows.Scan(&ref, &hash, &active); err != nil {
			_ = rows.Close()
			return nil, wrap("reconcile jobs", err)
		}
		existing[ref] = cur{hash, active != 0}
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("reconcile jobs", err)
	}
	var changes []JobChange
	listed := map[string]bool{}
	for _, j := range jobs {
		listed[j.Ref] = true
		c, ok := existing[j.Ref]
		switch {
		case !ok:
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO jobs (workspace_id, ref, hash, spec, active, updated_at, deployed_at) VALUES (?, ?, ?, ?, 1, ?, ?)`), workspaceID, j.Ref, j.Hash, j.Spec, ms(at), ms(at))
			changes = append(changes, JobChange{j.Ref, "added"})
		case !c.active:
			// Back from the archive: it starts over as newly deployed.
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET hash = ?, spec = ?, active = 1, updated_at = ?, deployed_at = ? WHERE workspace_id = ? AND ref = ?`), j.Hash, j.Spec, ms(at), ms(at), workspaceID, j.Ref)
			changes = append(changes, JobChange{j.Ref, "updated"})
		case c.hash != j.Hash:
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET hash = ?, spec = ?, updated_at = ? WHERE workspace_id = ? AND ref = ?`), j.Hash, j.Spec, ms(at), workspaceID, j.Ref)
			changes = append(changes, JobChange{j.Ref, "updated"})
		default:
			changes = append(changes, JobChange{j.Ref, "unchanged"})
		}
		if err != nil {
			return nil, wrap("reconcile job "+j.Ref, err)
		}
	}
	for ref, c := range existing {
		if listed[ref] || !c.active {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET active = 0, updated_at = ? WHERE workspace_id = ? AND ref = ?`), ms(at), workspaceID, ref); err != nil {
			return nil, wrap("archive job "+ref, err)
		}
		changes = append(changes, JobChange{ref, "archived"})
	}
	sort.Slice(changes, func(i, k int) bool { return changes[i].Ref < changes[k].Ref })
	return changes, wrap("reconcile jobs", tx.Commit())
}

const jobCols = `workspace_id, ref, hash, spec, active, updated_at, deployed_at`

func (s *sqlStore) scanJobs(rows *sql.Rows, err error) ([]Job, error) {
	if err != nil {
		return nil, wrap("jobs", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Job
	for rows.Next() {
		var j Job
		var active int
		var updated, deployed int64
		if err := rows.Scan(&j.WorkspaceID, &j.Ref, &j.Hash, &j.Spec, &active, &updated, &deployed); err != nil {
			return nil, wrap("jobs", err)
		}
		j.Active, j.UpdatedAt, j.DeployedAt = active != 0, fromMS(updated), fromMS(deployed)
		out = append(out, j)
	}
	return out, wrap("jobs", rows.Err())
}

func (s *sqlStore) Jobs(ctx context.Context, workspaceID string, p Page) ([]Job, error) {
	return s.scanJobs(s.db.QueryContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE workspace_id = ? AND ref > ? ORDER BY ref`+p.limitSQL()), workspaceID, p.After))
}

func (s *sqlStore) JobByRef(ctx context.Context, workspaceID, ref string) (Job, error) {
	js, err := s.scanJobs(s.db.QueryContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE workspace_id = ? AND ref = ?`), workspaceID, ref))
	if err != nil {
		return Job{}, err
	}
	if len(js) == 0 {
		return Job{}, fmt.Errorf("job %s: %w", ref, ErrNotFound)
	}
	return js[0], nil
}

func (s *sqlStore) AllActiveJobs(ctx context.Context) ([]Job, error) {
	return s.scanJobs(s.db.QueryContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE active = 1 ORDER BY workspace_id, ref`))
}

func (s *sqlStore) DeactivateJobs(ctx context.Context, workspaceID string, at time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET active = 0, updated_at = ? WHERE workspace_id = ? AND active = 1`), ms(at), workspaceID)
	if err != nil {
		return 0, wrap("deactivate jobs", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
