package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/store"
)

// pages follows next_cursor from url and returns each page's values of
// key in field.
func pages(t *testing.T, rawURL, token, field, key string) [][]string {
	t.Helper()
	var out [][]string
	cursor := ""
	for range 20 {
		u := rawURL
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		code, body := call(t, http.MethodGet, u, token, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", u, code, body)
		}
		var page []string
		for _, item := range body[field].([]any) {
			page = append(page, fmt.Sprint(item.(map[string]any)[key]))
		}
		out = append(out, page)
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("no last page")
	return nil
}

func TestListPagination(t *testing.T) {
	tm := newTeam(t)
	ctx := context.Background()
	st := tm.server.cfg.Store
	ws := tm.ts + "/api/v1/workspaces/" + tm.analytics
	owner := tm.tokens["owner"]
	ann := mustUser(t, st, "ann@acme.test")
	var jobs []store.Job
	for i := 1; i <= 7; i++ {
		h := fmt.Sprint(i)
		if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: h, BlobKey: h, CreatedBy: ann}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateConfiguration(ctx, store.Configuration{WorkspaceID: tm.analytics, ContentHash: h, BlobKey: h, CreatedBy: ann}); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, store.Job{Ref: "jobs.a.j" + h, Hash: h, Spec: "{}"})
		if _, err := tm.server.IssueToken(ctx, ann, "key "+h, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ReconcileJobs(ctx, tm.analytics, jobs, time.Now()); err != nil {
		t.Fatal(err)
	}
	join := func(p [][]string) string {
		var parts []string
		for _, page := range p {
			parts = append(parts, strings.Join(page, ","))
		}
		return strings.Join(parts, " | ")
	}
	for _, tc := range []struct{ name, url, field, key, want string }{
		{"deployments", ws + "/deployments?limit=3", "deployments", "version", "7,6,5 | 4,3,2 | 1"},
		{"configurations", ws + "/configurations?limit=4", "configurations", "version", "7,6,5,4 | 3,2,1"},
		{"jobs", ws + "/jobs?limit=5", "jobs", "job_ref", "jobs.a.j1,jobs.a.j2,jobs.a.j3,jobs.a.j4,jobs.a.j5 | jobs.a.j6,jobs.a.j7"},
		{"exact fit", ws + "/deployments?limit=7", "deployments", "version", "7,6,5,4,3,2,1"},
	} {
		if got := join(pages(t, tc.url, owner, tc.field, tc.key)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Ann has three login tokens from newTeam plus seven: ten keys, in pages
	// of four that follow the whole list's order. (Keys made within one
	// millisecond tie on their creation time and follow their ids, so the
	// order is compared with the list's, not with the order of creation.)
	whole := pages(t, tm.ts+"/api/v1/api-keys?limit=500", owner, "api_keys", "name")
	if got := pages(t, tm.ts+"/api/v1/api-keys?limit=4", owner, "api_keys", "name"); len(got) != 3 || len(got[2]) != 2 || len(whole) != 1 || len(whole[0]) != 10 ||
		strings.Join(append(append(got[0], got[1]...), got[2]...), ",") != strings.Join(whole[0], ",") {
		t.Errorf("api keys: %v, whole list %v", got, whole)
	}
	// Ann's workspaces: playground, analytics (owner of acme), one a page.
	if got := join(pages(t, tm.ts+"/api/v1/workspaces?limit=1", owner, "workspaces", "name")); got != "analytics | playground" {
		t.Errorf("workspaces: %s", got)
	}
	// A deploy between two pages neither repeats nor skips an item.
	code, first := call(t, http.MethodGet, ws+"/deployments?limit=3", owner, "")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	_, _ = st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: "8", BlobKey: "8", CreatedBy: ann})
	_, second := call(t, http.MethodGet, ws+"/deployments?limit=3&cursor="+first["next_cursor"].(string), owner, "")
	if v := second["deployments"].([]any)[0].(map[string]any)["version"]; v != float64(4) {
		t.Errorf("page after a deploy starts at %v, want 4", v)
	}
	// Bad pages are the client's mistake, with a message that says why.
	for q, want := range map[string]string{
		"limit=0":    "limit must be a number from 1 to 500",
		"limit=501":  "limit must be a number from 1 to 500",
		"limit=many": "limit must be a number from 1 to 500",
		"cursor=!!":  "cursor: not one this server handed out",
		"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("jobs.a.j1")): "cursor: not one this server handed out",
	} {
		code, body := call(t, http.MethodGet, ws+"/deployments?"+q, owner, "")
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["detail"]), want) {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces?cursor="+base64.RawURLEncoding.EncodeToString([]byte("nope")), owner, ""); code != http.StatusBadRequest {
		t.Errorf("unknown workspace cursor: %d", code)
	}
	// The CLI's client follows the cursors to the end.
	c := platform.New(tm.ts, owner)
	c.PageSize = 2
	all, err := c.Deployments(ctx, tm.analytics)
	if err != nil || len(all) != 8 || all[0].Version != 8 || all[7].Version != 1 {
		t.Errorf("client: %d deployments %v", len(all), err)
	}
	if active, err := c.ActiveDeployment(ctx, tm.analytics); err != nil || active.Version != 8 {
		t.Errorf("active: %+v %v", active, err)
	}
}

func mustUser(t *testing.T, st store.Store, email string) string {
	t.Helper()
	u, err := st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
