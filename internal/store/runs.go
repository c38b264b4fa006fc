package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run states (DESIGN §6.5).
const (
	RunPending    = "pending"
	RunStarting   = "starting"
	RunRunning    = "running"
	RunCompleted  = "completed"
	RunFailed     = "failed"
	RunCancelled  = "cancelled"
	RunSkipped    = "skipped"
	RunCancelling = "cancelling"
)

// Run is one run of a deployed job: what started it, with which code and
// configuration versions, its interval and how it ended.
type Run struct {
	ID                   string
	WorkspaceID          string
	JobRef               string
	Number               int // per job, from 1
	Trigger              string
	Profile              string
	Refresh              bool
	Status               string
	DeploymentVersion    int
	ConfigurationVersion int // 0: no configuration synced
	IntervalStart        *time.Time
	IntervalEnd          *time.Time
	CreatedBy            string
	CreatedAt            time.Time
	StartedAt            *time.Time
	FinishedAt           *time.Time
	ExitCode             *int
	Reason               string
	Worker               string
	HeartbeatAt          *time.Time
	// CauseRunID is the upstream run that triggered this one (job.success,
	// job.fail); DedupeKey makes a scheduled run once-only ("" for manual
	// runs).
	CauseRunID string
	DedupeKey  string
	// Address is where an interactive run's app listens (host:port), set
	// once it accepts connections; TouchedAt when it was last used.
	Address   string
	TouchedAt *time.Time
	// Attempt counts tries of the same work: a retry of a failed run is
	// its Attempt+1 (from 1).
	Attempt int
	// TableRows are the rows a pipeline run loaded, per table.
	TableRows map[string]int64
	// Concurrency is how many runs of the job may be in progress at once
	// (execute.concurrency; 0 means 1).
	Concurrency int
}

// Done reports whether the run has ended.
func (r Run) Done() bool {
	switch r.Status {
	case RunCompleted, RunFailed, RunCancelled, RunSkipped:
		return true
	}
	return false
}

// LogLine is one line a run printed.
type LogLine struct {
	Seq    int64
	At     time.Time
	Stream string // stdout or stderr
	Line   string
}

const runCols = `id, workspace_id, job_ref, number, trigger, profile, refresh, status, deployment_version, configuration_version,
interval_start, interval_end, created_by, created_at, started_at, finished_at, exit_code, reason, worker, heartbeat_at, cause_run_id, coalesce(dedupe_key, ''), address, touched_at, attempt, table_rows, concurrency`

func optMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func fromOptMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var refresh int
	var created int64
	var is, ie, st, fi, hb sql.NullInt64
	var exit, touched sql.NullInt64
	var tableRows string
	err := sc.Scan(&r.ID, &r.WorkspaceID, &r.JobRef, &r.Number, &r.Trigger, &r.Profile, &refresh, &r.Status, &r.DeploymentVersion, &r.ConfigurationVersion,
		&is, &ie, &r.CreatedBy, &created, &st, &fi, &exit, &r.Reason, &r.Worker, &hb, &r.CauseRunID, &r.DedupeKey, &r.Address, &touched, &r.Attempt, &tableRows, &r.Concurrency)
	if tableRows != "" {
		_ = json.Unmarshal([]byte(tableRows), &r.TableRows)
	}
	r.TouchedAt = fromOptMS(touched)
	r.Refresh, r.CreatedAt = refresh != 0, fromMS(created)
	r.IntervalStart, r.IntervalEnd, r.StartedAt, r.FinishedAt, r.HeartbeatAt = fromOptMS(is), fromOptMS(ie), fromOptMS(st), fromOptMS(fi), fromOptMS(hb)
	if exit.Valid {
		c := int(exit.Int64)
		r.ExitCode = &c
	}
	return r, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *sqlStore) CreateRun(ctx context.Context, r Run) (Run, error) {
	if r.ID == "" {
		r.ID = NewID()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if r.Status == "" {
		r.Status = RunPending
	}
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	if r.Concurrency < 1 {
		r.Concurrency = 1
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, wrap("create run", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.lockWorkspace(ctx, tx, r.WorkspaceID); err != nil {
		return r, wrap("create run", err)
	}
	if err := tx.QueryRowContext(ctx, s.q(`SELECT coalesce(max(number), 0) + 1 FROM runs WHERE workspace_id = ? AND job_ref = ?`), r.WorkspaceID, r.JobRef).Scan(&r.Number); err != nil {
		return r, wrap("create run", err)
	}
	var dedupe any
	if r.DedupeKey != "" {
		dedupe = r.DedupeKey
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO runs (`+strings.Replace(runCols, "coalesce(dedupe_key, '')", "dedupe_key", 1)+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)`),
		r.ID, r.WorkspaceID, r.JobRef, r.Number, r.Trigger, r.Profile, boolInt(r.Refresh), r.Status, r.DeploymentVersion, r.ConfigurationVersion,
		optMS(r.IntervalStart), optMS(r.IntervalEnd), r.CreatedBy, ms(r.CreatedAt), optMS(r.StartedAt), optMS(r.FinishedAt), nil, r.Reason, r.Worker, nil,
		r.CauseRunID, dedupe, r.Address, nil, r.Attempt, r.Concurrency); err != nil {
		return r, wrap("create run", err)
	}
	return r, wrap("create run", tx.Commit())
}

func (s *sqlStore) RunByID(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE id = ?`), id))
	return r, wrap("run "+id, err)
}

func (s *sqlStore) RunByNumber(ctx context.Context, workspaceID, jobRef string, number int) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE workspace_id = ? AND job_ref = ? AND number = ?`), workspaceID, jobRef, number))
	return r, wrap(fmt.Sprintf("run %s #%d", jobRef, number), err)
}

