package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"modernc.org/sqlite"               // database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// sqlStore implements Store for SQLite and PostgreSQL.
type sqlStore struct {
	db       *sql.DB
	postgres bool
}

// OpenSQLite opens (creating) a SQLite database file. Several processes
// may share the file (two servers, or a server and a CLI): the journal is
// a write-ahead log, a locked database is waited for (busy_timeout), and
// write transactions begin IMMEDIATE, taking the write lock before their
// first read, since a transaction that read under a deferred BEGIN and
// then writes after another process wrote fails at once with SQLITE_BUSY
// (no wait can help it).
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	deadline := time.Now().Add(sqliteOpenWait)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
		s, err := open(ctx, db, false)
		if err == nil || !sqliteBusy(err) || time.Now().After(deadline) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store: open %s: %w", path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// sqliteOpenWait bounds how long OpenSQLite retries a busy database.
// SQLite calls the busy handler (busy_timeout) for ordinary lock waits but
// not for every race on a fresh file: switching the journal to WAL, WAL
// recovery and the checkpoint of a connection closing while another opens
// return SQLITE_BUSY at once. Servers (or a server and a CLI) starting
// together on one new file hit exactly those, so opening starts over.
const sqliteOpenWait = 10 * time.Second

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == 5
}

// OpenPostgres connects to a PostgreSQL database URL.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// database/sql keeps 2 idle connections by default: under concurrent
	// requests every other query opened (and closed) a PostgreSQL
	// connection. Measured by tools/benchapi (api_list_jobs, 32 clients):
	// 576 req/s and p99 142 ms with the default.
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, true)
}

func open(ctx context.Context, db *sql.DB, postgres bool) (Store, error) {
	s := &sqlStore{db: db, postgres: postgres}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations ("dlth" in ASCII).
const migrationLock = 0x646c7468

// migrate applies the embedded migrations not applied yet, each in a
// transaction. On PostgreSQL, servers starting together take turns under
// an advisory lock, so each migration runs once; SQLite is one process's.
func (s *sqlStore) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if s.postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		// Unlock on this connection even when ctx is done.
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: name must start with a number", f)
		}
		var n int
		if err := conn.QueryRowContext(ctx, s.q(`SELECT count(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Asked again under the write lock (SQLite's BEGIN IMMEDIATE): a
		// process starting at the same time may have applied it meanwhile.
		if err := tx.QueryRowContext(ctx, s.q(`SELECT count(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil || n > 0 {
			_ = tx.Rollback()
			if err != nil {
				return err
			}
			continue
		}
		for _, stmt := range sqlStatements(string(body)) {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("store: migration %s: %w", f, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations VALUES (?, ?)`), v, time.Now().UnixMilli()); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", f, err)
		}
	}
	return nil
}

// sqlStatements splits a migration into statements at semicolons, after
// dropping whole-line "--" comments (which may contain semicolons).
// Migrations keep string literals free of semicolons.
func sqlStatements(body string) []string {
	var kept []string
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			kept = append(kept, line)
		}
	}
	return strings.Split(strings.Join(kept, "\n"), ";")
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (s *sqlStore) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *sqlStore) Close() error { return s.db.Close() }

func isConflict(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint") || strings.Contains(m, "SQLSTATE 23505") || strings.Contains(m, "duplicate key")
}

func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case isConflict(err):
		return fmt.Errorf("%s: %w", op, ErrConflict)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func (s *sqlStore) CreateUser(ctx context.Context, u User) (User, error) {
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC()
	}
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO users (id, email, name, password_hash, created_at, email_verified) VALUES (?, ?, ?, ?, ?, ?)`),
		u.ID, u.Email, u.Name, u.PasswordHash, ms(u.CreatedAt), boolInt(u.EmailVerified))
	return u, wrap("create user "+u.Email, err)
}

// userCols are the columns scanUser reads, in its order.
const userCols = `u.id, u.email, u.name, u.password_hash, u.created_at, u.email_verified`

func (s *sqlStore) scanUser(row *sql.Row, op string) (User, error) {
	var u User
	var created int64
	var verified int
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &verified)
	u.CreatedAt, u.EmailVerified = fromMS(created), verified != 0
	return u, wrap(op, err)
}

func (s *sqlStore) UserByID(ctx context.Context, id string) (User, error) {
	return s.scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users u WHERE u.id = ?`), id), "user "+id)
}

func (s *sqlStore) UserByEmail(ctx context.Context, email string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	return s.scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users u WHERE u.email = ?`), email), "user "+email)
}

