// Package storetest is the store conformance suite: every Store
// implementation runs the same cases.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// Run runs every case against stores from open (each call a fresh, empty
// store).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("users", func(t *testing.T) {
		s := open(t)
		n, err := s.CountUsers(ctx)
		if err != nil || n != 0 {
			t.Fatalf("count %d %v", n, err)
		}
		u, err := s.CreateUser(ctx, store.User{Email: " Ann@Example.com ", Name: "Ann", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, store.User{Email: "ann@example.com", Name: "Other"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate email: %v", err)
		}
		got, err := s.UserByEmail(ctx, "ANN@example.com")
		if err != nil || got.ID != u.ID || got.Name != "Ann" || got.PasswordHash != "h" {
			t.Errorf("by email: %+v %v", got, err)
		}
		if _, err := s.UserByID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: %v", err)
		}
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Errorf("count %d", n)
		}
	})
	t.Run("identities", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@example.com", Name: "Ann"})
		bob, _ := s.CreateUser(ctx, store.User{Email: "bob@example.com", Name: "Bob"})
		if _, err := s.UserByIdentity(ctx, "github", "1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unlinked: %v", err)
		}
		if err := s.LinkIdentity(ctx, "github", "1", ann.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.UserByIdentity(ctx, "github", "1"); err != nil || got.ID != ann.ID || got.Email != ann.Email {
			t.Errorf("linked: %+v %v", got, err)
		}
		if err := s.LinkIdentity(ctx, "github", "1", bob.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("subject taken: %v", err)
		}
		if err := s.LinkIdentity(ctx, "github", "2", ann.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second github account for one user: %v", err)
		}
		if err := s.LinkIdentity(ctx, "gitlab", "1", bob.ID); err != nil {
			t.Errorf("same subject, other provider: %v", err)
		}
	})
	t.Run("orgs_workspaces_roles", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x", Name: "Ann"})
		bob, _ := s.CreateUser(ctx, store.User{Email: "bob@x", Name: "Bob"})
		eve, _ := s.CreateUser(ctx, store.User{Email: "eve@x", Name: "Eve"})
		org, err := s.CreateOrg(ctx, "acme", ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := s.CreateOrg(ctx, "other", eve.ID)
		if err := s.AddOrgMember(ctx, org.ID, bob.ID, store.RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := s.AddOrgMember(ctx, org.ID, bob.ID, store.RoleMember); !errors.Is(err, store.ErrConflict) {
			t.Errorf("double membership: %v", err)
		}
		ws, err := s.CreateWorkspace(ctx, org.ID, "analytics")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWorkspace(ctx, org.ID, "analytics"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate workspace name: %v", err)
		}
		if _, err := s.CreateWorkspace(ctx, other.ID, "analytics"); err != nil {
			t.Errorf("same name in another org: %v", err)
		}
		// Org owners own its workspaces; members need a workspace role.
		if r, err := s.WorkspaceRole(ctx, ws.ID, ann.ID); err != nil || r != store.RoleOwner {
			t.Errorf("owner: %s %v", r, err)
		}
		if _, err := s.WorkspaceRole(ctx, ws.ID, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("member without role: %v", err)
		}
		if err := s.SetWorkspaceRole(ctx, ws.ID, bob.ID, store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := s.SetWorkspaceRole(ctx, ws.ID, bob.ID, store.RoleDeveloper); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.WorkspaceRole(ctx, ws.ID, bob.ID); r != store.RoleDeveloper {
			t.Errorf("developer: %s", r)
		}
		if err := s.SetWorkspaceRole(ctx, ws.ID, bob.ID, "admin"); err == nil {
			t.Error("bad role accepted")
		}
		// A user of another org sees nothing of this one.
		if _, err := s.WorkspaceRole(ctx, ws.ID, eve.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other org: %v", err)
		}
		list, err := s.WorkspacesOfUser(ctx, eve.ID)
		if err != nil || len(list) != 1 || list[0].Workspace.OrgID != other.ID {
			t.Errorf("eve's workspaces: %+v %v", list, err)
		}
		list, _ = s.WorkspacesOfUser(ctx, bob.ID)
		if len(list) != 1 || list[0].Role != store.RoleDeveloper {
			t.Errorf("bob's workspaces: %+v", list)
		}
		orgs, _ := s.OrgsOfUser(ctx, bob.ID)
		if len(orgs) != 1 || orgs[0].Org.Name != "acme" || orgs[0].Role != store.RoleMember {
			t.Errorf("bob's orgs: %+v", orgs)
		}
	})
	t.Run("repository_binding", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		b, _ := s.CreateWorkspace(ctx, org.ID, "b")
		if prev, err := s.BindRepository(ctx, a.ID, "github.com/acme/repo"); err != nil || prev != "" {
			t.Fatalf("bind: %q %v", prev, err)
		}
		if prev, err := s.BindRepository(ctx, a.ID, "github.com/acme/repo"); err != nil || prev != "" {
			t.Errorf("rebind same: %q %v", prev, err)
		}
		if _, err := s.BindRepository(ctx, a.ID, "github.com/acme/other"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second repo on a workspace: %v", err)
		}
		prev, err := s.BindRepository(ctx, b.ID, "github.com/acme/repo")
		if err != nil || prev != a.ID {
			t.Errorf("move repo: %q %v", prev, err)
		}
		if w, _ := s.WorkspaceByID(ctx, a.ID); w.Repository != "" {
			t.Errorf("old workspace still bound: %+v", w)
		}
	})
	t.Run("deployments", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		b, _ := s.CreateWorkspace(ctx, org.ID, "b")
		if _, err := s.ActiveDeployment(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("active before any: %v", err)
		}
		for i, h := range []string{"h1", "h2"} {
			d, err := s.CreateDeployment(ctx, store.Deployment{WorkspaceID: a.ID, ContentHash: h, BlobKey: "k/" + h, Files: 3, Size: 99, CreatedBy: ann.ID})
			if err != nil || d.Version != i+1 {
				t.Fatalf("deploy %s: %+v %v", h, d, err)
			}
		}
		if d, _ := s.CreateDeployment(ctx, store.Deployment{WorkspaceID: b.ID, ContentHash: "h1", BlobKey: "k/h1", CreatedBy: ann.ID}); d.Version != 1 {
			t.Errorf("versions are per workspace: %+v", d)
		}
		d, err := s.ActiveDeployment(ctx, a.ID)
		if err != nil || d.Version != 2 || d.ContentHash != "h2" || d.Files != 3 || d.Size != 99 || d.CreatedBy != ann.ID || d.CreatedAt.IsZero() {
			t.Errorf("active: %+v %v", d, err)
		}
		if code, conf, err := s.ActiveVersions(ctx, a.ID); err != nil || code != 2 || conf != 0 {
			t.Errorf("active versions: %d %d %v", code, conf, err)
		}
		if list, err := s.Deployments(ctx, a.ID, store.Page{}); err != nil || len(list) != 2 || list[0].Version != 2 || list[1].ContentHash != "h1" {
			t.Errorf("list: %+v %v", list, err)
		}
	})
	t.Run("members", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x", Name: "Ann"})
		bob, _ := s.CreateUser(ctx, store.User{Email: "bob@x"})
		cat, _ := s.CreateUser(ctx, store.User{Email: "cat@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		other, _ := s.CreateOrg(ctx, "globex", cat.ID)
		ws, _ := s.CreateWorkspace(ctx, org.ID, "a")
		ows, _ := s.CreateWorkspace(ctx, other.ID, "b")
		if err := s.AddOrgMember(ctx, org.ID, bob.ID, store.RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := s.AddOrgMember(ctx, org.ID, bob.ID, store.RoleMember); !errors.Is(err, store.ErrConflict) {
			t.Errorf("added twice: %v", err)
		}
		_ = s.AddOrgMember(ctx, other.ID, bob.ID, store.RoleMember)
		_ = s.SetWorkspaceRole(ctx, ws.ID, bob.ID, store.RoleDeveloper)
		_ = s.SetWorkspaceRole(ctx, ows.ID, bob.ID, store.RoleViewer)
		members := func(l []store.Member, err error) string {
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range l {
				x := m.User.Email + ":" + m.Role
				if m.Inherited {
					x += "*"
				}
				out = append(out, x)
			}
			return strings.Join(out, ",")
		}
		if got := members(s.OrgMembers(ctx, org.ID, store.Page{})); got != "ann@x:owner,bob@x:member" {
			t.Errorf("org members %s", got)
		}
		if got := members(s.OrgMembers(ctx, org.ID, store.Page{Limit: 1, After: "ann@x"})); got != "bob@x:member" {
			t.Errorf("org members page %s", got)
		}
		if got := members(s.WorkspaceMembers(ctx, ws.ID, store.Page{})); got != "ann@x:owner*,bob@x:developer" {
			t.Errorf("workspace members %s", got)
		}
		// The last owner stays; with a second owner the first may go.
		if err := s.SetOrgRole(ctx, org.ID, ann.ID, store.RoleMember); !errors.Is(err, store.ErrLastOwner) {
			t.Errorf("demote last owner: %v", err)
		}
		if err := s.RemoveOrgMember(ctx, org.ID, ann.ID); !errors.Is(err, store.ErrLastOwner) {
			t.Errorf("remove last owner: %v", err)
		}
		if err := s.SetOrgRole(ctx, org.ID, "nobody", store.RoleOwner); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("role of a non-member: %v", err)
		}
		if err := s.SetOrgRole(ctx, org.ID, bob.ID, store.RoleOwner); err != nil {
			t.Fatal(err)
		}
		// An org owner is listed once, as inherited owner.
		if got := members(s.WorkspaceMembers(ctx, ws.ID, store.Page{})); got != "ann@x:owner*,bob@x:owner*" {
			t.Errorf("workspace members with two owners %s", got)
		}
		if err := s.SetOrgRole(ctx, org.ID, ann.ID, store.RoleMember); err != nil {
			t.Errorf("demote with another owner: %v", err)
		}
		_ = s.SetOrgRole(ctx, org.ID, ann.ID, store.RoleOwner)
		// Removing bob from acme drops his acme workspace role, not globex's.
		if err := s.RemoveOrgMember(ctx, org.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WorkspaceRole(ctx, ws.ID, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("role survives removal: %v", err)
		}
		if r, err := s.WorkspaceRole(ctx, ows.ID, bob.ID); err != nil || r != store.RoleViewer {
			t.Errorf("other org's role: %q %v", r, err)
		}
		if err := s.RemoveWorkspaceRole(ctx, ows.ID, bob.ID); err != nil {
			t.Error(err)
		}
		if err := s.RemoveWorkspaceRole(ctx, ows.ID, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("remove twice: %v", err)
		}
	})
	t.Run("invites", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		dan, _ := s.CreateUser(ctx, store.User{Email: "dan@x"})
		_ = s.AddOrgMember(ctx, org.ID, dan.ID, store.RoleMember)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		if err := s.CreateInvite(ctx, store.Invite{Hash: "h1", UserID: dan.ID, OrgID: org.ID, CreatedBy: ann.ID, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		// A new link replaces the old one.
		_ = s.CreateInvite(ctx, store.Invite{Hash: "h2", UserID: dan.ID, OrgID: org.ID, CreatedBy: ann.ID, ExpiresAt: exp})
		if _, err := s.InviteByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old link: %v", err)
		}
		in, err := s.InviteOfUser(ctx, dan.ID, org.ID)
		if err != nil || in.Hash != "h2" || !in.ExpiresAt.Equal(exp) || in.OrgID != org.ID || in.Role != store.RoleMember {
			t.Errorf("invite of user: %+v %v", in, err)
		}
		u, err := s.AcceptInvite(ctx, "h2", "Dan", "pwhash")
		if err != nil || u.ID != dan.ID || u.Name != "Dan" || u.PasswordHash != "pwhash" {
			t.Errorf("accept: %+v %v", u, err)
		}
		if _, err := s.AcceptInvite(ctx, "h2", "", "other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("accepted twice: %v", err)
		}
		if _, err := s.InviteOfUser(ctx, dan.ID, org.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("claimed account still invited: %v", err)
		}
		// Linking an identity claims the account too.
		eve, _ := s.CreateUser(ctx, store.User{Email: "eve@x"})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "h3", UserID: eve.ID, OrgID: org.ID, CreatedBy: ann.ID, ExpiresAt: exp})
		if err := s.LinkIdentity(ctx, "github", "42", eve.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InviteByHash(ctx, "h3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("invite after github link: %v", err)
		}
	})
	t.Run("invites_per_organization", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x", EmailVerified: true})
		acme, _ := s.CreateOrg(ctx, "acme", ann.ID)
		globex, _ := s.CreateOrg(ctx, "globex", ann.ID)
		exp := time.Now().Add(time.Hour).UTC()
		// Invited by two organizations: each link is that one's, and
		// neither is a membership until accepted.
		dan, _ := s.CreateUser(ctx, store.User{Email: "dan@x"})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "a", UserID: dan.ID, OrgID: acme.ID, Role: store.RoleMember, CreatedBy: ann.ID, ExpiresAt: exp})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "g", UserID: dan.ID, OrgID: globex.ID, Role: store.RoleOwner, CreatedBy: ann.ID, ExpiresAt: exp})
		if orgs, _ := s.OrgsOfUser(ctx, dan.ID); len(orgs) != 0 {
			t.Errorf("pending member has organizations: %+v", orgs)
		}
		ms, _ := s.OrgMembers(ctx, globex.ID, store.Page{})
		if len(ms) != 2 || ms[1].User.ID != dan.ID || !ms[1].Pending || ms[1].Role != store.RoleOwner || ms[0].Pending {
			t.Errorf("members with a pending one: %+v", ms)
		}
		u, err := s.AcceptInvite(ctx, "a", "Dan", "pw")
		if err != nil || u.EmailVerified {
			t.Fatalf("accept: %+v %v", u, err)
		}
		if orgs, _ := s.OrgsOfUser(ctx, dan.ID); len(orgs) != 1 || orgs[0].Org.ID != acme.ID {
			t.Errorf("after accepting acme's link: %+v", orgs)
		}
		// The other link no longer sets a password: the account is held.
		if _, err := s.AcceptInvite(ctx, "g", "", "attacker"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second link set a password: %v", err)
		}
		if err := s.JoinByInvite(ctx, "g", ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("joined with another's link: %v", err)
		}
		if err := s.JoinByInvite(ctx, "g", dan.ID); err != nil {
			t.Fatal(err)
		}
		if orgs, _ := s.OrgsOfUser(ctx, dan.ID); len(orgs) != 2 || orgs[1].Role != store.RoleOwner {
			t.Errorf("after joining globex: %+v", orgs)
		}
		// A pending member's role changes and they can be uninvited.
		eve, _ := s.CreateUser(ctx, store.User{Email: "eve@x"})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "e", UserID: eve.ID, OrgID: acme.ID, CreatedBy: ann.ID, ExpiresAt: exp})
		if err := s.SetOrgRole(ctx, acme.ID, eve.ID, store.RoleOwner); err != nil {
			t.Error(err)
		}
		if in, _ := s.InviteOfUser(ctx, eve.ID, acme.ID); in.Role != store.RoleOwner {
			t.Errorf("pending role: %+v", in)
		}
		if err := s.RemoveOrgMember(ctx, acme.ID, eve.ID); err != nil {
			t.Error(err)
		}
		if _, err := s.InviteByHash(ctx, "e"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("uninvited link: %v", err)
		}
		// A verified identity takes back an account someone set a password
		// for through a link: the password and keys stop, invitations
		// become memberships.
		mal, _ := s.CreateUser(ctx, store.User{Email: "mal@x"})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "m1", UserID: mal.ID, OrgID: acme.ID, CreatedBy: ann.ID, ExpiresAt: exp})
		_ = s.CreateInvite(ctx, store.Invite{Hash: "m2", UserID: mal.ID, OrgID: globex.ID, CreatedBy: ann.ID, ExpiresAt: exp})
		if _, err := s.AcceptInvite(ctx, "m1", "", "claimer"); err != nil {
			t.Fatal(err)
		}
		k, _ := s.CreateAPIKey(ctx, store.APIKey{UserID: mal.ID, Role: store.RoleOwner, Name: "k", Hash: "mal-key", CreatedAt: time.Now(), ExpiresAt: exp})
		if err := s.LinkIdentity(ctx, "github", "9", mal.ID); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.UserByID(ctx, mal.ID); u.PasswordHash != "" || !u.EmailVerified {
			t.Errorf("after the verified link: %+v", u)
		}
		if k, _ := s.APIKeyByHash(ctx, k.Hash); k.RevokedAt == nil {
			t.Error("the claimer's key still works")
		}
		if orgs, _ := s.OrgsOfUser(ctx, mal.ID); len(orgs) != 2 {
			t.Errorf("verified owner's organizations: %+v", orgs)
		}
		// A verified account keeps its password when it links GitHub.
		if err := s.LinkIdentity(ctx, "github", "10", ann.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("setup_claim", func(t *testing.T) {
		s := open(t)
		now := time.Now()
		_ = s.AddSetupToken(ctx, "one", now)
		_ = s.AddSetupToken(ctx, "two", now)
		if ok, err := s.SetupTokenOpen(ctx, "two"); !ok || err != nil {
			t.Errorf("open: %v %v", ok, err)
		}
		if err := s.ClaimSetup(ctx, "one", now); err != nil {
			t.Fatal(err)
		}
		// Another process's link loses: one first owner per database.
		if ok, _ := s.SetupTokenOpen(ctx, "two"); ok {
			t.Error("second link still open")
		}
		if err := s.ClaimSetup(ctx, "two", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second claim: %v", err)
		}
		if err := s.ReleaseSetup(ctx, "one", now); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimSetup(ctx, "one", now); err != nil {
			t.Errorf("claim after release: %v", err)
		}
	})
	t.Run("concurrent_writers", func(t *testing.T) {
		// Deploys racing into one workspace all land, in turn: versions
		// without gaps or duplicates, and the jobs reconciled once each.
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		jobs := []store.Job{{Ref: "jobs.a.x", Hash: "1", Spec: "{}"}, {Ref: "jobs.a.y", Hash: "1", Spec: "{}"}}
		const n = 6
		errs := make(chan error, 3*n)
		for i := range n {
			go func() {
				_, err := s.CreateDeployment(ctx, store.Deployment{WorkspaceID: a.ID, ContentHash: fmt.Sprint(i), BlobKey: "k", CreatedBy: ann.ID})
				errs <- err
			}()
			go func() {
				_, err := s.CreateConfiguration(ctx, store.Configuration{WorkspaceID: a.ID, ContentHash: fmt.Sprint(i), BlobKey: "k", CreatedBy: ann.ID})
				errs <- err
			}()
			go func() {
				_, err := s.ReconcileJobs(ctx, a.ID, jobs, time.Now())
				errs <- err
			}()
		}
		for range 3 * n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		ds, _ := s.Deployments(ctx, a.ID, store.Page{})
		cs, _ := s.Configurations(ctx, a.ID, store.Page{})
		js, _ := s.Jobs(ctx, a.ID, store.Page{})
		if len(ds) != n || ds[0].Version != n || len(cs) != n || cs[0].Version != n || len(js) != 2 {
			t.Errorf("after racing writers: %d deployments (top %d), %d configurations, %d jobs", len(ds), ds[0].Version, len(cs), len(js))
		}
	})
	t.Run("runs", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		b, _ := s.CreateWorkspace(ctx, org.ID, "b")
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		mk := func(ws, job string, at time.Time) store.Run {
			t.Helper()
			r, err := s.CreateRun(ctx, store.Run{WorkspaceID: ws, JobRef: job, Trigger: "manual:" + job, Profile: "prod", DeploymentVersion: 1, CreatedBy: ann.ID, CreatedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		x1 := mk(a.ID, "jobs.a.x", now)
		x2 := mk(a.ID, "jobs.a.x", now.Add(time.Second))
		y1 := mk(a.ID, "jobs.a.y", now.Add(2*time.Second))
		bx := mk(b.ID, "jobs.a.x", now.Add(3*time.Second))
		if x1.Number != 1 || x2.Number != 2 || y1.Number != 1 || bx.Number != 1 || x1.Status != store.RunPending {
			t.Errorf("numbers per job and workspace: %d %d %d %d %s", x1.Number, x2.Number, y1.Number, bx.Number, x1.Status)
		}
		// Claims go oldest first, one run per job at a time.
		var claimed []string
		for range 4 {
			r, err := s.ClaimRun(ctx, "w1", now)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != store.RunStarting || r.Worker != "w1" || r.StartedAt == nil {
				t.Errorf("claimed %+v", r)
			}
			claimed = append(claimed, r.ID)
		}
		if strings.Join(claimed, ",") != strings.Join([]string{x1.ID, y1.ID, bx.ID}, ",") {
			t.Errorf("claimed %v, want x1, y1, bx (x2 waits for x1)", claimed)
		}
		start, end := now.Add(-time.Hour), now
		if err := s.StartRun(ctx, x1.ID, &start, &end, now); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendRunLogs(ctx, x1.ID, []store.LogLine{{Seq: 1, At: now, Stream: "stdout", Line: "hello"}, {Seq: 2, At: now, Stream: "stderr", Line: "warn ü"}}); err != nil {
			t.Fatal(err)
		}
		_ = s.AppendRunLogs(ctx, x1.ID, []store.LogLine{{Seq: 3, At: now, Stream: "stdout", Line: ""}})
		if ls, err := s.RunLogs(ctx, x1.ID, 1, 10); err != nil || len(ls) != 2 || ls[0].Line != "warn ü" || ls[0].Stream != "stderr" || ls[1].Seq != 3 {
			t.Errorf("logs after 1: %+v %v", ls, err)
		}
		if err := s.AppendRunLogs(ctx, x1.ID, []store.LogLine{{Seq: 3, At: now, Stream: "stdout", Line: "dup"}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate seq: %v", err)
		}
		if err := s.SetRunAddress(ctx, x1.ID, "127.0.0.1:5000", now); err != nil {
			t.Fatal(err)
		}
		_ = s.TouchRun(ctx, x1.ID, now.Add(time.Second))
		if got, _ := s.RunByID(ctx, x1.ID); got.Address != "127.0.0.1:5000" || got.TouchedAt == nil || !got.TouchedAt.Equal(now.Add(time.Second)) {
			t.Errorf("address: %+v", got)
		}
		if err := s.TouchRun(ctx, y1.ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("touch a run that is not running: %v", err)
		}
		if err := s.SetRunTableRows(ctx, x1.ID, map[string]int64{"issues": 100, "issues__labels": 34}); err != nil {
			t.Fatal(err)
		}
		code := 0
		if err := s.FinishRun(ctx, x1.ID, store.RunCompleted, &code, "exit 0", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(ctx, x1.ID, store.RunFailed, nil, "again", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finished twice: %v", err)
		}
		got, err := s.RunByNumber(ctx, a.ID, "jobs.a.x", 1)
		if err != nil || got.Status != store.RunCompleted || *got.ExitCode != 0 || !got.IntervalEnd.Equal(end) || !got.Done() || got.FinishedAt == nil || got.TableRows["issues__labels"] != 34 {
			t.Errorf("finished run: %+v %v", got, err)
		}
		if n, err := s.DeleteRunLogsBefore(ctx, now); err != nil || n != 0 {
			t.Errorf("logs of a run that ended after: %d %v", n, err)
		}
		if n, err := s.DeleteRunLogsBefore(ctx, now.Add(2*time.Minute)); err != nil || n != 3 {
			t.Errorf("old logs: %d %v", n, err)
		}
		if ls, _ := s.RunLogs(ctx, x1.ID, 0, 0); len(ls) != 0 {
			t.Errorf("logs left: %d", len(ls))
		}
		if e, err := s.LastCompletedEnd(ctx, a.ID, "jobs.a.x"); err != nil || e == nil || !e.Equal(end) {
			t.Errorf("last completed end: %v %v", e, err)
		}
		if e, _ := s.LastCompletedEnd(ctx, a.ID, "jobs.a.y"); e != nil {
			t.Errorf("no completed run: %v", e)
		}
		// x2 can go now.
		if r, err := s.ClaimRun(ctx, "w2", now); err != nil || r.ID != x2.ID {
			t.Errorf("x2: %+v %v", r, err)
		}
		// A released run goes back to the queue.
		if err := s.ReleaseRun(ctx, x2.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.RunByID(ctx, x2.ID); r.Status != store.RunPending || r.Worker != "" {
			t.Errorf("released: %+v", r)
		}
		// Cancel: a pending run ends, a running one is asked to stop.
		if st, err := s.CancelRun(ctx, x2.ID, now); err != nil || st != store.RunCancelled {
			t.Errorf("cancel pending: %q %v", st, err)
		}
		if st, err := s.CancelRun(ctx, y1.ID, now); err != nil || st != store.RunCancelling {
			t.Errorf("cancel starting: %q %v", st, err)
		}
		// A worker that stops beating loses its runs.
		_ = s.HeartbeatRun(ctx, bx.ID, now.Add(time.Minute))
		stale, err := s.FailStaleRuns(ctx, now.Add(30*time.Second), now.Add(2*time.Minute), "worker w1 stopped sending heartbeats")
		if err != nil || len(stale) != 1 || stale[0].ID != y1.ID {
			t.Errorf("stale: %+v %v", stale, err)
		}
		if err := s.HeartbeatRun(ctx, y1.ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("heartbeat of a failed run: %v", err)
		}
		list, err := s.Runs(ctx, a.ID, "", store.Page{})
		if err != nil || len(list) != 3 || list[0].ID != y1.ID || list[2].ID != x1.ID {
			t.Errorf("runs newest first: %d %v", len(list), err)
		}
		if l, _ := s.Runs(ctx, a.ID, "jobs.a.x", store.Page{Limit: 1, After: x2.ID}); len(l) != 1 || l[0].ID != x1.ID {
			t.Errorf("page of x runs: %+v", l)
		}
	})
	t.Run("scheduling", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		job := func(hash string) []store.Job { return []store.Job{{Ref: "jobs.a.x", Hash: hash, Spec: "{}"}} }
		_, _ = s.ReconcileJobs(ctx, a.ID, job("1"), t0)
		_, _ = s.ReconcileJobs(ctx, a.ID, job("2"), t0.Add(time.Hour)) // a change keeps the deploy time
		all, err := s.AllActiveJobs(ctx)
		if err != nil || len(all) != 1 || !all[0].DeployedAt.Equal(t0) || !all[0].UpdatedAt.Equal(t0.Add(time.Hour)) || all[0].WorkspaceID != a.ID {
			t.Errorf("active jobs: %+v %v", all, err)
		}
		_, _ = s.ReconcileJobs(ctx, a.ID, nil, t0.Add(2*time.Hour))
		if all, _ := s.AllActiveJobs(ctx); len(all) != 0 {
			t.Errorf("archived job listed: %+v", all)
		}
		_, _ = s.ReconcileJobs(ctx, a.ID, job("2"), t0.Add(3*time.Hour)) // back: deployed anew
		if js, _ := s.Jobs(ctx, a.ID, store.Page{}); !js[0].DeployedAt.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("re-deployed at %v", js[0].DeployedAt)
		}
		// A dedupe key makes a scheduled run once-only.
		w1s, w1e := t0, t0.Add(time.Hour)
		r := store.Run{WorkspaceID: a.ID, JobRef: "jobs.a.x", Trigger: "every:1h", Profile: "prod", DeploymentVersion: 1, CreatedBy: ann.ID,
			IntervalStart: &w1s, IntervalEnd: &w1e, DedupeKey: "window:" + w1s.Format(time.RFC3339)}
		first, err := s.CreateRun(ctx, r)
		if err != nil || first.DedupeKey != r.DedupeKey {
			t.Fatalf("first: %+v %v", first, err)
		}
		if _, err := s.CreateRun(ctx, r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("twice: %v", err)
		}
		if e, err := s.LastScheduledEnd(ctx, a.ID, "jobs.a.x", "every:1h"); err != nil || e == nil || !e.Equal(w1e) {
			t.Errorf("last scheduled end: %v %v", e, err)
		}
		if e, _ := s.LastScheduledEnd(ctx, a.ID, "jobs.a.x", "schedule:0 3 * * *"); e != nil {
			t.Errorf("other trigger: %v", e)
		}
		code := 0
		_, _ = s.ClaimRun(ctx, "w", t0)
		_ = s.FinishRun(ctx, first.ID, store.RunCompleted, &code, "", t0.Add(90*time.Minute))
		down, err := s.CreateRun(ctx, store.Run{WorkspaceID: a.ID, JobRef: "jobs.a.y", Trigger: "job.success:jobs.a.x", Profile: "prod", DeploymentVersion: 1,
			CreatedBy: ann.ID, CauseRunID: first.ID, DedupeKey: "cause:" + first.ID})
		if err != nil || down.CauseRunID != first.ID {
			t.Errorf("caused run: %+v %v", down, err)
		}
		if got, _ := s.RunByID(ctx, down.ID); got.CauseRunID != first.ID || got.DedupeKey != "cause:"+first.ID {
			t.Errorf("read back: %+v", got)
		}
		if fr, err := s.FinishedRuns(ctx, a.ID, "jobs.a.x", store.RunCompleted, t0.Add(time.Hour)); err != nil || len(fr) != 1 || fr[0].ID != first.ID {
			t.Errorf("finished since: %+v %v", fr, err)
		}
		if fr, _ := s.FinishedRuns(ctx, a.ID, "jobs.a.x", store.RunCompleted, t0.Add(2*time.Hour)); len(fr) != 0 {
			t.Errorf("finished since later: %+v", fr)
		}
	})
	t.Run("variables", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		b, _ := s.CreateWorkspace(ctx, org.ID, "b")
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, v := range []store.Variable{
			{WorkspaceID: a.ID, Name: "LOG_LEVEL", Value: "INFO"},
			{WorkspaceID: a.ID, Profile: "prod", Name: "LOG_LEVEL", Value: "WARN"},
			{WorkspaceID: a.ID, Name: "TOKEN", Secret: true, Value: "sealed-1"},
			{WorkspaceID: a.ID, Name: "TOKEN", Secret: true, Value: "sealed-2"}, // replaces
			{WorkspaceID: b.ID, Name: "OTHER", Value: "x"},
		} {
			v.UpdatedBy, v.UpdatedAt = ann.ID, now
			if err := s.SetVariable(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := s.Variables(ctx, a.ID)
		if err != nil || len(vs) != 3 {
			t.Fatalf("variables: %+v %v", vs, err)
		}
		if vs[0].Profile != "" || vs[0].Name != "LOG_LEVEL" || vs[1].Name != "TOKEN" || vs[1].Value != "sealed-2" || !vs[1].Secret || vs[2].Profile != "prod" || !vs[2].UpdatedAt.Equal(now) {
			t.Errorf("order and values: %+v", vs)
		}
		if err := s.DeleteVariable(ctx, a.ID, "prod", "LOG_LEVEL"); err != nil {
			t.Error(err)
		}
		if err := s.DeleteVariable(ctx, a.ID, "prod", "LOG_LEVEL"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
	})
	t.Run("workspace_keys_and_worker_credentials", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		now := time.Now().UTC().Truncate(time.Millisecond)
		if _, err := s.WorkspaceKey(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("no key yet: %v", err)
		}
		if got, err := s.AddWorkspaceKey(ctx, a.ID, "wrapped-1", now); err != nil || got != "wrapped-1" {
			t.Errorf("first key: %q %v", got, err)
		}
		// A second process's key loses: the first one stays.
		if got, err := s.AddWorkspaceKey(ctx, a.ID, "wrapped-2", now); err != nil || got != "wrapped-1" {
			t.Errorf("second key: %q %v", got, err)
		}
		c, err := s.CreateWorkerCredential(ctx, store.WorkerCredential{Name: "box-1", Hash: "h1", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWorkerCredential(ctx, store.WorkerCredential{Name: "box-1", Hash: "h2", CreatedAt: now}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same name: %v", err)
		}
		if err := s.SeenWorkerCredential(ctx, c.ID, now.Add(time.Minute)); err != nil {
			t.Error(err)
		}
		got, err := s.WorkerCredentialByHash(ctx, "h1")
		if err != nil || got.Name != "box-1" || got.RevokedAt != nil || got.LastSeenAt == nil || !got.LastSeenAt.Equal(now.Add(time.Minute)) {
			t.Errorf("by hash: %+v %v", got, err)
		}
		if err := s.RevokeWorkerCredential(ctx, "box-1", now); err != nil {
			t.Error(err)
		}
		if err := s.RevokeWorkerCredential(ctx, "box-1", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke twice: %v", err)
		}
		list, err := s.WorkerCredentials(ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
			t.Errorf("list: %+v %v", list, err)
		}
	})
	t.Run("app_links", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, h := range []string{"h1", "h2"} {
			if err := s.CreateAppLink(ctx, store.AppLink{Hash: h, WorkspaceID: a.ID, JobRef: "jobs.apps.dash", CreatedBy: ann.ID, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := s.AppLinkByHash(ctx, "h1")
		if err != nil || l.JobRef != "jobs.apps.dash" || l.RevokedAt != nil || !l.CreatedAt.Equal(now) {
			t.Errorf("link: %+v %v", l, err)
		}
		if n, err := s.RevokeAppLinks(ctx, a.ID, "jobs.apps.dash", now); err != nil || n != 2 {
			t.Errorf("revoke: %d %v", n, err)
		}
		if l, _ := s.AppLinkByHash(ctx, "h2"); l.RevokedAt == nil {
			t.Error("not revoked")
		}
		if _, err := s.AppLinkByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: %v", err)
		}
	})
	t.Run("run_concurrency", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		now := time.Now().UTC()
		for i := range 3 {
			if _, err := s.CreateRun(ctx, store.Run{WorkspaceID: a.ID, JobRef: "jobs.a.wide", Trigger: "manual:jobs.a.wide", Profile: "prod", DeploymentVersion: 1,
				CreatedBy: ann.ID, CreatedAt: now.Add(time.Duration(i) * time.Millisecond), Concurrency: 2}); err != nil {
				t.Fatal(err)
			}
		}
		claimed := 0
		for range 3 {
			if _, err := s.ClaimRun(ctx, "w", now); err == nil {
				claimed++
			}
		}
		if claimed != 2 {
			t.Errorf("claimed %d runs of a job with concurrency 2", claimed)
		}
		if r, _ := s.Runs(ctx, a.ID, "jobs.a.wide", store.Page{Limit: 1}); r[0].Concurrency != 2 || r[0].Status != store.RunPending {
			t.Errorf("third run: %+v", r[0])
		}
	})
	t.Run("runs_racing_workers", func(t *testing.T) {
		// Workers racing for runs: each run goes to one of them, and never
		// two runs of one job at once.
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		now := time.Now().UTC()
		for i := range 6 {
			job := fmt.Sprintf("jobs.a.j%d", i%3)
			if _, err := s.CreateRun(ctx, store.Run{WorkspaceID: a.ID, JobRef: job, Trigger: "manual:" + job, Profile: "prod", DeploymentVersion: 1, CreatedBy: ann.ID, CreatedAt: now.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				t.Fatal(err)
			}
		}
		got := make(chan store.Run, 12)
		errs := make(chan error, 4)
		for w := range 4 {
			go func() {
				for range 3 {
					r, err := s.ClaimRun(ctx, fmt.Sprint("w", w), now)
					if err == nil {
						got <- r
					} else if !errors.Is(err, store.ErrNotFound) {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		close(got)
		jobs := map[string]int{}
		for r := range got {
			jobs[r.JobRef]++
		}
		if len(jobs) != 3 || jobs["jobs.a.j0"] != 1 || jobs["jobs.a.j1"] != 1 || jobs["jobs.a.j2"] != 1 {
			t.Errorf("claimed per job: %v (one each while the first runs)", jobs)
		}
	})
	t.Run("pages", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		var jobs []store.Job
		for i := 1; i <= 5; i++ {
			h := fmt.Sprint(i)
			_, _ = s.CreateDeployment(ctx, store.Deployment{WorkspaceID: a.ID, ContentHash: h, BlobKey: h, CreatedBy: ann.ID})
			_, _ = s.CreateConfiguration(ctx, store.Configuration{WorkspaceID: a.ID, ContentHash: h, BlobKey: h, CreatedBy: ann.ID})
			jobs = append(jobs, store.Job{Ref: "jobs.a.j" + h, Hash: h, Spec: "{}"})
		}
		if _, err := s.ReconcileJobs(ctx, a.ID, jobs, time.Now()); err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC()
		var keys []string
		for i := 0; i < 5; i++ {
			// Equal creation times: the id breaks the tie.
			k, err := s.CreateAPIKey(ctx, store.APIKey{UserID: ann.ID, Role: store.RoleOwner, Name: fmt.Sprint(i), Hash: "h" + fmt.Sprint(i), CreatedAt: at.Add(time.Duration(i/2) * time.Millisecond), ExpiresAt: at.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.ID)
		}
		// Walk each list two at a time; together the pages are the list.
		walk := func(name string, list func(store.Page) ([]string, error)) {
			t.Helper()
			all, err := list(store.Page{})
			if err != nil || len(all) != 5 {
				t.Fatalf("%s: all %v %v", name, all, err)
			}
			var got []string
			after := ""
			for range 4 {
				page, err := list(store.Page{Limit: 2, After: after})
				if err != nil {
					t.Fatalf("%s after %q: %v", name, after, err)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1]
			}
			if strings.Join(got, ",") != strings.Join(all, ",") {
				t.Errorf("%s: pages %v, list %v", name, got, all)
			}
		}
		walk("deployments", func(p store.Page) ([]string, error) {
			l, err := s.Deployments(ctx, a.ID, p)
			var out []string
			for _, d := range l {
				out = append(out, fmt.Sprint(d.Version))
			}
			return out, err
		})
		walk("configurations", func(p store.Page) ([]string, error) {
			l, err := s.Configurations(ctx, a.ID, p)
			var out []string
			for _, c := range l {
				out = append(out, fmt.Sprint(c.Version))
			}
			return out, err
		})
		walk("jobs", func(p store.Page) ([]string, error) {
			l, err := s.Jobs(ctx, a.ID, p)
			var out []string
			for _, j := range l {
				out = append(out, j.Ref)
			}
			return out, err
		})
		walk("api keys", func(p store.Page) ([]string, error) {
			l, err := s.APIKeysOfUser(ctx, ann.ID, p)
			var out []string
			for _, k := range l {
				out = append(out, k.ID)
			}
			return out, err
		})
		if l, _ := s.Deployments(ctx, a.ID, store.Page{}); l[0].Version != 5 {
			t.Errorf("deployments newest first: %+v", l[0])
		}
		if l, _ := s.APIKeysOfUser(ctx, ann.ID, store.Page{}); l[0].ID != keys[0] && l[0].ID != keys[1] {
			t.Errorf("api keys oldest first: %+v", l[0])
		}
		for name, err := range map[string]error{
			"version": func() error { _, err := s.Deployments(ctx, a.ID, store.Page{After: "v2"}); return err }(),
			"key":     func() error { _, err := s.APIKeysOfUser(ctx, ann.ID, store.Page{After: "nope"}); return err }(),
		} {
			if !errors.Is(err, store.ErrBadPage) {
				t.Errorf("bad %s cursor: %v", name, err)
			}
		}
	})
	t.Run("configurations", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		if list, err := s.Configurations(ctx, a.ID, store.Page{}); err != nil || len(list) != 0 {
			t.Errorf("empty: %v %v", list, err)
		}
		for i, files := range [][]string{{"config.toml"}, {"config.toml", "prod.secrets.toml"}} {
			c, err := s.CreateConfiguration(ctx, store.Configuration{WorkspaceID: a.ID, ContentHash: fmt.Sprint(i), BlobKey: "k", Files: files, CreatedBy: ann.ID})
			if err != nil || c.Version != i+1 {
				t.Fatalf("create: %+v %v", c, err)
			}
		}
		list, err := s.Configurations(ctx, a.ID, store.Page{})
		if err != nil || len(list) != 2 || list[0].Version != 2 || strings.Join(list[0].Files, ",") != "config.toml,prod.secrets.toml" || list[1].ContentHash != "0" {
			t.Errorf("list: %+v %v", list, err)
		}
	})
	t.Run("jobs", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		org, _ := s.CreateOrg(ctx, "acme", ann.ID)
		a, _ := s.CreateWorkspace(ctx, org.ID, "a")
		now := time.Now()
		str := func(ch []store.JobChange) string {
			var b []string
			for _, c := range ch {
				b = append(b, c.Ref+":"+c.Action)
			}
			return strings.Join(b, " ")
		}
		ch, err := s.ReconcileJobs(ctx, a.ID, []store.Job{{Ref: "jobs.a.x", Hash: "1", Spec: "{}"}, {Ref: "jobs.a.y", Hash: "1", Spec: "{}"}}, now)
		if err != nil || str(ch) != "jobs.a.x:added jobs.a.y:added" {
			t.Fatalf("first: %s %v", str(ch), err)
		}
		ch, _ = s.ReconcileJobs(ctx, a.ID, []store.Job{{Ref: "jobs.a.x", Hash: "2", Spec: "{}"}, {Ref: "jobs.a.y", Hash: "1", Spec: "{}"}}, now)
		if str(ch) != "jobs.a.x:updated jobs.a.y:unchanged" {
			t.Errorf("second: %s", str(ch))
		}
		ch, _ = s.ReconcileJobs(ctx, a.ID, []store.Job{{Ref: "jobs.a.x", Hash: "2", Spec: "{}"}}, now)
		if str(ch) != "jobs.a.x:unchanged jobs.a.y:archived" {
			t.Errorf("third: %s", str(ch))
		}
		if n, err := s.DeactivateJobs(ctx, a.ID, now); err != nil || n != 1 {
			t.Errorf("deactivate: %d %v", n, err)
		}
		if j, err := s.JobByRef(ctx, a.ID, "jobs.a.x"); err != nil || j.Ref != "jobs.a.x" || j.Hash != "2" {
			t.Errorf("job by ref: %+v %v", j, err)
		}
		if _, err := s.JobByRef(ctx, a.ID, "jobs.a.nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing job: %v", err)
		}
		jobs, _ := s.Jobs(ctx, a.ID, store.Page{})
		if len(jobs) != 2 || jobs[0].Active || jobs[1].Active || jobs[0].Hash != "2" {
			t.Errorf("jobs: %+v", jobs)
		}
		ch, _ = s.ReconcileJobs(ctx, a.ID, []store.Job{{Ref: "jobs.a.x", Hash: "2", Spec: "{}"}}, now)
		if str(ch) != "jobs.a.x:updated" {
			t.Errorf("reactivate: %s", str(ch))
		}
	})
	t.Run("api_keys", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		exp := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
		k, err := s.CreateAPIKey(ctx, store.APIKey{UserID: ann.ID, Role: store.RoleDeveloper, Name: "ci", Hash: "h1", ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.APIKeyByHash(ctx, "h1")
		if err != nil || got.ID != k.ID || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil {
			t.Errorf("%+v %v", got, err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second revoke: %v", err)
		}
		if got, _ := s.APIKeyByHash(ctx, "h1"); got.RevokedAt == nil {
			t.Error("not revoked")
		}
		if keys, err := s.APIKeysOfUser(ctx, ann.ID, store.Page{}); err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].RevokedAt == nil {
			t.Errorf("keys of user: %+v %v", keys, err)
		}
		if keys, err := s.APIKeysOfUser(ctx, "nobody", store.Page{}); err != nil || len(keys) != 0 {
			t.Errorf("keys of nobody: %+v %v", keys, err)
		}
		if _, err := s.APIKeyByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
	})
	t.Run("device_codes", func(t *testing.T) {
		s := open(t)
		ann, _ := s.CreateUser(ctx, store.User{Email: "ann@x"})
		exp := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Millisecond)
		for _, dc := range []store.DeviceCode{{DeviceCode: "d1", UserCode: "AAAA-BBBB", ClientID: "cli", ExpiresAt: exp, Interval: 5 * time.Second}, {DeviceCode: "d2", UserCode: "CCCC-DDDD", ClientID: "cli", ExpiresAt: exp, Interval: 5 * time.Second}} {
			if err := s.CreateDeviceCode(ctx, dc); err != nil {
				t.Fatal(err)
			}
		}
		t1 := time.Now().UTC().Truncate(time.Millisecond)
		if prev, err := s.PollDeviceCode(ctx, "d1", t1); err != nil || prev != nil {
			t.Errorf("first poll: %v %v", prev, err)
		}
		if prev, _ := s.PollDeviceCode(ctx, "d1", t1.Add(time.Second)); prev == nil || !prev.Equal(t1) {
			t.Errorf("second poll: %v", prev)
		}
		if err := s.ApproveDeviceCode(ctx, "AAAA-BBBB", ann.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ApproveDeviceCode(ctx, "AAAA-BBBB", ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("approve twice: %v", err)
		}
		d, err := s.DeviceCodeByDevice(ctx, "d1")
		if err != nil || d.UserID != ann.ID || d.Denied || d.Interval != 5*time.Second || !d.ExpiresAt.Equal(exp) {
			t.Errorf("approved: %+v %v", d, err)
		}
		if err := s.DenyDeviceCode(ctx, "CCCC-DDDD"); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.DeviceCodeByUser(ctx, "CCCC-DDDD"); !d.Denied || d.UserID != "" {
			t.Errorf("denied: %+v", d)
		}
		// Only approved codes are consumed, and only once.
		if d, _ := s.DeviceCodeByUser(ctx, "CCCC-DDDD"); !errors.Is(s.ConsumeDeviceCode(ctx, d.DeviceCode), store.ErrNotFound) {
			t.Error("consumed a denied code")
		}
		if err := s.ConsumeDeviceCode(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeDeviceCode(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consume twice: %v", err)
		}
		if _, err := s.DeviceCodeByDevice(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consumed code still readable: %v", err)
		}
		if n, err := s.DeleteExpiredDeviceCodes(ctx, exp.Add(time.Millisecond)); err != nil || n != 1 {
			t.Errorf("delete expired: %d %v", n, err)
		}
		if _, err := s.DeviceCodeByUser(ctx, "CCCC-DDDD"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired code still there: %v", err)
		}
	})
}