func (s *sqlStore) Runs(ctx context.Context, workspaceID, jobRef string, p Page) ([]Run, error) {
	query, args := `SELECT `+runCols+` FROM runs WHERE workspace_id = ?`, []any{workspaceID}
	if jobRef != "" {
		query, args = query+` AND job_ref = ?`, append(args, jobRef)
	}
	if p.After != "" {
		var created int64
		err := s.db.QueryRowContext(ctx, s.q(`SELECT created_at FROM runs WHERE id = ? AND workspace_id = ?`), p.After, workspaceID).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("run %q: %w", p.After, ErrBadPage)
		} else if err != nil {
			return nil, wrap("runs", err)
		}
		query += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, created, created, p.After)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY created_at DESC, id DESC`+p.limitSQL()), args...)
	if err != nil {
		return nil, wrap("runs", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, wrap("runs", err)
		}
		out = append(out, r)
	}
	return out, wrap("runs", rows.Err())
}

// active are the states in which a run holds one of its job's slots.
const activeStates = `('starting', 'running', 'cancelling')`

func (s *sqlStore) ClaimRun(ctx context.Context, worker string, at time.Time) (Run, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Run{}, wrap("claim run", err)
	}
	defer func() { _ = tx.Rollback() }()
	pick := `SELECT id, workspace_id, job_ref, concurrency FROM runs r WHERE status = 'pending'
AND (SELECT count(*) FROM runs x WHERE x.workspace_id = r.workspace_id AND x.job_ref = r.job_ref AND x.status IN ` + activeStates + `) < r.concurrency
ORDER BY created_at, id LIMIT 1`
	if s.postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	var id, ws, job string
	var limit int
	if err := tx.QueryRowContext(ctx, pick).Scan(&id, &ws, &job, &limit); err != nil {
		return Run{}, wrap("claim run", err)
	}
	// Another worker may be claiming a run of the same job right now:
	// take turns on the workspace, then look again.
	if err := s.lockWorkspace(ctx, tx, ws); err != nil {
		return Run{}, wrap("claim run", err)
	}
	var busy int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT count(*) FROM runs WHERE workspace_id = ? AND job_ref = ? AND status IN `+activeStates), ws, job).Scan(&busy); err != nil {
		return Run{}, wrap("claim run", err)
	}
	if busy >= limit {
		return Run{}, fmt.Errorf("claim run: %w", ErrNotFound)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET status = 'starting', worker = ?, started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'pending'`), worker, ms(at), ms(at), id)
	if err != nil {
		return Run{}, wrap("claim run", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Run{}, fmt.Errorf("claim run: %w", ErrNotFound)
	}
	r, err := scanRun(tx.QueryRowContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE id = ?`), id))
	if err != nil {
		return Run{}, wrap("claim run", err)
	}
	return r, wrap("claim run", tx.Commit())
}

