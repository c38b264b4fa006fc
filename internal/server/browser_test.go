package server

// Issue 15, "the web UI, tested in a real browser": the pages, opened in
// headless Chromium against a real server on loopback. Each tab fails
// its test on a JavaScript error, a console error (a CSP violation
// among them), a failed request or an error response the test did not
// announce (browsertest).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dlthub/dlthub/internal/browsertest"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// signIn signs ann in through the sign-in form, as a person would.
func signIn(tab *browsertest.Tab, base, email, password string) {
	tab.Do("sign in as "+email,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/api-keys"]`)),
	)
}

// open navigates and answers the document's HTTP status.
func open(tab *browsertest.Tab, u string) int64 {
	resp := browsertest.Run(tab, "open "+u, chromedp.NavigateResponse(u))
	return resp.Status
}

// submit clicks a form's button and answers the status of the page the
// form leads to.
func submit[S chromedp.Selectable](tab *browsertest.Tab, button S) int64 {
	resp, err := chromedp.RunResponse(tab.Ctx, chromedp.Click(button))
	if err != nil {
		tab.Do(fmt.Sprintf("submit %v", button), func(context.Context, *chromedp.Target) (chromedp.Void, error) { return chromedp.Void{}, err })
	}
	return resp.Status
}

func TestBrowserSignIn(t *testing.T) {
	tm := newTeam(t)
	tab := browsertest.Start(t, 0).Tab()
	// A page that needs a session sends the browser to sign in and back.
	if code := open(tab, tm.ts+"/api-keys"); code != http.StatusOK {
		t.Fatalf("sign-in page: %d", code)
	}
	if loc := browsertest.Run(tab, "location", chromedp.Location()); loc != tm.ts+"/login?next=%2Fapi-keys" {
		t.Errorf("sent to %s", loc)
	}
	// A wrong password says so and offers the form again, email kept.
	tab.Expect(http.StatusUnauthorized, "/login")
	tab.Do("type a wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ann@acme.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not her password"))
	if code := submit(tab, chromedp.CSS(`form button`)); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	if msg := tab.Text(`[role=alert]`); msg != "Wrong email or password." {
		t.Errorf("wrong password says %q", msg)
	}
	if email := browsertest.Run(tab, "email kept", chromedp.Value(chromedp.CSS(`input[name=email]`))); email != "ann@acme.test" {
		t.Errorf("email field after a failure: %q", email)
	}
	tab.Do("type the password", chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "pw-ann-123"))
	if code := submit(tab, chromedp.CSS(`form button`)); code != http.StatusOK {
		t.Fatalf("sign in: %d", code)
	}
	if loc := browsertest.Run(tab, "location", chromedp.Location()); loc != tm.ts+"/api-keys" {
		t.Errorf("after signing in: %s, want back on /api-keys", loc)
	}
	// Home lists the workspace; its link opens the workspace page.
	open(tab, tm.ts+"/")
	if got := tab.Text(`main p`); got != "Signed in as ann@acme.test." {
		t.Errorf("home says %q", got)
	}
	tab.Do("open the workspace from home", chromedp.Click(chromedp.CSS(`a[href="`+WorkspacePagePath(tm.analytics)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h2`)))
	if h := tab.Text(`h1`); h != "analytics" {
		t.Errorf("workspace page title %q", h)
	}
}

func TestBrowserDeviceApproval(t *testing.T) {
	tm := newTeam(t)
	// The CLI's side: ask for a code (RFC 8628), as `dlthub login` does.
	resp, err := http.PostForm(tm.ts+"/oauth/device/code", url.Values{"client_id": {"dlthub-cli"}})
	if err != nil {
		t.Fatal(err)
	}
	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
		Complete   string `json:"verification_uri_complete"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&da); err != nil || da.UserCode == "" {
		t.Fatalf("device code: %v %+v", err, da)
	}
	_ = resp.Body.Close()

	tab := browsertest.Start(t, 0).Tab()
	// The person opens the link the terminal shows, signs in on the way.
	open(tab, da.Complete)
	tab.Do("sign in on the way",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ann@acme.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "pw-ann-123"))
	if code := submit(tab, chromedp.CSS(`form button`)); code != http.StatusOK {
		t.Fatalf("sign in: %d", code)
	}
	if got := browsertest.Run(tab, "code on the page", chromedp.Value(chromedp.CSS(`input[name=user_code]`))); got != da.UserCode {
		t.Errorf("the approval page shows %q, the terminal %q", got, da.UserCode)
	}
	if code := submit(tab, chromedp.CSS(`button[value=approve]`)); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}
	if got := tab.Text(`main p`); got != "Done. You can return to your terminal." {
		t.Errorf("after approving: %q", got)
	}
	// The CLI's next poll gets a token that works.
	resp, err = http.PostForm(tm.ts+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}})
	if err != nil {
		t.Fatal(err)
	}
	var token struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&token)
	_ = resp.Body.Close()
	tok := token.AccessToken
	if tok == "" {
		t.Fatalf("no token after approving: %q", token.Error)
	}
	if code, me := call(t, http.MethodGet, tm.ts+"/api/v1/me", tok, ""); code != http.StatusOK || me["email"] != "ann@acme.test" {
		t.Errorf("token from the device flow: %d %v", code, me)
	}
}