func (s *sqlStore) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

func (s *sqlStore) CreateOrg(ctx context.Context, name, ownerID string) (Org, error) {
	o := Org{ID: NewID(), Name: name, CreatedAt: time.Now().UTC()}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return o, err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)`), o.ID, o.Name, ms(o.CreatedAt)); err != nil {
		return o, wrap("create org "+name, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?)`), o.ID, ownerID, RoleOwner); err != nil {
		return o, wrap("create org "+name, err)
	}
	return o, wrap("create org "+name, tx.Commit())
}

func (s *sqlStore) AddOrgMember(ctx context.Context, orgID, userID, role string) error {
	if role != RoleOwner && role != RoleMember {
		return fmt.Errorf("org role %q: use owner or member", role)
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?)`), orgID, userID, role)
	return wrap("add org member", err)
}

func (s *sqlStore) OrgsOfUser(ctx context.Context, userID string) ([]OrgMembership, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT o.id, o.name, o.created_at, m.role FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.name, o.id`), userID)
	if err != nil {
		return nil, wrap("orgs of user", err)
	}
	defer func() { _ = rows.Close() }()
	var out []OrgMembership
	for rows.Next() {
		var m OrgMembership
		var created int64
		if err := rows.Scan(&m.Org.ID, &m.Org.Name, &created, &m.Role); err != nil {
			return nil, err
		}
		m.Org.CreatedAt = fromMS(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) CreateWorkspace(ctx context.Context, orgID, name string) (Workspace, error) {
	w := Workspace{ID: NewID(), OrgID: orgID, Name: name, CreatedAt: time.Now().UTC()}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`), w.ID, orgID, name, ms(w.CreatedAt))
	return w, wrap("create workspace "+name, err)
}

const workspaceCols = `w.id, w.org_id, w.name, coalesce(w.repository, ''), w.created_at`

func scanWorkspace(sc interface{ Scan(...any) error }, w *Workspace, extra ...any) error {
	var created int64
	err := sc.Scan(append([]any{&w.ID, &w.OrgID, &w.Name, &w.Repository, &created}, extra...)...)
	w.CreatedAt = fromMS(created)
	return err
}

func (s *sqlStore) WorkspaceByID(ctx context.Context, id string) (Workspace, error) {
	var w Workspace
	err := scanWorkspace(s.db.QueryRowContext(ctx, s.q(`SELECT `+workspaceCols+` FROM workspaces w WHERE w.id = ?`), id), &w)
	return w, wrap("workspace "+id, err)
}

func (s *sqlStore) SetWorkspaceRole(ctx context.Context, workspaceID, userID, role string) error {
	if role != RoleOwner && role != RoleDeveloper && role != RoleViewer {
		return fmt.Errorf("workspace role %q: use owner, developer or viewer", role)
	}
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?`), workspaceID, userID)
	if err != nil {
		return wrap("set workspace role", err)
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (?, ?, ?)`), workspaceID, userID, role)
	return wrap("set workspace role", err)
}

// RoleRank orders workspace roles so the strongest wins: owner >
// developer > viewer > none.
func RoleRank(r string) int {
	switch r {
	case RoleOwner:
		return 3
	case RoleDeveloper:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

func (s *sqlStore) WorkspaceRole(ctx context.Context, workspaceID, userID string) (string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`
SELECT role FROM workspace_members WHERE workspace_id = ? AND user_id = ?
UNION ALL
SELECT 'owner' FROM org_members m JOIN workspaces w ON w.org_id = m.org_id WHERE w.id = ? AND m.user_id = ? AND m.role = 'owner'`),
		workspaceID, userID, workspaceID, userID)
	if err != nil {
		return "", wrap("workspace role", err)
	}
	defer func() { _ = rows.Close() }()
	best := ""
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return "", err
		}
		if RoleRank(r) > RoleRank(best) {
			best = r
		}
	}
	if best == "" {
		return "", fmt.Errorf("workspace role: %w", ErrNotFound)
	}
	return best, rows.Err()
}

func (s *sqlStore) WorkspacesOfUser(ctx context.Context, userID string) ([]WorkspaceAccess, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`
SELECT `+workspaceCols+`, wm.role FROM workspaces w JOIN workspace_members wm ON wm.workspace_id = w.id WHERE wm.user_id = ?
UNION ALL
SELECT `+workspaceCols+`, 'owner' FROM workspaces w JOIN org_members om ON om.org_id = w.org_id WHERE om.user_id = ? AND om.role = 'owner'`), userID, userID)
	if err != nil {
		return nil, wrap("workspaces of user", err)
	}
	defer func() { _ = rows.Close() }()
	byID := map[string]*WorkspaceAccess{}
	var order []string
	for rows.Next() {
		var a WorkspaceAccess
		if err := scanWorkspace(rows, &a.Workspace, &a.Role); err != nil {
			return nil, err
		}
		if cur, ok := byID[a.Workspace.ID]; ok {
			if RoleRank(a.Role) > RoleRank(cur.Role) {
				cur.Role = a.Role
			}
			continue
		}
		byID[a.Workspace.ID] = &a
		order = append(order, a.Workspace.ID)
	}
	out := make([]WorkspaceAccess, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workspace.OrgID != out[j].Workspace.OrgID {
			return out[i].Workspace.OrgID < out[j].Workspace.OrgID
		}
		return out[i].Workspace.Name < out[j].Workspace.Name
	})
	return out, rows.Err()
}

func (s *sqlStore) BindRepository(ctx context.Context, workspaceID, repository string) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }()
	var current string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT coalesce(repository, '') FROM workspaces WHERE id = ?`), workspaceID).Scan(&current); err != nil {
		return "", wrap("bind repository", err)
	}
	if current == repository {
		return "", nil
	}
	if current != "" {
		return "", fmt.Errorf("bind repository: workspace %s is bound to %s: %w", workspaceID, current, ErrConflict)
	}
	var previous string
	err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM workspaces WHERE repository = ?`), repository).Scan(&previous)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", wrap("bind repository", err)
	}
	if previous != "" {
		// Rebinding: the repository leaves its old workspace.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE workspaces SET repository = NULL WHERE id = ?`), previous); err != nil {
			return "", wrap("bind repository", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE workspaces SET repository = ? WHERE id = ?`), repository, workspaceID); err != nil {
		return "", wrap("bind repository", err)
	}
	return previous, wrap("bind repository", tx.Commit())
}

func (s *sqlStore) CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	if k.ID == "" {
		k.ID = NewID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	var ws any
	if k.WorkspaceID != "" {
		ws = k.WorkspaceID
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO api_keys (id, user_id, workspace_id, role, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.UserID, ws, k.Role, k.Name, k.Hash, ms(k.CreatedAt), ms(k.ExpiresAt))
	return k, wrap("create api key", err)
}

const apiKeyCols = `id, user_id, workspace_id, role, name, hash, created_at, expires_at, revoked_at`

func scanAPIKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var ws sql.NullString
	var created, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.UserID, &ws, &k.Role, &k.Name, &k.Hash, &created, &expires, &revoked); err != nil {
		return k, err
	}
	k.WorkspaceID, k.CreatedAt, k.ExpiresAt = ws.String, fromMS(created), fromMS(expires)
	if revoked.Valid {
		t := fromMS(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}

func (s *sqlStore) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`), hash))
	return k, wrap("api key", err)
}

