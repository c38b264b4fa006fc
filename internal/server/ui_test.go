package server

import (
	"context"
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
		"<td>jobs.ingest.github</td><td>active</td>",
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
