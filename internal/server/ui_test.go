package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

func TestWorkspacePage(t *testing.T) {
	tm := newTeam(t)
	ctx := context.Background()
	st := tm.server.cfg.Store
	ann := mustUser(t, st, "ann@acme.test")
	if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: "0123456789abcdef", BlobKey: "k", Files: 3, Size: 2048, CreatedBy: ann}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConfiguration(ctx, store.Configuration{WorkspaceID: tm.analytics, ContentHash: "h", BlobKey: "k", Files: []string{"config.toml", "prod.secrets.toml"}, CreatedBy: ann}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReconcileJobs(ctx, tm.analytics, []store.Job{{Ref: "jobs.ingest.github", Hash: "1", Spec: "{}"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	run, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.ingest.github", Trigger: "manual:jobs.ingest.github", Profile: "prod", DeploymentVersion: 1, CreatedBy: ann})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SetRunTableRows(ctx, run.ID, map[string]int64{"issues": 100})
	_ = st.SetVariable(ctx, store.Variable{WorkspaceID: tm.analytics, Name: "LOG_LEVEL", Value: "WARN", UpdatedBy: ann})
	_ = st.SetVariable(ctx, store.Variable{WorkspaceID: tm.analytics, Profile: "prod", Name: "TOKEN", Secret: true, Value: "sealed-value", UpdatedBy: ann})
	_ = st.AppendRunLogs(ctx, run.ID, []store.LogLine{{Seq: 1, At: time.Now(), Stream: "stdout", Line: "loading <issues>"}, {Seq: 2, At: time.Now(), Stream: "stderr", Line: "a warning"}})
	path := WorkspacePagePath(tm.analytics)
	get := func(b *http.Client) (int, string) {
		resp, err := b.Get(tm.ts + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// Without a session the page sends the browser to sign in and back.
	defer func() {
		if _, body := get(browser(t, tm.ts, "ann@acme.test", "pw-ann-123")); strings.Contains(body, "sealed-value") {
			t.Error("a secret variable's value is on the page")
		}
	}()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := noFollow.Get(tm.ts + path)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+urlQueryEscape(path) {
		t.Errorf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body := get(browser(t, tm.ts, "ann@acme.test", "pw-ann-123"))
	for _, want := range []string{
		"<h1>analytics</h1>", "your role <b>owner</b>",
		"<td>1 (active)</td>", "<td>3</td><td>2.0 KiB</td><td><code>0123456789ab</code></td>",
		"<td>config.toml, prod.secrets.toml</td>",
		`<td><a href="` + JobPagePath(tm.analytics, "jobs.ingest.github") + `">jobs.ingest.github</a></td><td>active</td>`,
		`</a></td><td><span class="status status-pending">pending</span></td><td>manual:jobs.ingest.github</td>`,
		"<td>ann@acme.test</td><td>owner (organization owner)</td>",
		"<td><code>LOG_LEVEL</code></td><td>workspace</td><td>WARN</td>", "<td><code>TOKEN</code></td><td>profile prod</td><td><i>secret</i></td>", "<td>viewer@acme.test</td><td>viewer</td>",
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("page lacks %q: %d\n%s", want, code, body)
		}
	}
	// The run's page shows its log (with times and a marker on stderr)
	// and, while the run is in progress, the script that follows it, and
	// a reload for browsers without JavaScript (browser_test.go drives it).
	annB := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	resp, _ = annB.Get(tm.ts + RunPagePath(tm.analytics, run.ID))
	rb, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"<h1>jobs.ingest.github #1</h1>", `<noscript><meta http-equiv="refresh" content="5"></noscript>`, "<td>issues</td><td>100</td>",
		`<span class="text">loading &lt;issues&gt;</span>`, `<div class="line stderr" data-seq="2">`, `<span class="mark">stderr</span><span class="text">a warning</span>`,
		`data-after="2" data-follow="true"`, `<script src="/static/runlog.js?v=`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(rb), want) {
			t.Errorf("run page lacks %q: %d\n%s", want, resp.StatusCode, rb)
		}
	}
	if !strings.Contains(body, `<a href="`+RunPagePath(tm.analytics, run.ID)+`">#1</a>`) {
		t.Errorf("no link to the run page:\n%s", body)
	}
	// Someone of another organization learns nothing.
	if _, err := tm.server.CreateAccount(ctx, "eve@globex.test", "Eve", "pw-eve-1234", "globex"); err != nil {
		t.Fatal(err)
	}
	eve := browser(t, tm.ts, "eve@globex.test", "pw-eve-1234")
	if code, body := get(eve); code != http.StatusNotFound || strings.Contains(body, "jobs.ingest.github") {
		t.Errorf("other org: %d %s", code, body)
	}
	if resp, _ := eve.Get(tm.ts + RunPagePath(tm.analytics, run.ID)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org's run page: %d", resp.StatusCode)
	}
}

// TestJobPage is the job page over HTTP: sign-in first, members only,
// the spec escaped, and an archived job keeping its page and runs while
// it leaves the workspace's graph.
func TestJobPage(t *testing.T) {
	tm := newTeam(t)
	ctx, st := context.Background(), tm.server.cfg.Store
	running := richWorkspace(t, tm)
	defer func() { _ = st.FinishRun(ctx, running.ID, store.RunCancelled, nil, "test over", time.Now()) }()
	path := JobPagePath(tm.analytics, "jobs.transform.daily")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(tm.ts + path)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+urlQueryEscape(path) {
		t.Fatalf("no session: %v %v", resp, err)
	}
	get := func(c *http.Client, p string) (int, string) {
		t.Helper()
		resp, err := c.Get(tm.ts + p)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	ann := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	code, body := get(ann, path)
	for _, want := range []string{"<h1>jobs.transform.daily</h1>", `<li aria-current="page">jobs.transform.daily</li>`,
		`<a href="` + JobPagePath(tm.analytics, "jobs.ingest.github") + `">jobs.ingest.github</a> succeeds`, // the trigger links the job it follows
		`id="durations-chart" role="img"`, "None of these runs recorded rows loaded"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("job page lacks %q: %d\n%s", want, code, body)
		}
	}
	if code, body := get(ann, WorkspacePagePath(tm.analytics)); code != http.StatusOK || !strings.Contains(body, `id="jobs-graph" role="img"`) {
		t.Errorf("workspace page without the graph: %d", code)
	}
	// Someone of another organization learns nothing, not even the name.
	if _, err := tm.server.CreateAccount(ctx, "eve@globex.test", "Eve", "pw-eve-1234", "globex"); err != nil {
		t.Fatal(err)
	}
	eve := browser(t, tm.ts, "eve@globex.test", "pw-eve-1234")
	if code, body := get(eve, path); code != http.StatusNotFound || strings.Contains(body, "transform") {
		t.Errorf("other org: %d %s", code, body)
	}
	if code, _ := get(ann, JobPagePath(tm.analytics, "jobs.no.such")); code != http.StatusNotFound {
		t.Errorf("no such job: %d", code)
	}

	// A deploy without the follower archives it; its page stays, with its
	// runs, and the graph goes (archived jobs trigger nothing). What a
	// manifest says is text, never markup.
	spec, _ := json.Marshal(map[string]any{"job_ref": "jobs.ingest.github", "type": "batch", "description": `<img src=x onerror="alert(1)">`,
		"command": []string{"python", "<b>.py"}, "triggers": []string{"schedule:0 * * * *"}})
	if _, err := st.ReconcileJobs(ctx, tm.analytics, []store.Job{{Ref: "jobs.ingest.github", Hash: "h2", Spec: string(spec)}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	code, body = get(ann, path)
	if code != http.StatusOK || !strings.Contains(body, `<span class="status">archived</span>`) || strings.Count(body, `<td><a href="/workspaces/`) != 3 {
		t.Errorf("archived job page: %d\n%s", code, body)
	}
	if _, body := get(ann, WorkspacePagePath(tm.analytics)); strings.Contains(body, "jobs-graph") {
		t.Error("the graph shows edges of an archived job")
	}
	_, body = get(ann, JobPagePath(tm.analytics, "jobs.ingest.github"))
	if strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>.py") || !strings.Contains(body, "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") && !strings.Contains(body, "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") {
		t.Errorf("the spec is not escaped:\n%s", body)
	}
}