// setRun updates a run that is in one of the from states; ErrNotFound when
// it is not (it moved on: cancelled, reaped, finished).
func (s *sqlStore) setRun(ctx context.Context, op, id, from, set string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET `+set+` WHERE id = ? AND status IN `+from), append(args, id)...)
	if err != nil {
		return wrap(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %s: %w", op, id, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) StartRun(ctx context.Context, id string, start, end *time.Time, at time.Time) error {
	return s.setRun(ctx, "start run", id, `('starting')`, `status = 'running', interval_start = ?, interval_end = ?, heartbeat_at = ?`, optMS(start), optMS(end), ms(at))
}

func (s *sqlStore) HeartbeatRun(ctx context.Context, id string, at time.Time) error {
	return s.setRun(ctx, "heartbeat run", id, activeStates, `heartbeat_at = ?`, ms(at))
}

func (s *sqlStore) FinishRun(ctx context.Context, id, status string, exitCode *int, reason string, at time.Time) error {
	var code any
	if exitCode != nil {
		code = *exitCode
	}
	return s.setRun(ctx, "finish run", id, `('pending', 'starting', 'running', 'cancelling')`, `status = ?, exit_code = ?, reason = ?, finished_at = ?`, status, code, reason, ms(at))
}

func (s *sqlStore) ReleaseRun(ctx context.Context, id string) error {
	return s.setRun(ctx, "release run", id, `('starting', 'running')`, `status = 'pending', worker = '', started_at = NULL, heartbeat_at = NULL, interval_start = NULL, interval_end = NULL`)
}

func (s *sqlStore) CancelRun(ctx context.Context, id string, at time.Time) (string, error) {
	// A pending run ends here; a running one is asked to stop.
	if err := s.setRun(ctx, "cancel run", id, `('pending')`, `status = 'cancelled', reason = 'cancelled before it started', finished_at = ?`, ms(at)); err == nil {
		return RunCancelled, nil
	}
	if err := s.setRun(ctx, "cancel run", id, activeStates, `status = 'cancelling'`); err != nil {
		return "", err
	}
	return RunCancelling, nil
}

func (s *sqlStore) FailStaleRuns(ctx context.Context, heartbeatBefore, at time.Time, reason string) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE status IN `+activeStates+` AND heartbeat_at < ?`), ms(heartbeatBefore))
	if err != nil {
		return nil, wrap("stale runs", err)
	}
	var stale []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			_ = rows.Close()
			return nil, wrap("stale runs", err)
		}
		stale = append(stale, r)
	}
	_ = rows.Close()
	var out []Run
	for _, r := range stale {
		// Only if still stale: the worker may have just beaten.
		res, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET status = 'failed', reason = ?, finished_at = ? WHERE id = ? AND status IN `+activeStates+` AND heartbeat_at < ?`),
			reason, ms(at), r.ID, ms(heartbeatBefore))
		if err != nil {
			return out, wrap("fail stale run", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			r.Status, r.Reason = RunFailed, reason
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *sqlStore) LastCompletedEnd(ctx context.Context, workspaceID, jobRef string) (*time.Time, error) {
	var end sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT max(interval_end) FROM runs WHERE workspace_id = ? AND job_ref = ? AND status = 'completed'`), workspaceID, jobRef).Scan(&end)
	return fromOptMS(end), wrap("last completed end", err)
}

func (s *sqlStore) AppendRunLogs(ctx context.Context, runID string, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append logs", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO run_logs (run_id, seq, at, stream, line) VALUES (?, ?, ?, ?, ?)`))
	if err != nil {
		return wrap("append logs", err)
	}
	defer func() { _ = stmt.Close() }()
	for _, l := range lines {
		if _, err := stmt.ExecContext(ctx, runID, l.Seq, ms(l.At), l.Stream, l.Line); err != nil {
			return wrap("append logs", err)
		}
	}
	return wrap("append logs", tx.Commit())
}

func (s *sqlStore) RunLogs(ctx context.Context, runID string, afterSeq int64, limit int) ([]LogLine, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT seq, at, stream, line FROM run_logs WHERE run_id = ? AND seq > ? ORDER BY seq`+Page{Limit: limit}.limitSQL()), runID, afterSeq)
	if err != nil {
		return nil, wrap("run logs", err)
	}
	defer func() { _ = rows.Close() }()
	var out []LogLine
	for rows.Next() {
		var l LogLine
		var at int64
		if err := rows.Scan(&l.Seq, &at, &l.Stream, &l.Line); err != nil {
			return nil, wrap("run logs", err)
		}
		l.At = fromMS(at)
		out = append(out, l)
	}
	return out, wrap("run logs", rows.Err())
}

func (s *sqlStore) LastScheduledEnd(ctx context.Context, workspaceID, jobRef, trigger string) (*time.Time, error) {
	var end sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT max(interval_end) FROM runs WHERE workspace_id = ? AND job_ref = ? AND trigger = ?`), workspaceID, jobRef, trigger).Scan(&end)
	return fromOptMS(end), wrap("last scheduled end", err)
}

func (s *sqlStore) FinishedRuns(ctx context.Context, workspaceID, jobRef, status string, since time.Time) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE workspace_id = ? AND job_ref = ? AND status = ? AND finished_at >= ? ORDER BY finished_at, id`),
		workspaceID, jobRef, status, ms(since))
	if err != nil {
		return nil, wrap("finished runs", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, wrap("finished runs", err)
		}
		out = append(out, r)
	}
	return out, wrap("finished runs", rows.Err())
}

func (s *sqlStore) SetRunTableRows(ctx context.Context, id string, rows map[string]int64) error {
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET table_rows = ? WHERE id = ?`), string(b), id)
	if err != nil {
		return wrap("set run rows", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) SetRunAddress(ctx context.Context, id, address string, at time.Time) error {
	return s.setRun(ctx, "set run address", id, `('running')`, `address = ?, touched_at = ?`, address, ms(at))
}

func (s *sqlStore) TouchRun(ctx context.Context, id string, at time.Time) error {
	return s.setRun(ctx, "touch run", id, `('running')`, `touched_at = ?`, ms(at))
}

func (s *sqlStore) DeleteRunLogsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM run_logs WHERE run_id IN (SELECT id FROM runs WHERE finished_at < ?)`), ms(before))
	if err != nil {
		return 0, wrap("delete old run logs", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
