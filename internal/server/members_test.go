package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/githubfake"
)

func TestInviteMemberAndGrantWorkspaceRole(t *testing.T) {
	tm := newTeam(t)
	owner := tm.tokens["owner"]
	org := tm.ts + "/api/v1/organizations/" + tm.acme
	ws := tm.ts + "/api/v1/workspaces/" + tm.analytics

	// The owner invites someone without an account.
	code, inv := call(t, http.MethodPost, org+"/members", owner, `{"email":" Dora@Acme.test "}`)
	link, _ := inv["invite_url"].(string)
	if code != http.StatusCreated || inv["email"] != "dora@acme.test" || inv["role"] != "member" || inv["pending"] != true || !strings.HasPrefix(link, tm.ts+"/invite?token=inv_") {
		t.Fatalf("invite: %d %v", code, inv)
	}
	dora := inv["user_id"].(string)
	// Pending: listed as such, and cannot sign in yet.
	_, list := call(t, http.MethodGet, org+"/members", owner, "")
	if !strings.Contains(jsonString(list), `"email":"dora@acme.test","name":"","pending":true,"role":"member"`) {
		t.Errorf("members: %s", jsonString(list))
	}
	if resp, _ := http.PostForm(tm.ts+"/login", url.Values{"email": {"dora@acme.test"}, "password": {""}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("pending member signed in: %d", resp.StatusCode)
	}
	// Inviting again renews the link; the first stops working.
	code, again := call(t, http.MethodPost, org+"/members", owner, `{"email":"dora@acme.test"}`)
	if code != http.StatusOK || again["invite_url"] == link {
		t.Fatalf("re-invite: %d %v", code, again)
	}
	if resp, _ := http.Get(link); resp.StatusCode != http.StatusGone {
		t.Errorf("replaced link: %d", resp.StatusCode)
	}
	link = again["invite_url"].(string)
	// Dora follows the link and sets a password.
	resp, err := http.Get(link)
	body, _ := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "dora@acme.test") {
		t.Fatalf("invite page: %v %s", err, body)
	}
	tok := strings.TrimPrefix(link, tm.ts+"/invite?token=")
	if resp, _ := http.PostForm(tm.ts+"/invite", url.Values{"token": {tok}, "password": {"short"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("short password: %d", resp.StatusCode)
	}
	if resp, _ := http.PostForm(tm.ts+"/invite", url.Values{"token": {tok}, "name": {"Dora"}, "password": {"dora's password"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if resp, _ := http.PostForm(tm.ts+"/invite", url.Values{"token": {tok}, "password": {"another password"}}); resp.StatusCode != http.StatusGone {
		t.Errorf("link reused: %d", resp.StatusCode)
	}
	if code, _ := call(t, http.MethodPost, org+"/members", owner, `{"email":"dora@acme.test"}`); code != http.StatusConflict {
		t.Errorf("claimed member re-invited: %d", code)
	}
	b := browser(t, tm.ts, "dora@acme.test", "dora's password")
	doraTok := approveDevice(t, tm.ts, b)
	// A member sees the organization but no workspace until given a role.
	if code, _ := call(t, http.MethodGet, ws, doraTok, ""); code != http.StatusNotFound {
		t.Errorf("member without role sees the workspace: %d", code)
	}
	if code, out := call(t, http.MethodPut, ws+"/members/"+dora, owner, `{"role":"developer"}`); code != http.StatusOK {
		t.Fatalf("grant: %d %v", code, out)
	}
	if code, out := call(t, http.MethodGet, ws, doraTok, ""); code != http.StatusOK || out["role"] != "developer" {
		t.Errorf("after grant: %d %v", code, out)
	}
	// Her home page lists it too.
	if resp, err := b.Get(tm.ts + "/"); err == nil {
		home, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(home), `<td>acme</td><td><a href="/workspaces/`+tm.analytics+`">analytics</a></td><td>developer</td>`) {
			t.Errorf("home page:\n%s", home)
		}
	}
	_, wm := call(t, http.MethodGet, ws+"/members", doraTok, "")
	if s := jsonString(wm); !strings.Contains(s, `"email":"ann@acme.test","inherited":true,"name":"Ann","role":"owner"`) || !strings.Contains(s, `"email":"dora@acme.test","name":"Dora","role":"developer"`) {
		t.Errorf("workspace members: %s", s)
	}
	// Roles go only to members of the workspace's organization, and org
	// owners' ownership is not a workspace role to change.
	bob := mustUser(t, tm.server.cfg.Store, "bob@globex.test")
	if code, out := call(t, http.MethodPut, ws+"/members/"+bob, owner, `{"role":"viewer"}`); code != http.StatusBadRequest || !strings.Contains(out["detail"].(string), "organizations/"+tm.acme+"/members first") {
		t.Errorf("outsider: %d %v", code, out)
	}
	ann := mustUser(t, tm.server.cfg.Store, "ann@acme.test")
	if code, _ := call(t, http.MethodPut, ws+"/members/"+ann, owner, `{"role":"viewer"}`); code != http.StatusBadRequest {
		t.Errorf("org owner demoted in a workspace: %d", code)
	}
	// The last owner stays; a second owner makes leaving possible.
	if code, out := call(t, http.MethodDelete, org+"/members/"+ann, owner, ""); code != http.StatusConflict || !strings.Contains(out["detail"].(string), "needs an owner") {
		t.Errorf("last owner leaves: %d %v", code, out)
	}
	if code, _ := call(t, http.MethodPut, org+"/members/"+ann, owner, `{"role":"member"}`); code != http.StatusConflict {
		t.Errorf("last owner demoted: %d", code)
	}
	if code, _ := call(t, http.MethodPut, org+"/members/"+dora, owner, `{"role":"owner"}`); code != http.StatusOK {
		t.Errorf("promote: %d", code)
	}
	// Now an owner herself, Dora may remove Ann.
	if code, _ := call(t, http.MethodDelete, org+"/members/"+ann, doraTok, ""); code != http.StatusNoContent {
		t.Errorf("second owner removes the first: %d", code)
	}
	if code, _ := call(t, http.MethodGet, ws, owner, ""); code != http.StatusNotFound {
		t.Errorf("removed owner still sees the workspace: %d", code)
	}
	// A member may leave on their own.
	viewerTok := tm.tokens["viewer"]
	viewer := mustUser(t, tm.server.cfg.Store, "viewer@acme.test")
	if code, _ := call(t, http.MethodDelete, org+"/members/"+viewer, viewerTok, ""); code != http.StatusNoContent {
		t.Errorf("leave: %d", code)
	}
	if code, _ := call(t, http.MethodGet, ws, viewerTok, ""); code != http.StatusNotFound {
		t.Errorf("after leaving: %d", code)
	}
	// Bad input.
	for body, want := range map[string]int{`{"email":"nope"}`: 400, `{"email":"x@y.z","role":"admin"}`: 400, `{"email":"viewer@acme.test","role":"owner"}`: 201} {
		if code, out := call(t, http.MethodPost, org+"/members", doraTok, body); code != want {
			t.Errorf("%s: %d %v", body, code, out)
		}
	}
}

func TestInvitedMemberClaimsAccountWithGitHub(t *testing.T) {
	s, base, gh, _ := githubServer(t, false, "s3cret-github")
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "ann@example.com", "Ann", "correct horse", "acme"); err != nil {
		t.Fatal(err)
	}
	annTok, _ := s.IssueToken(ctx, mustUser(t, s.cfg.Store, "ann@example.com"), "t", time.Hour)
	orgs, _ := s.cfg.Store.OrgsOfUser(ctx, mustUser(t, s.cfg.Store, "ann@example.com"))
	code, inv := call(t, http.MethodPost, base+"/api/v1/organizations/"+orgs[0].Org.ID+"/members", annTok, `{"email":"eve@example.com"}`)
	if code != http.StatusCreated {
		t.Fatalf("invite: %d %v", code, inv)
	}
	// Signup is off, but Eve was invited: her verified GitHub email claims
	// the account, and the password link stops working.
	gh.SignIn(&githubfake.User{ID: 77, Login: "eve", Emails: []githubfake.Email{{Email: "eve@example.com", Primary: true, Verified: true}}})
	if _, code, body := githubSignIn(t, base); code != http.StatusOK || !strings.Contains(body, "Signed in as eve@example.com") {
		t.Fatalf("github: %d %s", code, body)
	}
	if resp, _ := http.Get(inv["invite_url"].(string)); resp.StatusCode != http.StatusGone {
		t.Errorf("invite link after GitHub claim: %d", resp.StatusCode)
	}
}

// jsonString is v as JSON (maps with sorted keys), for substring checks.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
