// Package store is the control plane's persistence: users, organizations,
// workspaces and their members, API keys, device-flow codes and repository
// bindings. One implementation over database/sql serves both SQLite (the
// embedded default) and PostgreSQL; every dialect passes the same
// conformance suite (storetest). Migrations are embedded and run on open.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrBadPage is a Page.After that is not a key of the list.
	ErrBadPage = errors.New("not a valid position in this list")
)

// Page asks for part of a list: at most Limit items (0: all of them) that
// come after the item whose key is After ("": from the start). Each list
// says what its key is. Pages are keyset-based, so items added while a
// client pages through are neither skipped nor repeated.
type Page struct {
	Limit int
	After string
}

// limitSQL is the LIMIT clause of a page ("" for all).
func (p Page) limitSQL() string {
	if p.Limit <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(p.Limit)
}

// Roles.
const (
	RoleOwner     = "owner"
	RoleMember    = "member"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// User is a person with a local account.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	// EmailVerified: the person has proven they own Email (the operator
	// made the account, or a GitHub sign-in with that verified email). An
	// account set up through an invitation link has not, so other
	// organizations cannot add it directly (see InviteOfUser).
	EmailVerified bool
}

// Org is an organization.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// OrgMembership is a user's role in an organization.
type OrgMembership struct {
	Org  Org
	Role string
}

// Workspace is a remote workspace of an organization.
type Workspace struct {
	ID         string
	OrgID      string
	Name       string
	Repository string // the bound repository's identity, "" when unbound
	CreatedAt  time.Time
}

// WorkspaceAccess is a workspace with the caller's role in it.
type WorkspaceAccess struct {
	Workspace Workspace
	Role      string
}

// APIKey is a personal or workspace key; only its hash is stored.
type APIKey struct {
	ID          string
	UserID      string
	WorkspaceID string // "" for a personal key
	Role        string // for workspace keys: developer or viewer
	Name        string
	Hash        string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   *time.Time
}

// DeviceCode is one RFC 8628 device authorization.
type DeviceCode struct {
	DeviceCode string
	UserCode   string
	ClientID   string
	ExpiresAt  time.Time
	Interval   time.Duration
	LastPoll   *time.Time
	UserID     string // set when approved
	Denied     bool
}

// Deployment is one version of a workspace's code; the highest version is
// the active one. Packages are content-addressed in the blob store.
type Deployment struct {
	ID          string
	WorkspaceID string
	Version     int
	ContentHash string
	BlobKey     string
	Files       int
	Size        int64
	CreatedBy   string
	CreatedAt   time.Time
}

// Configuration is one version of a workspace's synced configuration and
// secrets files; the bundle is encrypted in the blob store and only file
// names are kept here.
type Configuration struct {
	ID          string
	WorkspaceID string
	Version     int
	ContentHash string // keyed hash: equal bundles, equal hashes, nothing learned
	BlobKey     string
	Files       []string
	CreatedBy   string
	CreatedAt   time.Time
}

// Job is a deployed job: its expanded spec (JSON) and hash. Archived jobs
// (Active false) keep their history and stop triggering.
type Job struct {
	WorkspaceID string
	Ref         string
	Hash        string
	Spec        string
	Active      bool
	UpdatedAt   time.Time
	// DeployedAt is when the job last became active: the anchor of its
	// every-ticks and first windows.
	DeployedAt time.Time
}

// JobChange is what a reconcile did to one job: added, updated,
// unchanged or archived.
type JobChange struct {
	Ref    string
	Action string
}

