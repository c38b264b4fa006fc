package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLastOwner refuses to remove or demote an organization's last owner:
// nobody could manage it afterwards.
var ErrLastOwner = errors.New("the organization's last owner")

// Member is a user with a role (in an organization or a workspace).
type Member struct {
	User User
	Role string
	// Inherited marks a workspace owner by way of owning its organization.
	Inherited bool
	// Pending marks an organization member who has not accepted their
	// invitation yet: Role is what they will get, and they have no access.
	Pending bool
}

// Invite is a pending membership of one organization: a one-time link
// (only its hash is kept) that sets up an account which has none yet, or
// that an account's holder, signed in, accepts. Role is the organization
// role it gives.
type Invite struct {
	Hash      string
	UserID    string
	OrgID     string
	Role      string
	CreatedBy string
	ExpiresAt time.Time
}

func (s *sqlStore) scanMembers(rows *sql.Rows, err error, op string) ([]Member, error) {
	if err != nil {
		return nil, wrap(op, err)
	}
	defer func() { _ = rows.Close() }()
	var out []Member
	for rows.Next() {
		var m Member
		var created int64
		var verified, inherited, pending int
		if err := rows.Scan(&m.User.ID, &m.User.Email, &m.User.Name, &m.User.PasswordHash, &created, &verified, &m.Role, &inherited, &pending); err != nil {
			return nil, wrap(op, err)
		}
		m.User.CreatedAt, m.User.EmailVerified, m.Inherited, m.Pending = fromMS(created), verified != 0, inherited != 0, pending != 0
		out = append(out, m)
	}
	return out, wrap(op, rows.Err())
}

func (s *sqlStore) OrgMembers(ctx context.Context, orgID string, p Page) ([]Member, error) {
	// Members, then the invited who are not members yet (pending).
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT * FROM (
SELECT `+userCols+`, m.role, 0 AS inherited, 0 AS pending
FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?
UNION ALL
SELECT `+userCols+`, i.role, 0, 1
FROM invites i JOIN users u ON u.id = i.user_id WHERE i.org_id = ?
  AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = i.org_id AND m.user_id = i.user_id)
) members WHERE email > ? ORDER BY email`+p.limitSQL()), orgID, orgID, p.After)
	return s.scanMembers(rows, err, "org members")
}

// orgOwnersBesides counts the org's owners other than userID.
func orgOwnersBesides(ctx context.Context, tx *sql.Tx, q func(string) string, orgID, userID string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, q(`SELECT count(*) FROM org_members WHERE org_id = ? AND role = 'owner' AND user_id <> ?`), orgID, userID).Scan(&n)
	return n, err
}

func (s *sqlStore) SetOrgRole(ctx context.Context, orgID, userID, role string) error {
	if role != RoleOwner && role != RoleMember {
		return fmt.Errorf("org role %q: use owner or member", role)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("set org role", err)
	}
	defer func() { _ = tx.Rollback() }()
	if role != RoleOwner {
		n, err := orgOwnersBesides(ctx, tx, s.q, orgID, userID)
		if err != nil {
			return wrap("set org role", err)
		}
		if n == 0 {
			return fmt.Errorf("demote %s: %w", userID, ErrLastOwner)
		}
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE org_members SET role = ? WHERE org_id = ? AND user_id = ?`), role, orgID, userID)
	if err != nil {
		return wrap("set org role", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A pending member: the role their invitation will give.
		res, err = tx.ExecContext(ctx, s.q(`UPDATE invites SET role = ? WHERE org_id = ? AND user_id = ?`), role, orgID, userID)
		if err != nil {
			return wrap("set org role", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("org member %s: %w", userID, ErrNotFound)
		}
	}
	return wrap("set org role", tx.Commit())
}

func (s *sqlStore) RemoveOrgMember(ctx context.Context, orgID, userID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("remove org member", err)
	}
	defer func() { _ = tx.Rollback() }()
	n, err := orgOwnersBesides(ctx, tx, s.q, orgID, userID)
	if err != nil {
		return wrap("remove org member", err)
	}
	var role string
	err = tx.QueryRowContext(ctx, s.q(`SELECT role FROM org_members WHERE org_id = ? AND user_id = ?`), orgID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		// A pending member: withdraw the invitation.
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM invites WHERE user_id = ? AND org_id = ?`), userID, orgID)
		if err != nil {
			return wrap("remove org member", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("org member %s: %w", userID, ErrNotFound)
		}
		return wrap("remove org member", tx.Commit())
	}
	if err != nil {
		return wrap("org member "+userID, err)
	}
	if role == RoleOwner && n == 0 {
		return fmt.Errorf("remove %s: %w", userID, ErrLastOwner)
	}
	// Their roles in the organization's workspaces and their invitations
	// to it go with them.
	for _, stmt := range []string{
		`DELETE FROM workspace_members WHERE user_id = ? AND workspace_id IN (SELECT id FROM workspaces WHERE org_id = ?)`,
		`DELETE FROM invites WHERE user_id = ? AND org_id = ?`,
		`DELETE FROM org_members WHERE user_id = ? AND org_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, s.q(stmt), userID, orgID); err != nil {
			return wrap("remove org member", err)
		}
	}
	return wrap("remove org member", tx.Commit())
}