func (s *sqlStore) APIKeysOfUser(ctx context.Context, userID string, p Page) ([]APIKey, error) {
	query, args := `SELECT `+apiKeyCols+` FROM api_keys WHERE user_id = ?`, []any{userID}
	if p.After != "" {
		var created int64
		err := s.db.QueryRowContext(ctx, s.q(`SELECT created_at FROM api_keys WHERE id = ? AND user_id = ?`), p.After, userID).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("api key %q: %w", p.After, ErrBadPage)
		} else if err != nil {
			return nil, wrap("api keys", err)
		}
		query += ` AND (created_at > ? OR (created_at = ? AND id > ?))`
		args = append(args, created, created, p.After)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY created_at, id`+p.limitSQL()), args...)
	if err != nil {
		return nil, wrap("api keys", err)
	}
	defer func() { _ = rows.Close() }()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, wrap("api keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("api keys", rows.Err())
}

func (s *sqlStore) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), ms(at), id)
	if err != nil {
		return wrap("revoke api key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke api key %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) CreateDeviceCode(ctx context.Context, d DeviceCode) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO device_codes (device_code, user_code, client_id, expires_at, interval_ms) VALUES (?, ?, ?, ?, ?)`),
		d.DeviceCode, d.UserCode, d.ClientID, ms(d.ExpiresAt), d.Interval.Milliseconds())
	return wrap("create device code", err)
}