// Store is the control plane's persistence.
type Store interface {
	CreateUser(ctx context.Context, u User) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	CountUsers(ctx context.Context) (int, error)
	// LinkIdentity ties an external identity (provider "github", subject
	// its stable user id) to a user; ErrConflict when the subject belongs
	// to another user or the user already has one for that provider.
	LinkIdentity(ctx context.Context, provider, subject, userID string) error
	// UserByIdentity finds the user an external identity is linked to.
	UserByIdentity(ctx context.Context, provider, subject string) (User, error)

	// CreateOrg creates an organization owned by ownerID.
	CreateOrg(ctx context.Context, name, ownerID string) (Org, error)
	AddOrgMember(ctx context.Context, orgID, userID, role string) error
	OrgsOfUser(ctx context.Context, userID string) ([]OrgMembership, error)
	// OrgMembers lists an organization's members by email (page key: the
	// email).
	OrgMembers(ctx context.Context, orgID string, p Page) ([]Member, error)
	// SetOrgRole changes a member's role (ErrNotFound for non-members);
	// demoting the last owner is ErrLastOwner.
	SetOrgRole(ctx context.Context, orgID, userID, role string) error
	// RemoveOrgMember removes a member with their roles in the
	// organization's workspaces and their invitations to it; the last
	// owner is ErrLastOwner.
	RemoveOrgMember(ctx context.Context, orgID, userID string) error

	CreateWorkspace(ctx context.Context, orgID, name string) (Workspace, error)
	WorkspaceByID(ctx context.Context, id string) (Workspace, error)
	SetWorkspaceRole(ctx context.Context, workspaceID, userID, role string) error
	// WorkspaceRole is the user's role in a workspace: an explicit role, or
	// owner for owners of its organization; ErrNotFound when none.
	WorkspaceRole(ctx context.Context, workspaceID, userID string) (string, error)
	WorkspacesOfUser(ctx context.Context, userID string) ([]WorkspaceAccess, error)
	// WorkspaceMembers lists who has a role in a workspace by email: the
	// explicit roles and the organization's owners (Inherited). Page key:
	// the email.
	WorkspaceMembers(ctx context.Context, workspaceID string, p Page) ([]Member, error)
	// RemoveWorkspaceRole drops an explicit role (ErrNotFound when none).
	RemoveWorkspaceRole(ctx context.Context, workspaceID, userID string) error

	// CreateInvite stores an invitation, replacing the user's earlier one
	// to the same organization.
	CreateInvite(ctx context.Context, in Invite) error
	InviteByHash(ctx context.Context, hash string) (Invite, error)
	// InviteOfUser is the user's pending invitation to an organization
	// (ErrNotFound when none).
	InviteOfUser(ctx context.Context, userID, orgID string) (Invite, error)
	// AcceptInvite sets up an account nobody holds yet (no password, no
	// linked identity) through its link: it sets the password (and name,
	// when given), spends the invitation and makes the user a member of
	// that organization only; its email stays unverified. A spent link is
	// ErrNotFound, an account set up already ErrConflict.
	AcceptInvite(ctx context.Context, hash, name, passwordHash string) (User, error)
	// JoinByInvite spends an invitation of userID (an account that is set
	// up, its holder signed in) and makes them a member of its
	// organization; ErrNotFound when spent or another user's.
	JoinByInvite(ctx context.Context, hash, userID string) error
	// AddSetupToken stores the hash of a first-owner setup link.
	AddSetupToken(ctx context.Context, hash string, at time.Time) error
	// SetupTokenOpen says whether a setup link's hash is stored and the
	// setup not claimed yet.
	SetupTokenOpen(ctx context.Context, hash string) (bool, error)
	// ClaimSetup claims the first-owner setup with a stored link, once
	// across every process on the database: a second claim, with any link,
	// is ErrNotFound.
	ClaimSetup(ctx context.Context, hash string, at time.Time) error
	// ReleaseSetup undoes a claim whose owner could not be created, so the
	// link works again.
	ReleaseSetup(ctx context.Context, hash string, at time.Time) error
	// BindRepository binds a repository to a workspace: one repository per
	// workspace and one workspace per repository (ErrConflict otherwise). It
	// returns the workspace the repository was bound to before, if another.
	BindRepository(ctx context.Context, workspaceID, repository string) (previous string, err error)

	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// APIKeysOfUser lists a user's keys and login tokens, oldest first;
	// the page key is the key's ID.
	APIKeysOfUser(ctx context.Context, userID string, p Page) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error

	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	DeviceCodeByDevice(ctx context.Context, deviceCode string) (DeviceCode, error)
	DeviceCodeByUser(ctx context.Context, userCode string) (DeviceCode, error)
	// ApproveDeviceCode and DenyDeviceCode settle a pending code.
	ApproveDeviceCode(ctx context.Context, userCode, userID string) error
	DenyDeviceCode(ctx context.Context, userCode string) error
	// ConsumeDeviceCode deletes an approved code so it is exchanged for a
	// token once only; ErrNotFound when it was already consumed (a racing
	// second exchange loses).
	ConsumeDeviceCode(ctx context.Context, deviceCode string) error
	// DeleteExpiredDeviceCodes deletes the codes that expired before a
	// time and says how many went.
	DeleteExpiredDeviceCodes(ctx context.Context, before time.Time) (int64, error)
	// PollDeviceCode records a poll and returns the previous one.
	PollDeviceCode(ctx context.Context, deviceCode string, at time.Time) (*time.Time, error)

	// CreateDeployment adds the next version for d.WorkspaceID (ErrConflict
	// when another deploy took that version first).
	CreateDeployment(ctx context.Context, d Deployment) (Deployment, error)
	// Deployments lists a workspace's deployments, newest first; the page
	// key is the version.
	Deployments(ctx context.Context, workspaceID string, p Page) ([]Deployment, error)
	// ActiveVersions are the newest code and configuration versions of a
	// workspace (0 for none): what a run queued now gets.
	ActiveVersions(ctx context.Context, workspaceID string) (code, config int, err error)
	// ActiveDeployment is the newest deployment; ErrNotFound when none.
	ActiveDeployment(ctx context.Context, workspaceID string) (Deployment, error)

	// CreateConfiguration adds the next version for c.WorkspaceID.
	CreateConfiguration(ctx context.Context, c Configuration) (Configuration, error)
	// Configurations lists a workspace's configurations, newest first; the
	// page key is the version.
	Configurations(ctx context.Context, workspaceID string, p Page) ([]Configuration, error)

	// ReconcileJobs makes jobs the workspace's active jobs in one
	// transaction: new refs are added, changed hashes updated (archived jobs
	// that return are updated too), active jobs not listed archived.
	ReconcileJobs(ctx context.Context, workspaceID string, jobs []Job, at time.Time) ([]JobChange, error)
	// JobByRef is one job of a workspace, active or archived.
	JobByRef(ctx context.Context, workspaceID, ref string) (Job, error)
	// Jobs lists a workspace's jobs, active and archived, by ref; the page
	// key is the ref.
	Jobs(ctx context.Context, workspaceID string, p Page) ([]Job, error)
	// DeactivateJobs archives every active job of a workspace (a repository
	// moved away from it) and returns how many.
	DeactivateJobs(ctx context.Context, workspaceID string, at time.Time) (int, error)

	// CreateRun adds a run with the job's next number.
	CreateRun(ctx context.Context, r Run) (Run, error)
	RunByID(ctx context.Context, id string) (Run, error)
	RunByNumber(ctx context.Context, workspaceID, jobRef string, number int) (Run, error)
	// Runs lists a workspace's runs (of one job when jobRef is set),
	// newest first; the page key is the run id.
	Runs(ctx context.Context, workspaceID, jobRef string, p Page) ([]Run, error)
	// ClaimRun hands a worker the oldest pending run whose job has a free
	// slot (fewer runs in progress than its concurrency, 1 by default),
	// marking it starting; ErrNotFound when there is none. Each run is
	// claimed by one worker only.
	ClaimRun(ctx context.Context, worker string, at time.Time) (Run, error)
	// StartRun marks a claimed run running with its interval.
	StartRun(ctx context.Context, id string, start, end *time.Time, at time.Time) error
	// HeartbeatRun says the worker still has the run; ErrNotFound once it
	// is no longer in progress.
	HeartbeatRun(ctx context.Context, id string, at time.Time) error
	// FinishRun ends a run that has not ended yet (ErrNotFound otherwise).
	FinishRun(ctx context.Context, id, status string, exitCode *int, reason string, at time.Time) error
	// ReleaseRun hands a started run back to the queue (a worker stopping).
	ReleaseRun(ctx context.Context, id string) error
	// CancelRun ends a pending run or asks a running one to stop; it
	// returns the new status.
	CancelRun(ctx context.Context, id string, at time.Time) (string, error)
	// FailStaleRuns fails the in-progress runs whose worker has not been
	// heard of since heartbeatBefore (it died) and returns them.
	FailStaleRuns(ctx context.Context, heartbeatBefore, at time.Time, reason string) ([]Run, error)
	// LastCompletedEnd is the latest interval end of the job's completed
	// runs (nil when none).
	LastCompletedEnd(ctx context.Context, workspaceID, jobRef string) (*time.Time, error)
	// SetRunTableRows records the rows a pipeline run loaded per table.
	SetRunTableRows(ctx context.Context, id string, rows map[string]int64) error
	// SetRunAddress records where a running interactive run's app listens.
	SetRunAddress(ctx context.Context, id, address string, at time.Time) error
	// TouchRun records that a running app was used (for its idle timeout).
	TouchRun(ctx context.Context, id string, at time.Time) error
	// AllActiveJobs lists every workspace's active jobs (for the scheduler).
	AllActiveJobs(ctx context.Context) ([]Job, error)
	// LastScheduledEnd is the latest interval end of the job's runs made
	// by one trigger, whatever became of them (nil when none).
	LastScheduledEnd(ctx context.Context, workspaceID, jobRef, trigger string) (*time.Time, error)
	// FinishedRuns lists a job's runs that ended with status since a time,
	// oldest first.
	FinishedRuns(ctx context.Context, workspaceID, jobRef, status string, since time.Time) ([]Run, error)
	AppendRunLogs(ctx context.Context, runID string, lines []LogLine) error
	// DeleteRunLogsBefore deletes the log lines of runs that ended before a
	// time (the runs stay: the scheduler counts windows from them) and says
	// how many lines went.
	DeleteRunLogsBefore(ctx context.Context, before time.Time) (int64, error)
	// RunLogs returns up to limit lines after seq, in order.
	RunLogs(ctx context.Context, runID string, afterSeq int64, limit int) ([]LogLine, error)

	// WorkspaceKey is a workspace's data key, wrapped by the server's
	// master key (ErrNotFound: it has none yet).
	WorkspaceKey(ctx context.Context, workspaceID string) (string, error)
	// AddWorkspaceKey stores a workspace's first wrapped data key and
	// returns the one stored: another process's, when it was first.
	AddWorkspaceKey(ctx context.Context, workspaceID, wrapped string, at time.Time) (string, error)
	// CreateWorkerCredential stores a worker credential (ErrConflict: the
	// name is taken).
	CreateWorkerCredential(ctx context.Context, c WorkerCredential) (WorkerCredential, error)
	WorkerCredentialByHash(ctx context.Context, hash string) (WorkerCredential, error)
	// WorkerCredentials lists every worker credential by name.
	WorkerCredentials(ctx context.Context) ([]WorkerCredential, error)
	// RevokeWorkerCredential ends a credential (ErrNotFound: no such
	// name, or revoked already).
	RevokeWorkerCredential(ctx context.Context, name string, at time.Time) error
	// SeenWorkerCredential records when a credential was last used.
	SeenWorkerCredential(ctx context.Context, id string, at time.Time) error

	// SetVariable creates or replaces a variable.
	SetVariable(ctx context.Context, v Variable) error
	// Variables lists a workspace's variables by profile ("" first), name.
	Variables(ctx context.Context, workspaceID string) ([]Variable, error)
	// DeleteVariable removes one (ErrNotFound when there is none).
	DeleteVariable(ctx context.Context, workspaceID, profile, name string) error

	CreateAppLink(ctx context.Context, l AppLink) error
	AppLinkByHash(ctx context.Context, hash string) (AppLink, error)
	// RevokeAppLinks revokes a job's public links and returns how many.
	RevokeAppLinks(ctx context.Context, workspaceID, jobRef string, at time.Time) (int, error)

	Close() error
}

// NewID returns a random 16-byte hex identifier.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