func (s *sqlStore) WorkspaceMembers(ctx context.Context, workspaceID string, p Page) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT * FROM (
SELECT `+userCols+`, wm.role, 0 AS inherited, 0 AS pending
FROM workspace_members wm JOIN users u ON u.id = wm.user_id WHERE wm.workspace_id = ?
  AND NOT EXISTS (SELECT 1 FROM org_members om JOIN workspaces w ON w.org_id = om.org_id WHERE w.id = wm.workspace_id AND om.user_id = wm.user_id AND om.role = 'owner')
UNION ALL
SELECT `+userCols+`, 'owner', 1, 0
FROM org_members om JOIN workspaces w ON w.org_id = om.org_id JOIN users u ON u.id = om.user_id WHERE w.id = ? AND om.role = 'owner'
) members WHERE email > ? ORDER BY email`+p.limitSQL()), workspaceID, workspaceID, p.After)
	return s.scanMembers(rows, err, "workspace members")
}

func (s *sqlStore) RemoveWorkspaceRole(ctx context.Context, workspaceID, userID string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?`), workspaceID, userID)
	if err != nil {
		return wrap("remove workspace role", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("workspace role of %s: %w", userID, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) CreateInvite(ctx context.Context, in Invite) error {
	if in.Role == "" {
		in.Role = RoleMember
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("create invite", err)
	}
	defer func() { _ = tx.Rollback() }()
	// A new link replaces the user's earlier one to the same organization;
	// other organizations' invitations stay theirs.
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM invites WHERE user_id = ? AND org_id = ?`), in.UserID, in.OrgID); err != nil {
		return wrap("create invite", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO invites (hash, user_id, org_id, role, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		in.Hash, in.UserID, in.OrgID, in.Role, in.CreatedBy, ms(in.ExpiresAt)); err != nil {
		return wrap("create invite", err)
	}
	return wrap("create invite", tx.Commit())
}

func (s *sqlStore) invite(ctx context.Context, where string, args ...any) (Invite, error) {
	var in Invite
	var exp int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT hash, user_id, org_id, role, created_by, expires_at FROM invites WHERE `+where), args...).
		Scan(&in.Hash, &in.UserID, &in.OrgID, &in.Role, &in.CreatedBy, &exp)
	in.ExpiresAt = fromMS(exp)
	return in, wrap("invite", err)
}

func (s *sqlStore) InviteByHash(ctx context.Context, hash string) (Invite, error) {
	return s.invite(ctx, "hash = ?", hash)
}

func (s *sqlStore) InviteOfUser(ctx context.Context, userID, orgID string) (Invite, error) {
	return s.invite(ctx, "user_id = ? AND org_id = ?", userID, orgID)
}

// joinInvite spends an invitation inside tx and makes its user a member
// of its organization with its role; ErrNotFound when it is spent already
// (a racing accept won) or belongs to another user (userID set).
func (s *sqlStore) joinInvite(ctx context.Context, tx *sql.Tx, hash, userID string) (string, error) {
	var in Invite
	if err := tx.QueryRowContext(ctx, s.q(`SELECT user_id, org_id, role FROM invites WHERE hash = ?`), hash).Scan(&in.UserID, &in.OrgID, &in.Role); err != nil {
		return "", err
	}
	if userID != "" && in.UserID != userID {
		return "", fmt.Errorf("invitation of another account: %w", ErrNotFound)
	}
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM invites WHERE hash = ?`), hash)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("invitation spent: %w", ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`), in.OrgID, in.UserID, in.Role); err != nil {
		return "", err
	}
	return in.UserID, nil
}

func (s *sqlStore) AcceptInvite(ctx context.Context, hash, name, passwordHash string) (User, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, wrap("accept invite", err)
	}
	defer func() { _ = tx.Rollback() }()
	userID, err := s.joinInvite(ctx, tx, hash, "")
	if err != nil {
		return User{}, wrap("accept invite", err)
	}
	// Only an account nobody holds yet takes a password from a link: one
	// with a password or a linked identity is joined by its holder.
	res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, name = CASE WHEN ? = '' THEN name ELSE ? END
WHERE id = ? AND password_hash = '' AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = users.id)`),
		passwordHash, name, name, userID)
	if err != nil {
		return User{}, wrap("accept invite", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return User{}, fmt.Errorf("accept invite: the account is set up already: %w", ErrConflict)
	}
	if err := tx.Commit(); err != nil {
		return User{}, wrap("accept invite", err)
	}
	return s.UserByID(ctx, userID)
}

func (s *sqlStore) JoinByInvite(ctx context.Context, hash, userID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("join by invite", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := s.joinInvite(ctx, tx, hash, userID); err != nil {
		return wrap("join by invite", err)
	}
	return wrap("join by invite", tx.Commit())
}