// richWorkspace fills analytics with what a team's workspace holds: code
// versions, a configuration, batch jobs and an app, runs that completed,
// failed and one that runs, with rows loaded and log lines. It answers
// the running run.
func richWorkspace(t *testing.T, tm team) store.Run {
	t.Helper()
	ctx, st := context.Background(), tm.server.cfg.Store
	ann := mustUser(t, st, "ann@acme.test")
	for i, hash := range []string{"7e1c0d5a9b2f4e61", "a94f02c3d8e7b615", "c3d0e9f1a2b4c5d6"} {
		if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: hash, BlobKey: "k" + hash, Files: 12 + i, Size: int64(18_000 + 2_000*i), CreatedBy: ann}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateConfiguration(ctx, store.Configuration{WorkspaceID: tm.analytics, ContentHash: "h", BlobKey: "k", Files: []string{"config.toml", "prod.secrets.toml"}, CreatedBy: ann}); err != nil {
		t.Fatal(err)
	}
	m, err := jobs.Parse([]byte(`[jobs.ingest.github]
type = "batch"
command = ["python", "github_pipeline.py"]
trigger = ["schedule:0 * * * *"]

[jobs.transform.daily]
type = "batch"
command = ["python", "transform.py"]
trigger = ["job.success:jobs.ingest.github"]

[jobs.apps.dashboard]
type = "interactive"
command = ["python", "-m", "streamlit", "run", "dashboard.py"]
`), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	var list []store.Job
	for _, j := range m.Expand().Jobs {
		spec, _ := json.Marshal(j)
		list = append(list, store.Job{Ref: j.JobRef, Hash: "h-" + j.JobRef, Spec: string(spec)})
	}
	if _, err := st.ReconcileJobs(ctx, tm.analytics, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = st.SetVariable(ctx, store.Variable{WorkspaceID: tm.analytics, Name: "LOG_LEVEL", Value: "INFO", UpdatedBy: ann})
	_ = st.SetVariable(ctx, store.Variable{WorkspaceID: tm.analytics, Profile: "prod", Name: "GITHUB_TOKEN", Secret: true, Value: "sealed", UpdatedBy: ann})

	base := time.Now().UTC().Add(-6 * time.Hour).Truncate(time.Hour)
	ended := func(job string, at time.Time, took time.Duration, status string, exit int, reason string, rows map[string]int64, lines []store.LogLine) {
		t.Helper()
		started := at.Add(2 * time.Second)
		r, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: job, Trigger: "schedule:0 * * * *", Profile: "prod", Status: store.RunRunning,
			DeploymentVersion: 3, ConfigurationVersion: 1, CreatedBy: ann, CreatedAt: at, StartedAt: &started})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AppendRunLogs(ctx, r.ID, lines); err != nil {
			t.Fatal(err)
		}
		if rows != nil {
			if err := st.SetRunTableRows(ctx, r.ID, rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.FinishRun(ctx, r.ID, status, &exit, reason, started.Add(took)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		at := base.Add(time.Duration(i) * time.Hour)
		status, exit, reason := store.RunCompleted, 0, ""
		if i == 2 {
			status, exit, reason = store.RunFailed, 1, "exit status 1"
		}
		ended("jobs.ingest.github", at, time.Duration(40+7*i)*time.Second, status, exit, reason,
			map[string]int64{"issues": int64(120 + 31*i), "pull_requests": int64(40 + 9*i), "comments": int64(610 + 88*i)},
			sampleLog(at.Add(2*time.Second), i == 2))
		if status == store.RunCompleted {
			ended("jobs.transform.daily", at.Add(time.Minute), 12*time.Second, store.RunCompleted, 0, "", nil,
				[]store.LogLine{{Seq: 1, At: at.Add(time.Minute + 3*time.Second), Stream: "stdout", Line: "rebuilt 3 models"}})
		}
	}
	started := time.Now().UTC().Add(-20 * time.Second)
	run, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.ingest.github", Trigger: "manual:jobs.ingest.github", Profile: "prod",
		Status: store.RunRunning, DeploymentVersion: 3, ConfigurationVersion: 1, CreatedBy: ann, CreatedAt: started.Add(-2 * time.Second), StartedAt: &started})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendRunLogs(ctx, run.ID, sampleLog(started, false)[:4]); err != nil {
		t.Fatal(err)
	}
	return run
}

// sampleLog is what a dlt pipeline run prints, a warning on stderr, and a
// traceback when it fails.
func sampleLog(at time.Time, fails bool) []store.LogLine {
	text := []struct{ stream, line string }{
		{"stdout", "Pipeline github_pipeline load step starting"},
		{"stdout", "Extracting issues (page 1/3) from api.github.com/repos/dlt-hub/dlt"},
		{"stderr", "WARNING: rate limit at 80%, slowing down to 1 request/s"},
		{"stdout", "Extracted 3 resources: issues, pull_requests, comments"},
		{"stdout", "Normalized 1.2k rows in 0.41 s"},
	}
	if fails {
		text = append(text, struct{ stream, line string }{"stderr", "Traceback (most recent call last):"},
			struct{ stream, line string }{"stderr", `  File "github_pipeline.py", line 42, in <module>`},
			struct{ stream, line string }{"stderr", "dlt.destinations.exceptions.DatabaseTransientException: connection reset by peer"})
	} else {
		text = append(text, struct{ stream, line string }{"stdout", "Loaded 3 tables to duckdb in 1.8 s"})
	}
	out := make([]store.LogLine, len(text))
	for i, l := range text {
		out[i] = store.LogLine{Seq: int64(i + 1), At: at.Add(time.Duration(i) * 1300 * time.Millisecond), Stream: l.stream, Line: l.line}
	}
	return out
}

func TestBrowserWorkspacePage(t *testing.T) {
	tm := newTeam(t)
	running := richWorkspace(t, tm)
	defer func() {
		_ = tm.server.cfg.Store.FinishRun(context.Background(), running.ID, store.RunCancelled, nil, "test over", time.Now())
	}()
	tab := browsertest.Start(t, 0).Tab()
	signIn(tab, tm.ts, "ann@acme.test", "pw-ann-123")
	open(tab, tm.ts+WorkspacePagePath(tm.analytics))
	headings := browsertest.Run(tab, "sections", chromedp.Evaluate[[]string](`[...document.querySelectorAll("h2")].map(h => h.textContent)`))
	if want := "Code Configuration Jobs Runs Variables Members"; strings.Join(headings, " ") != want {
		t.Errorf("sections %v, want %s", headings, want)
	}
	jobs := browsertest.Run(tab, "jobs", chromedp.Evaluate[[]string](`document.querySelector("#jobs table").innerText.split("\n")`))
	if !strings.Contains(strings.Join(jobs, "\n"), "jobs.apps.dashboard · open app") {
		t.Errorf("the jobs table lacks the app's link: %q", jobs)
	}
	if secret := browsertest.Run(tab, "page text", chromedp.Evaluate[string](`document.body.innerText`)); strings.Contains(secret, "sealed") {
		t.Error("a secret's value is on the page")
	}
	tab.Screenshot("workspace", "")
	// The running run's link opens its page.
	tab.Do("open the running run", chromedp.Click(chromedp.CSS(`a[href="`+RunPagePath(tm.analytics, running.ID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-log`)))
	if got := tab.Text(`#run-status`); got != store.RunRunning {
		t.Errorf("run page status %q", got)
	}
}

// droppingStore ends followed log streams when told to: the server's
// follower stops at a store error, so the browser's stream closes without
// its end, as when a server restarts under it.
type droppingStore struct {
	store.Store
	drop atomic.Bool
}

func (d *droppingStore) RunLogs(ctx context.Context, runID string, after int64, limit int) ([]store.LogLine, error) {
	if d.drop.CompareAndSwap(true, false) {
		return nil, errors.New("dropped by the test")
	}
	return d.Store.RunLogs(ctx, runID, after, limit)
}

// pageLines are the run page's log lines: seq, stream marker and text.
type pageLine struct {
	Seq  int64  `json:"seq"`
	Time string `json:"time"`
	Mark string `json:"mark"`
	Err  bool   `json:"err"`
	Text string `json:"text"`
}

const pageLinesJS = `[...document.querySelectorAll("#run-log .line[data-seq]")].map(d => ({
	seq: +d.dataset.seq, time: d.querySelector("time").textContent, err: d.classList.contains("stderr"),
	mark: (d.querySelector(".mark") || {}).textContent || "", text: d.querySelector(".text").textContent}))`

// TestBrowserRunPageFollowsLiveLogs is the run page of a job that is
// still running: lines the worker stores appear while the API says the
// run is running, without a reload; stderr is marked; a dropped stream
// is taken up again from the last line seen; the end shows the final
// status, rows and exit code. Without JavaScript the page shows the
// backlog.
func TestBrowserRunPageFollowsLiveLogs(t *testing.T) {
	var ds *droppingStore
	tm := newTeam(t, func(c *Config) { ds = &droppingStore{Store: c.Store}; c.Store = ds })
	ctx, st := context.Background(), tm.server.cfg.Store
	run := richWorkspace(t, tm)
	defer func() { _ = st.FinishRun(ctx, run.ID, store.RunFailed, nil, "test over", time.Now().UTC()) }()
	backlog, err := st.RunLogs(ctx, run.ID, 0, 100)
	if err != nil || len(backlog) != 4 {
		t.Fatalf("backlog: %v %d", err, len(backlog))
	}
	seq := backlog[len(backlog)-1].Seq
	appendLine := func(stream, line string) {
		t.Helper()
		seq++
		if err := st.AppendRunLogs(ctx, run.ID, []store.LogLine{{Seq: seq, At: time.Now().UTC(), Stream: stream, Line: line}}); err != nil {
			t.Fatal(err)
		}
	}
	apiStatus := func() string {
		t.Helper()
		code, out := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/runs/"+run.ID, tm.tokens["viewer"], "")
		if code != http.StatusOK {
			t.Fatalf("run: %d %v", code, out)
		}
		return out["status"].(string)
	}
	b := browsertest.Start(t, 0)
	tab := b.Tab()
	signIn(tab, tm.ts, "ann@acme.test", "pw-ann-123")
	runURL := tm.ts + RunPagePath(tm.analytics, run.ID)

	// Without JavaScript: the backlog, and word that the page reloads.
	still := b.Tab()
	still.DisableScripts()
	open(still, runURL)
	if n := browsertest.Run(still, "lines without JavaScript", chromedp.Evaluate[int](`document.querySelectorAll("#run-log .line[data-seq]").length`)); n != len(backlog) {
		t.Errorf("without JavaScript the page shows %d lines, want the backlog's %d", n, len(backlog))
	}
	if got := still.Text(`#run-live`); !strings.Contains(got, "reloads every 5 s") {
		t.Errorf("without JavaScript: %q", got)
	}

	open(tab, runURL)
	tab.WaitFor("the script follows", `document.getElementById("run-live").textContent.startsWith("Following the run")`, 10*time.Second)
	var lines []pageLine
	readLines := func() {
		t.Helper()
		lines = browsertest.Run(tab, "read the log", chromedp.Evaluate[[]pageLine](pageLinesJS))
	}
	readLines()
	if len(lines) != 4 || lines[2].Mark != "stderr" || !lines[2].Err || lines[1].Err || lines[0].Text != backlog[0].Line {
		t.Fatalf("backlog on the page: %+v", lines)
	}
	// A mark that a reload would wipe out.
	tab.Do("mark the page", chromedp.Evaluate[chromedp.Void](`window.dlthubNotReloaded = true`))

	// Lines the job prints now appear while the run is running.
	appendLine("stdout", "Extracting issues (page 2/3)")
	appendLine("stderr", `WARNING: api.github.com answered <html><img src=x onerror="console.error('xss')"></html>, retrying`)
	tab.WaitFor("live lines", fmt.Sprintf(`document.querySelector('#run-log .line[data-seq="%d"]')`, seq), 10*time.Second)
	if s := apiStatus(); s != store.RunRunning {
		t.Fatalf("the API says %s: the lines did not arrive while the run ran", s)
	}
	readLines()
	if len(lines) != 6 {
		t.Fatalf("lines after two live ones: %+v", lines)
	}
	live := lines[4:]
	if live[0].Text != "Extracting issues (page 2/3)" || live[0].Err || live[0].Mark != "" {
		t.Errorf("live stdout line: %+v", live[0])
	}
	if live[1].Text != `WARNING: api.github.com answered <html><img src=x onerror="console.error('xss')"></html>, retrying` || !live[1].Err || live[1].Mark != "stderr" {
		t.Errorf("live stderr line (shown as text, marked): %+v", live[1])
	}
	for _, l := range lines {
		if !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(l.Time) {
			t.Errorf("line %d has time %q", l.Seq, l.Time)
		}
	}
	if imgs := browsertest.Run(tab, "markup in lines", chromedp.Evaluate[int](`document.querySelectorAll("#run-log img").length`)); imgs != 0 {
		t.Error("a log line became markup")
	}
	if !browsertest.Run(tab, "no reload", chromedp.Evaluate[bool](`window.dlthubNotReloaded === true`)) {
		t.Error("the page reloaded to show the lines")
	}

	// The stream drops (the server's follower fails): the page takes it
	// up again after the last line it has, without repeats.
	ds.drop.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for ds.drop.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ds.drop.Load() {
		t.Fatal("the server's follower never read the log again")
	}
	appendLine("stdout", "Extracting issues (page 3/3)")
	tab.WaitFor("a line after reconnecting", fmt.Sprintf(`document.querySelector('#run-log .line[data-seq="%d"]')`, seq), 15*time.Second)
	readLines()
	for i, l := range lines {
		if l.Seq != int64(i+1) {
			t.Fatalf("lines after reconnecting, repeated or missing: %+v", lines)
		}
	}

	// The run ends: the page shows the final status, the rows and the
	// exit code, and stops following.
	appendLine("stdout", "Loaded 3 tables to duckdb in 1.9 s")
	if err := st.SetRunTableRows(ctx, run.ID, map[string]int64{"issues": 181, "pull_requests": 58, "comments": 802}); err != nil {
		t.Fatal(err)
	}
	exit := 0
	if err := st.FinishRun(ctx, run.ID, store.RunCompleted, &exit, "", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	tab.WaitFor("the end of the run", `document.getElementById("run-status").textContent === "completed"`, 10*time.Second)
	if got := tab.Text(`#run-live`); got != "The run ended: completed (exit code 0)." {
		t.Errorf("end of the run: %q", got)
	}
	rows := browsertest.Run(tab, "rows", chromedp.Evaluate[string](`document.getElementById("run-tables").innerText`))
	if !strings.Contains(rows, "comments\t802") || !strings.Contains(rows, "issues\t181") {
		t.Errorf("rows loaded after the end: %q", rows)
	}
	if got := tab.Text(`#run-finished`); !strings.HasPrefix(got, "finished ") {
		t.Errorf("finished: %q", got)
	}
	readLines()
	if len(lines) != int(seq) || lines[len(lines)-1].Text != "Loaded 3 tables to duckdb in 1.9 s" {
		t.Errorf("last lines: %+v", lines)
	}
	if class := browsertest.Run(tab, "status class", chromedp.Evaluate[string](`document.getElementById("run-status").className`)); class != "status status-completed" {
		t.Errorf("status class %q", class)
	}
	tab.Screenshot("run", "")

	// A run that was pending when its page opened: its first line shows
	// it started (the page reads the run's JSON with the session cookie).
	ann := mustUser(t, st, "ann@acme.test")
	pending, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.transform.daily", Trigger: "manual:jobs.transform.daily", Profile: "prod", DeploymentVersion: 3, CreatedBy: ann})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.FinishRun(ctx, pending.ID, store.RunFailed, nil, "test over", time.Now().UTC()) }()
	waiting := b.Tab()
	open(waiting, tm.ts+RunPagePath(tm.analytics, pending.ID))
	waiting.WaitFor("the script follows", `document.getElementById("run-live").textContent.startsWith("Following the run")`, 10*time.Second)
	if got := waiting.Text(`#run-status`); got != store.RunPending {
		t.Fatalf("new run's status %q", got)
	}
	if got := waiting.Text(`#run-log`); got != "No lines yet." {
		t.Errorf("empty log: %q", got)
	}
	if c, err := st.ClaimRun(ctx, "test-worker", time.Now()); err != nil || c.ID != pending.ID {
		t.Fatalf("claim: %v %v", c.ID, err)
	}
	if err := st.StartRun(ctx, pending.ID, nil, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendRunLogs(ctx, pending.ID, []store.LogLine{{Seq: 1, At: time.Now().UTC(), Stream: "stdout", Line: "rebuilding models"}}); err != nil {
		t.Fatal(err)
	}
	waiting.WaitFor("the status after the first line", `document.getElementById("run-status").textContent === "running"`, 10*time.Second)
	if got := waiting.Text(`#run-log`); !strings.HasSuffix(got, "rebuilding models") || strings.Contains(got, "No lines yet.") {
		t.Errorf("log after the first line: %q", got)
	}

	// Meanwhile the page without JavaScript reloaded itself: it shows the
	// lines and the end too.
	deadline = time.Now().Add(10 * time.Second)
	for {
		n, err := chromedp.Run(still.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#run-log .line[data-seq]").length`))
		if err == nil && n == int(seq) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page without JavaScript shows %d lines (%v), want %d after its reloads", n, err, seq)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := still.Text(`#run-status`); got != store.RunCompleted {
		t.Errorf("without JavaScript, after reloading: %q", got)
	}
}

func TestBrowserAPIKeys(t *testing.T) {
	tm := newTeam(t)
	tab := browsertest.Start(t, 0).Tab()
	signIn(tab, tm.ts, "ann@acme.test", "pw-ann-123")
	open(tab, tm.ts+"/api-keys")
	tab.Do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "ci"),
		chromedp.SetValue(chromedp.CSS(`select[name=workspace_id]`), tm.analytics),
		chromedp.SetValue(chromedp.CSS(`select[name=role]`), store.RoleViewer))
	if code := submit(tab, chromedp.CSS(`form[action="/api-keys"] button`)); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	key := tab.Text(`main p code`)
	if !strings.HasPrefix(key, "dlt_") {
		t.Fatalf("the key shown once: %q", key)
	}
	if code, out := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, key, ""); code != http.StatusOK || out["role"] != store.RoleViewer {
		t.Errorf("the new key: %d %v", code, out)
	}
	row := `//tr[td[1]="ci"]`
	if got := browsertest.Run(tab, "the key's row", chromedp.Text(row, chromedp.NodeVisible)); !strings.Contains(got, "acme/analytics (viewer)") || !strings.Contains(got, "active") {
		t.Errorf("row of the new key: %q", got)
	}
	// Revoke it from the page: it is listed as revoked and stops working.
	if code := submit(tab, row+`//button`); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if got := browsertest.Run(tab, "the key's row", chromedp.Text(row, chromedp.NodeVisible)); !strings.Contains(got, "revoked") {
		t.Errorf("row after revoking: %q", got)
	}
	if strings.Contains(browsertest.Run(tab, "page", chromedp.Evaluate[string](`document.body.innerText`)), key) {
		t.Error("the key is shown again")
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, key, ""); code != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", code)
	}
}

// TestBrowserAppLink publishes an app and opens it the two ways people
// do: a member from the workspace page (through the grant on the apps
// origin) and a visitor with the public link, in a browser that never
// signed in.
func TestBrowserAppLink(t *testing.T) {
	tm := newTeam(t)
	const ref = "jobs.apps.hello"
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/app.js") {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = io.WriteString(w, `document.getElementById("said").textContent = "script ran";`)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><html><head><title>hello</title><link rel="icon" href="data:,"></head><body><h1 id="app">Hello from the app</h1>
<p id="user">%s</p><p id="said"></p><script src="app.js"></script></body></html>`, r.Header.Get("X-Dlthub-User"))
	}))
	t.Cleanup(app.Close)
	runningApp(t, tm, ref, app)
	code, out := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/jobs/"+ref+"/publish", tm.tokens["developer"], "")
	link, _ := out["url"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(link, tm.server.cfg.AppsURL+"/p/") {
		t.Fatalf("publish: %d %v", code, out)
	}

	b := browsertest.Start(t, 0)
	member := b.Tab()
	signIn(member, tm.ts, "ann@acme.test", "pw-ann-123")
	open(member, tm.ts+WorkspacePagePath(tm.analytics))
	member.Do("open the app from the workspace page", chromedp.Click(chromedp.CSS(`a[href$="`+AppURLPath(tm.analytics, ref)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#app`)))
	member.WaitFor("the app's script", `document.getElementById("said").textContent === "script ran"`, 5*time.Second)
	if who := member.Text(`#user`); who != "ann@acme.test" {
		t.Errorf("the app sees the member as %q", who)
	}
	if loc := browsertest.Run(member, "location", chromedp.Location()); !strings.HasPrefix(loc, tm.server.cfg.AppsURL+AppURLPath(tm.analytics, ref)) {
		t.Errorf("the app opened at %s, not on the apps origin", loc)
	}

	visitor := b.Incognito()
	open(visitor, link)
	visitor.WaitFor("the app's script", `document.getElementById("said").textContent === "script ran"`, 5*time.Second)
	if got, who := visitor.Text(`#app`), visitor.Text(`#user`); got != "Hello from the app" || who != "public" {
		t.Errorf("public link: %q as %q", got, who)
	}
	// Withdrawn, the link says so.
	if code, _ := call(t, http.MethodDelete, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/jobs/"+ref+"/publish", tm.tokens["developer"], ""); code != http.StatusOK {
		t.Fatalf("unpublish: %d", code)
	}
	late := b.Incognito()
	late.Expect(http.StatusNotFound, strings.TrimPrefix(link, tm.server.cfg.AppsURL))
	if code := open(late, link); code != http.StatusNotFound || late.Text(`h1`) != "Link not valid" {
		t.Errorf("withdrawn link: %d", code)
	}
}
