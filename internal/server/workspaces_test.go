package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// team is one server with callers in every role.
type team struct {
	ts                     string
	acme, analytics        string // org and workspace ids
	tokens                 map[string]string
	globexWorkspace        string
	expiredTok, revokedTok string
	blobDir                string
	server                 *Server
}

func newTeam(t *testing.T, mods ...func(*Config)) team {
	t.Helper()
	s, ts, blobDir := newServerWithBlobs(t, nil, mods...)
	ctx := context.Background()
	st := s.cfg.Store
	ann, err := s.CreateAccount(ctx, "ann@acme.test", "Ann", "pw-ann-123", "acme")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.CreateAccount(ctx, "bob@globex.test", "Bob", "pw-bob-123", "globex")
	if err != nil {
		t.Fatal(err)
	}
	orgs, _ := st.OrgsOfUser(ctx, ann.ID)
	acme := orgs[0].Org.ID
	ws, err := st.CreateWorkspace(ctx, acme, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	tm := team{ts: ts.URL, blobDir: blobDir, server: s, acme: acme, analytics: ws.ID, tokens: map[string]string{"none": ""}}
	for _, role := range []string{store.RoleViewer, store.RoleDeveloper} {
		u, err := st.CreateUser(ctx, store.User{Email: role + "@acme.test", Name: role})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddOrgMember(ctx, acme, u.ID, store.RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := st.SetWorkspaceRole(ctx, ws.ID, u.ID, role); err != nil {
			t.Fatal(err)
		}
		tm.tokens[role], _ = s.IssueToken(ctx, u.ID, "test", time.Hour)
	}
	tm.tokens["owner"], _ = s.IssueToken(ctx, ann.ID, "test", time.Hour)
	tm.tokens["other org"], _ = s.IssueToken(ctx, bob.ID, "test", time.Hour)
	gw, _ := st.WorkspacesOfUser(ctx, bob.ID)
	tm.globexWorkspace = gw[0].Workspace.ID

	tm.expiredTok, _ = s.IssueToken(ctx, ann.ID, "expired", -time.Second)
	tm.revokedTok, _ = s.IssueToken(ctx, ann.ID, "revoked", time.Hour)
	k, _ := st.APIKeyByHash(ctx, HashToken(tm.revokedTok))
	_ = st.RevokeAPIKey(ctx, k.ID, time.Now())
	return tm
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	return callWith(t, method, url, token, body, nil)
}

// callWith is call with extra request headers.
func callWith(t *testing.T, method, url, token, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestWorkspaceEndpointsByRole is the API's scenario table: every /api/v1
// route × (no token, another organization, viewer, developer, owner), on
// SQLite and on PostgreSQL.
func TestWorkspaceEndpointsByRole(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { endpointsByRole(t, newTeam(t)) })
	t.Run("postgres", func(t *testing.T) {
		st, err := store.OpenPostgres(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		endpointsByRole(t, newTeam(t, func(c *Config) { c.Store = st }))
	})
}

func endpointsByRole(t *testing.T, tm team) {
	ws := tm.ts + "/api/v1/workspaces/" + tm.analytics
	callers := []string{"none", "other org", "viewer", "developer", "owner"}
	// A deployment to read back, a distinct package per caller to upload,
	// and one of the owner's keys to revoke.
	first, firstHash := pack(t, map[string]string{"main.py": "v1"})
	if code, out := upload(t, ws+"/deployments", tm.tokens["owner"], first, firstHash); code != http.StatusCreated {
		t.Fatalf("first deployment: %d %v", code, out)
	}
	type pkg struct{ body, hash string }
	pkgs := map[string]pkg{}
	for _, c := range callers {
		b, h := pack(t, map[string]string{"main.py": "print(" + strconv.Quote(c) + ")"})
		pkgs[c] = pkg{string(b), h}
	}
	_, key := call(t, http.MethodPost, tm.ts+"/api/v1/api-keys", tm.tokens["owner"], `{"name":"to revoke"}`)
	// Two more acme members: spare (no workspace role) and leaver (viewer).
	st, ctx := tm.server.cfg.Store, context.Background()
	var spare, leaver string
	for name, who := range map[string]*string{"spare": &spare, "leaver": &leaver} {
		u, err := st.CreateUser(ctx, store.User{Email: name + "@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		*who = u.ID
		_ = st.AddOrgMember(ctx, tm.acme, u.ID, store.RoleMember)
	}
	_ = st.SetWorkspaceRole(ctx, tm.analytics, leaver, store.RoleViewer)
	viewer := mustUser(t, st, "viewer@acme.test")
	org := tm.ts + "/api/v1/organizations/" + tm.acme
	// A run in progress, to read and cancel.
	running, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.a.b", Trigger: "manual:jobs.a.b", Profile: "prod", DeploymentVersion: 1, CreatedBy: viewer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimRun(ctx, "w", time.Now()); err != nil {
		t.Fatal(err)
	}
	run := ws + "/runs/" + running.ID
	constant := func(b string) func(string) string { return func(string) string { return b } }
	cases := []struct {
		name, method, url string
		body              func(caller string) string
		want              []int // per caller, in the order above
		header            func(caller string) http.Header
	}{
		{"openapi document", http.MethodGet, tm.ts + "/api/v1/openapi.json", nil, []int{200, 200, 200, 200, 200}, nil},
		{"me", http.MethodGet, tm.ts + "/api/v1/me", nil, []int{401, 200, 200, 200, 200}, nil},
		{"list", http.MethodGet, tm.ts + "/api/v1/workspaces", nil, []int{401, 200, 200, 200, 200}, nil},
		{"get", http.MethodGet, ws, nil, []int{401, 404, 200, 200, 200}, nil},
		{"get other org's", http.MethodGet, tm.ts + "/api/v1/workspaces/" + tm.globexWorkspace, nil, []int{401, 200, 404, 404, 404}, nil},
		{"bind repository", http.MethodPut, ws + "/repository", constant(`{"repository":"github.com/acme/pipelines"}`), []int{401, 404, 403, 200, 200}, nil},
		{"list jobs", http.MethodGet, ws + "/jobs", nil, []int{401, 404, 200, 200, 200}, nil},
		{"reconcile jobs", http.MethodPut, ws + "/jobs", constant(`{"jobs":[{"job_ref":"jobs.a.b","hash":"h","spec":{}}]}`), []int{401, 404, 403, 200, 200}, nil},
		{"reconcile bad spec", http.MethodPut, ws + "/jobs", constant(`{"jobs":[{"job_ref":"jobs.a.b","hash":""}]}`), []int{401, 404, 403, 400, 400}, nil},
		{"queue a run", http.MethodPost, ws + "/jobs/jobs.a.b/runs", nil, []int{401, 404, 403, 201, 201}, nil},
		{"serve an app", http.MethodPost, ws + "/jobs/jobs.a.b/serve", nil, []int{401, 404, 403, 400, 400}, nil},
		{"publish an app", http.MethodPost, ws + "/jobs/jobs.a.b/publish", nil, []int{401, 404, 403, 404, 404}, nil},
		{"unpublish an app", http.MethodDelete, ws + "/jobs/jobs.a.b/publish", nil, []int{401, 404, 403, 200, 200}, nil},
		{"list runs", http.MethodGet, ws + "/runs?job=jobs.a.b", nil, []int{401, 404, 200, 200, 200}, nil},
		{"get run", http.MethodGet, run, nil, []int{401, 404, 200, 200, 200}, nil},
		{"run logs", http.MethodGet, run + "/logs", nil, []int{401, 404, 200, 200, 200}, nil},
		{"cancel run", http.MethodPost, run + "/cancel", nil, []int{401, 404, 403, 200, 200}, nil},
		{"set variable", http.MethodPut, ws + "/variables/LOG_LEVEL", constant(`{"value":"INFO"}`), []int{401, 404, 403, 200, 200}, nil},
		{"list variables", http.MethodGet, ws + "/variables", nil, []int{401, 404, 200, 200, 200}, nil},
		{"delete variable", http.MethodDelete, ws + "/variables/LOG_LEVEL", nil, []int{401, 404, 403, 204, 404}, nil},
		{"list deployments", http.MethodGet, ws + "/deployments", nil, []int{401, 404, 200, 200, 200}, nil},
		{"deployment files", http.MethodGet, ws + "/deployments/1/files", nil, []int{401, 404, 200, 200, 200}, nil},
		{"deploy code", http.MethodPost, ws + "/deployments", func(c string) string { return pkgs[c].body },
			[]int{401, 404, 403, 201, 201}, func(c string) http.Header {
				return http.Header{"Content-Type": {"application/gzip"}, "X-Content-Hash": {pkgs[c].hash}}
			}},
		{"list configurations", http.MethodGet, ws + "/configurations", nil, []int{401, 404, 200, 200, 200}, nil},
		{"sync configuration", http.MethodPost, ws + "/configurations", func(c string) string {
			return `{"files":[{"name":"config.toml","content":"[runtime]\nby = \"` + c + `\"\n"}]}`
		}, []int{401, 404, 403, 201, 201}, nil},
		{"configuration dry run", http.MethodPost, ws + "/configurations", constant(`{"dry_run":true,"files":[{"name":"config.toml","content":""}]}`),
			[]int{401, 404, 403, 200, 200}, nil},
		{"create in acme", http.MethodPost, tm.ts + "/api/v1/workspaces", func(c string) string {
			return `{"organization_id":"` + tm.acme + `","name":"ws-` + strings.ReplaceAll(c, " ", "-") + `"}`
		}, []int{401, 404, 201, 201, 201}, nil},
		{"list api keys", http.MethodGet, tm.ts + "/api/v1/api-keys", nil, []int{401, 200, 200, 200, 200}, nil},
		{"create personal key", http.MethodPost, tm.ts + "/api/v1/api-keys", constant(`{"name":"mine"}`), []int{401, 201, 201, 201, 201}, nil},
		{"create developer key", http.MethodPost, tm.ts + "/api/v1/api-keys", constant(`{"name":"ci","workspace_id":"` + tm.analytics + `","role":"developer"}`),
			[]int{401, 404, 403, 201, 201}, nil},
		{"create viewer key", http.MethodPost, tm.ts + "/api/v1/api-keys", constant(`{"name":"ro","workspace_id":"` + tm.analytics + `","role":"viewer"}`),
			[]int{401, 404, 201, 201, 201}, nil},
		{"list org members", http.MethodGet, org + "/members", nil, []int{401, 404, 200, 200, 200}, nil},
		{"add org member", http.MethodPost, org + "/members", func(c string) string { return `{"email":"new-` + strings.ReplaceAll(c, " ", "-") + `@acme.test"}` },
			[]int{401, 404, 403, 403, 201}, nil},
		{"set org role", http.MethodPut, org + "/members/" + viewer, constant(`{"role":"member"}`), []int{401, 404, 403, 403, 200}, nil},
		{"list workspace members", http.MethodGet, ws + "/members", nil, []int{401, 404, 200, 200, 200}, nil},
		{"set workspace role", http.MethodPut, ws + "/members/" + spare, constant(`{"role":"viewer"}`), []int{401, 404, 403, 403, 200}, nil},
		{"remove workspace role", http.MethodDelete, ws + "/members/" + leaver, nil, []int{401, 404, 403, 403, 204}, nil},
		{"remove org member", http.MethodDelete, org + "/members/" + leaver, nil, []int{401, 404, 403, 403, 204}, nil},
		{"revoke owner's key", http.MethodDelete, tm.ts + "/api/v1/api-keys/" + key["id"].(string), nil, []int{401, 404, 404, 404, 204}, nil},
	}
	// The table names every route.
	covered := map[string]bool{}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, tc.url, nil)
		_, pattern := tm.server.mux.Handler(req)
		covered[pattern] = true
	}
	for _, r := range tm.server.apiRoutes {
		if !covered[r] {
			t.Errorf("route %s has no row in the role table", r)
		}
	}
	for _, tc := range cases {
		for i, caller := range callers {
			body := ""
			if tc.body != nil {
				body = tc.body(caller)
			}
			var header http.Header
			if tc.header != nil {
				header = tc.header(caller)
			}
			code, out := callWith(t, tc.method, tc.url, tm.tokens[caller], body, header)
			if code != tc.want[i] {
				t.Errorf("%s as %s: %d %v, want %d", tc.name, caller, code, out, tc.want[i])
			}
			if code >= 400 && (out["status_code"] != float64(code) || out["detail"] == "") {
				t.Errorf("%s as %s: error body %v", tc.name, caller, out)
			}
		}
	}
	// The other org's list holds nothing of acme.
	_, out := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces", tm.tokens["other org"], "")
	if b, _ := json.Marshal(out); strings.Contains(string(b), tm.acme) || strings.Contains(string(b), "analytics") {
		t.Errorf("other org sees acme: %s", b)
	}
	// The viewer's list shows the role.
	_, out = call(t, http.MethodGet, tm.ts+"/api/v1/workspaces", tm.tokens["viewer"], "")
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"role":"viewer"`) {
		t.Errorf("viewer list: %s", b)
	}
	for name, tok := range map[string]string{"expired": tm.expiredTok, "revoked": tm.revokedTok} {
		if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces", tok, ""); code != http.StatusUnauthorized {
			t.Errorf("%s token: %d", name, code)
		}
	}
}

func TestBindRepositoryRules(t *testing.T) {
	tm := newTeam(t)
	owner := tm.tokens["owner"]
	bind := func(wsID, repo string) (int, map[string]any) {
		return call(t, http.MethodPut, tm.ts+"/api/v1/workspaces/"+wsID+"/repository", owner, `{"repository":"`+repo+`"}`)
	}
	if code, _ := bind(tm.analytics, "github.com/acme/a"); code != 200 {
		t.Fatal(code)
	}
	// A bound workspace refuses a second repository.
	if code, out := bind(tm.analytics, "github.com/acme/b"); code != http.StatusConflict || !strings.Contains(out["detail"].(string), "github.com/acme/a") {
		t.Errorf("second repo: %d %v", code, out)
	}
	// Rebinding the repository moves it and names the old workspace.
	_, created := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces", owner, `{"organization_id":"`+tm.acme+`","name":"next"}`)
	code, out := bind(created["id"].(string), "github.com/acme/a")
	if code != 200 || out["previous_workspace_id"] != tm.analytics {
		t.Errorf("rebind: %d %v", code, out)
	}
	// Bad input is named.
	for body, want := range map[string]string{`{"repository":""}`: "repository is required", `{"repo":"x"}`: "unknown field", `nope`: "request body"} {
		code, out := call(t, http.MethodPut, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/repository", owner, body)
		if code != 400 || !strings.Contains(out["detail"].(string), want) {
			t.Errorf("%s: %d %v", body, code, out)
		}
	}
	if code, out := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces", owner, `{"organization_id":"`+tm.acme+`","name":"next"}`); code != http.StatusConflict {
		t.Errorf("duplicate name: %d %v", code, out)
	}
	if code, _ := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces", owner, `{"organization_id":"`+tm.acme+`","name":"bad name!"}`); code != 400 {
		t.Errorf("bad name: %d", code)
	}
}