func (s *sqlStore) deviceCode(ctx context.Context, where, arg string) (DeviceCode, error) {
	var d DeviceCode
	var expires, interval int64
	var last sql.NullInt64
	var user sql.NullString
	var denied int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT device_code, user_code, client_id, expires_at, interval_ms, last_poll, user_id, denied FROM device_codes WHERE `+where+` = ?`), arg).
		Scan(&d.DeviceCode, &d.UserCode, &d.ClientID, &expires, &interval, &last, &user, &denied)
	if err != nil {
		return d, wrap("device code", err)
	}
	d.ExpiresAt, d.Interval, d.UserID, d.Denied = fromMS(expires), time.Duration(interval)*time.Millisecond, user.String, denied != 0
	if last.Valid {
		t := fromMS(last.Int64)
		d.LastPoll = &t
	}
	return d, nil
}

func (s *sqlStore) DeviceCodeByDevice(ctx context.Context, code string) (DeviceCode, error) {
	return s.deviceCode(ctx, "device_code", code)
}

func (s *sqlStore) DeviceCodeByUser(ctx context.Context, code string) (DeviceCode, error) {
	return s.deviceCode(ctx, "user_code", code)
}

func (s *sqlStore) settle(ctx context.Context, userCode, set string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE device_codes SET `+set+` WHERE user_code = ? AND user_id IS NULL AND denied = 0`), append(args, userCode)...)
	if err != nil {
		return wrap("settle device code", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("device code %s is unknown or already settled: %w", userCode, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) ApproveDeviceCode(ctx context.Context, userCode, userID string) error {
	return s.settle(ctx, userCode, `user_id = ?`, userID)
}

func (s *sqlStore) DenyDeviceCode(ctx context.Context, userCode string) error {
	return s.settle(ctx, userCode, `denied = 1`)
}

func (s *sqlStore) ConsumeDeviceCode(ctx context.Context, code string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM device_codes WHERE device_code = ? AND user_id IS NOT NULL AND denied = 0`), code)
	if err != nil {
		return wrap("consume device code", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("device code is unknown, unapproved or already used: %w", ErrNotFound)
	}
	return nil
}

func (s *sqlStore) PollDeviceCode(ctx context.Context, code string, at time.Time) (*time.Time, error) {
	d, err := s.DeviceCodeByDevice(ctx, code)
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, s.q(`UPDATE device_codes SET last_poll = ? WHERE device_code = ?`), ms(at), code)
	return d.LastPoll, wrap("poll device code", err)
}

func (s *sqlStore) DeleteExpiredDeviceCodes(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM device_codes WHERE expires_at < ?`), ms(before))
	if err != nil {
		return 0, wrap("delete expired device codes", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *sqlStore) AddSetupToken(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO setup_tokens (hash, created_at) VALUES (?, ?)`), hash, ms(at))
	return wrap("add setup token", err)
}

func (s *sqlStore) SetupTokenOpen(ctx context.Context, hash string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT count(*) FROM setup_tokens WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM setup_claim)`), hash).Scan(&n)
	return n > 0, wrap("setup token", err)
}

// ClaimSetup inserts the one row of setup_claim: of two processes
// claiming at once, the database lets one insert it and the other fails
// on the primary key.
func (s *sqlStore) ClaimSetup(ctx context.Context, hash string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("claim setup", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM setup_tokens WHERE hash = ?`), hash)
	if err != nil {
		return wrap("claim setup", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("claim setup: no such link: %w", ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO setup_claim (id, hash, claimed_at) VALUES (1, ?, ?)`), hash, ms(at)); err != nil {
		if isConflict(err) {
			return fmt.Errorf("claim setup: claimed already: %w", ErrNotFound)
		}
		return wrap("claim setup", err)
	}
	return wrap("claim setup", tx.Commit())
}

func (s *sqlStore) ReleaseSetup(ctx context.Context, hash string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("release setup", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM setup_claim WHERE hash = ?`), hash)
	if err != nil {
		return wrap("release setup", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("release setup: not claimed with this link: %w", ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO setup_tokens (hash, created_at) VALUES (?, ?)`), hash, ms(at)); err != nil {
		return wrap("release setup", err)
	}
	return wrap("release setup", tx.Commit())
}
