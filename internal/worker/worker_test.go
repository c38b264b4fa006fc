package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

// TestMain doubles as the app of the interactive-job test: run with
// WORKER_TEST_APP=1 (a workspace variable) it serves HTTP at PORT under
// DLTHUB_BASE_PATH, as an interactive job must.
func TestMain(m *testing.M) {
	if os.Getenv("WORKER_TEST_APP") == "1" {
		base := os.Getenv("DLTHUB_BASE_PATH")
		http.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "app %s at %s profile %s", os.Getenv("DLTHUB_JOB_REF"), r.URL.Path, os.Getenv("WORKSPACE__PROFILE"))
		})
		fmt.Println("serving on", os.Getenv("PORT"))
		_ = http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// plane is a store, a bucket and a keeper with one deployed workspace.
type plane struct {
	st     store.Store
	bucket *blob.Bucket
	keeper *secrets.Keeper
	ws     string
	user   string
	db     string // the SQLite file
}

func newPlane(t *testing.T, files map[string]string, manifest string, cfg []artifact.ConfigFile) *plane {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "db")
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bucket, err := fileblob.OpenBucket(t.TempDir(), &fileblob.Options{NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	key, _ := localsecrets.NewRandomKey()
	p := &plane{st: st, bucket: bucket, keeper: localsecrets.NewKeeper(key), db: db}
	u, _ := st.CreateUser(ctx, store.User{Email: "ann@x"})
	org, _ := st.CreateOrg(ctx, "acme", u.ID)
	ws, _ := st.CreateWorkspace(ctx, org.ID, "a")
	p.ws, p.user = ws.ID, u.ID
	p.deploy(t, files, manifest, cfg)
	return p
}

// ring seals secrets as the API does: with the workspace's data key.
func (p *plane) ring() *keys.Ring { return keys.NewRing(p.keeper, p.st) }

// deploy makes the next code and configuration versions and reconciles the
// manifest's jobs, as `dlthub deploy` does through the API.
func (p *plane) deploy(t *testing.T, files map[string]string, manifest string, cfg []artifact.ConfigFile) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	pkg, err := deploy.Scan(root, deploy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = pkg.WriteTarGz(&buf)
	key := artifact.PackageKey(p.ws, pkg.Hash)
	if err := p.bucket.WriteAll(ctx, key, buf.Bytes(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.st.CreateDeployment(ctx, store.Deployment{WorkspaceID: p.ws, ContentHash: pkg.Hash, BlobKey: key, CreatedBy: p.user}); err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		id := store.NewID()
		ckey := artifact.ConfigurationKey(p.ws, id)
		if err := artifact.WriteConfiguration(ctx, p.bucket, p.ring(), p.ws, ckey, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := p.st.CreateConfiguration(ctx, store.Configuration{ID: id, WorkspaceID: p.ws, ContentHash: id, BlobKey: ckey, CreatedBy: p.user}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := jobs.Parse([]byte(manifest), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	var js []store.Job
	for _, x := range m.Expand().Jobs {
		spec, _ := json.Marshal(x)
		js = append(js, store.Job{Ref: x.JobRef, Hash: x.Hash, Spec: string(spec)})
	}
	if _, err := p.st.ReconcileJobs(ctx, p.ws, js, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
}

// run queues a manual run of job with the active versions.
func (p *plane) run(t *testing.T, job string) store.Run {
	t.Helper()
	ctx := context.Background()
	ds, _ := p.st.Deployments(ctx, p.ws, store.Page{Limit: 1})
	cv := 0
	if cs, _ := p.st.Configurations(ctx, p.ws, store.Page{Limit: 1}); len(cs) > 0 {
		cv = cs[0].Version
	}
	r, err := p.st.CreateRun(ctx, store.Run{WorkspaceID: p.ws, JobRef: job, Trigger: "manual:" + job, Profile: "prod",
		DeploymentVersion: ds[0].Version, ConfigurationVersion: cv, CreatedBy: p.user})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (p *plane) startWorker(t *testing.T, mods ...func(*worker.Config)) (*worker.Worker, context.CancelFunc, chan struct{}) {
	t.Helper()
	// Sandboxed wherever bubblewrap is installed (testSandbox).
	cfg := worker.Config{Store: p.st, Blob: p.bucket, Keeper: p.keeper, Name: "test-worker", Dir: t.TempDir(), Poll: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond, Sandbox: testSandbox(t)}
	for _, m := range mods {
		m(&cfg)
	}
	w := worker.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, cancel, done
}

// wait polls until the run has ended (or the test times out).
func (p *plane) wait(t *testing.T, id string, until func(store.Run) bool) store.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r, err := p.st.RunByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if until(r) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	r, _ := p.st.RunByID(context.Background(), id)
	t.Fatalf("run %s stuck in %s (%s)", id, r.Status, r.Reason)
	return r
}

func done(r store.Run) bool { return r.Done() }

func (p *plane) logs(t *testing.T, id string) string {
	t.Helper()
	ls, err := p.st.RunLogs(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, l := range ls {
		if l.Seq != int64(i+1) {
			t.Errorf("log seq %d at %d", l.Seq, i)
		}
		fmt.Fprintf(&b, "%s: %s\n", l.Stream, l.Line)
	}
	return b.String()
}

const manifest = `
[jobs.ingest.hello]
command = ["./hello.sh"]

[jobs.ingest.fail]
command = ["sh", "-c", "echo about to fail; exit 3"]

[jobs.ingest.slow]
command = ["sh", "-c", "echo started; sleep 30"]
execute = { timeout = "1s", grace_period = "1s" }

[jobs.ingest.forever]
command = ["sh", "-c", "echo started; sleep 30"]
`

const hello = `#!/bin/sh
echo "hello from $DLTHUB_JOB_REF run $DLTHUB_RUN_ID"
echo "profile=$WORKSPACE__PROFILE trigger=$DLTHUB_TRIGGER answer=$JOBS__INGEST__HELLO__ANSWER"
echo "token is $(sed -n 's/^token = "\(.*\)"/\1/p' .dlt/prod.secrets.toml)"
echo "db=${DLTHUB_DATABASE_URL:-unset}"
echo "level=$LOG_LEVEL api=$API_KEY"
echo oops >&2
printf 'no newline at the end'
`

var prodConfig = []artifact.ConfigFile{
	{Name: "config.toml", Content: "[jobs.ingest.hello]\nanswer = 42\n"},
	{Name: "prod.secrets.toml", Content: "token = \"s3cr3t-token-value\"\n"},
}

func TestRunsACommandJobWithTheLaunchContract(t *testing.T) {
	t.Setenv("DLTHUB_DATABASE_URL", "postgres://server:password@db/dlthub")
	p := newPlane(t, map[string]string{"hello.sh": hello, "dlthub.toml": manifest}, manifest, prodConfig)
	ctx := context.Background()
	sealed, _ := p.ring().SealValue(ctx, p.ws, "api-key-secret-42")
	for _, v := range []store.Variable{
		{WorkspaceID: p.ws, Name: "LOG_LEVEL", Value: "INFO"},
		{WorkspaceID: p.ws, Profile: "prod", Name: "LOG_LEVEL", Value: "WARN"}, // the run's profile wins
		{WorkspaceID: p.ws, Profile: "dev", Name: "LOG_LEVEL", Value: "DEBUG"},
		{WorkspaceID: p.ws, Name: "API_KEY", Secret: true, Value: sealed},
	} {
		v.UpdatedBy = p.user
		if err := p.st.SetVariable(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	r := p.run(t, "jobs.ingest.hello")
	p.startWorker(t)
	got := p.wait(t, r.ID, done)
	if got.Status != store.RunCompleted || got.ExitCode == nil || *got.ExitCode != 0 || got.Worker != "test-worker" || got.FinishedAt == nil {
		t.Fatalf("run: %+v", got)
	}
	logs := p.logs(t, r.ID)
	for _, want := range []string{
		"stdout: hello from jobs.ingest.hello run " + r.ID,
		"stdout: profile=prod trigger=manual:jobs.ingest.hello answer=42",
		"stdout: token is ****", // the secret is masked
		"stdout: db=unset",      // the server's environment stays with the server
		"stdout: level=WARN api=****",
		"stderr: oops",
		"stdout: no newline at the end",
	} {
		if !strings.Contains(logs, want+"\n") {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "s3cr3t") || strings.Contains(logs, "api-key-secret") {
		t.Errorf("secret in logs:\n%s", logs)
	}
}

func TestFailuresTimeoutsAndCancellation(t *testing.T) {
	p := newPlane(t, map[string]string{"hello.sh": hello}, manifest, nil)
	fail := p.run(t, "jobs.ingest.fail")
	slow := p.run(t, "jobs.ingest.slow")
	forever := p.run(t, "jobs.ingest.forever")
	missing := p.run(t, "jobs.ingest.nope")
	p.startWorker(t, func(c *worker.Config) { c.Slots = 4 })
	if got := p.wait(t, fail.ID, done); got.Status != store.RunFailed || *got.ExitCode != 3 || !strings.Contains(got.Reason, "exit") {
		t.Errorf("fail: %+v", got)
	}
	if got := p.wait(t, slow.ID, done); got.Status != store.RunFailed || !strings.Contains(got.Reason, "timed out") {
		t.Errorf("slow: %s %s", got.Status, got.Reason)
	}
	if got := p.wait(t, missing.ID, done); got.Status != store.RunFailed || !strings.Contains(got.Reason, "jobs.ingest.nope is not deployed") {
		t.Errorf("missing: %s %s", got.Status, got.Reason)
	}
	p.wait(t, forever.ID, func(r store.Run) bool { return r.Status == store.RunRunning })
	if st, err := p.st.CancelRun(context.Background(), forever.ID, time.Now()); err != nil || st != store.RunCancelling {
		t.Fatalf("cancel: %s %v", st, err)
	}
	if got := p.wait(t, forever.ID, done); got.Status != store.RunCancelled || !strings.HasPrefix(got.Reason, "cancelled: ") || strings.Count(got.Reason, "cancelled") != 1 {
		t.Errorf("cancelled: %s %s", got.Status, got.Reason)
	}
	if logs := p.logs(t, forever.ID); !strings.Contains(logs, "stdout: started") {
		t.Errorf("logs before cancel: %s", logs)
	}
}

func TestStoppingWorkerHandsRunsBackAndDeadOnesAreReaped(t *testing.T) {
	p := newPlane(t, map[string]string{"hello.sh": hello}, manifest, nil)
	r := p.run(t, "jobs.ingest.forever")
	_, stop, stopped := p.startWorker(t)
	p.wait(t, r.ID, func(r store.Run) bool { return r.Status == store.RunRunning })
	stop()
	<-stopped
	got, _ := p.st.RunByID(context.Background(), r.ID)
	if got.Status != store.RunPending || got.Worker != "" {
		t.Fatalf("after stop: %+v", got)
	}
	// A worker that dies without a word: another one notices the silence.
	claimed, err := p.st.ClaimRun(context.Background(), "dead-worker", time.Now().Add(-time.Hour))
	if err != nil || claimed.ID != r.ID {
		t.Fatalf("claim: %v", err)
	}
	p.startWorker(t, func(c *worker.Config) { c.StaleAfter = 200 * time.Millisecond })
	if got := p.wait(t, r.ID, done); got.Status != store.RunFailed || !strings.Contains(got.Reason, "stopped sending heartbeats") {
		t.Errorf("reaped: %s %s", got.Status, got.Reason)
	}
}

func TestInteractiveJobServesUntilIdle(t *testing.T) {
	exe, _ := os.Executable()
	app := "[jobs.apps.dash]\ntype = \"interactive\"\ncommand = [\"" + exe + "\"]\nrequire = { profile = \"access\" }\n"
	p := newPlane(t, map[string]string{"x": "x"}, app, nil)
	ctx := context.Background()
	_ = p.st.SetVariable(ctx, store.Variable{WorkspaceID: p.ws, Name: "WORKER_TEST_APP", Value: "1", UpdatedBy: p.user})
	ds, _ := p.st.Deployments(ctx, p.ws, store.Page{Limit: 1})
	r, err := p.st.CreateRun(ctx, store.Run{WorkspaceID: p.ws, JobRef: "jobs.apps.dash", Trigger: "http:", Profile: "access", DeploymentVersion: ds[0].Version, CreatedBy: p.user})
	if err != nil {
		t.Fatal(err)
	}
	// Idle time long enough that a loaded machine (CI runs packages in
	// parallel, under -race) sees the app running before it stops: with
	// 700 ms the first look at the run once came after the stop.
	const idle = 2 * time.Second
	p.startWorker(t, func(c *worker.Config) { c.AppIdle = idle })
	got := p.wait(t, r.ID, func(r store.Run) bool { return r.Address != "" || r.Done() })
	if got.Status != store.RunRunning {
		t.Fatalf("app: %+v\n%s", got, p.logs(t, r.ID))
	}
	base := jobs.AppBasePath(p.ws, "jobs.apps.dash")
	resp, err := http.Get("http://" + got.Address + base + "hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "app jobs.apps.dash at "+base+"hello profile access" {
		t.Errorf("app answered %q", body)
	}
	// Used now and then, for longer than the idle time, it stays; left
	// alone, it stops by itself.
	for range 7 {
		time.Sleep(idle / 5)
		_ = p.st.TouchRun(ctx, r.ID, time.Now())
	}
	if r2, _ := p.st.RunByID(ctx, r.ID); r2.Status != store.RunRunning {
		t.Errorf("stopped while used: %s %s", r2.Status, r2.Reason)
	}
	end := p.wait(t, r.ID, done)
	if end.Status != store.RunCompleted || !strings.Contains(end.Reason, "nobody used the app") {
		t.Errorf("idle stop: %s %s", end.Status, end.Reason)
	}
}

// A command that starts with dlthub runs the worker's own dlthub.
func TestDlthubCommandsRunThisDlthub(t *testing.T) {
	m := "[jobs.ops.me]\ncommand = [\"dlthub\", \"local\", \"show\"]\n"
	p := newPlane(t, map[string]string{"x": "x"}, m, nil)
	r := p.run(t, "jobs.ops.me")
	p.startWorker(t, func(c *worker.Config) { c.Exe = "/bin/echo" })
	if got := p.wait(t, r.ID, done); got.Status != store.RunCompleted {
		t.Fatalf("%+v", got)
	}
	if logs := p.logs(t, r.ID); logs != "stdout: local show\n" {
		t.Errorf("logs %q", logs)
	}
}

// A job with execute.retries gets its failed runs queued again, up to the
// count; each attempt knows the run before it.
func TestRetriesAreOptIn(t *testing.T) {
	m := `
[jobs.ingest.flaky]
command = ["sh", "-c", "echo try; exit 1"]
execute = { retries = 2 }

[jobs.ingest.once]
command = ["sh", "-c", "exit 1"]
`
	p := newPlane(t, map[string]string{"x": "x"}, m, nil)
	flaky := p.run(t, "jobs.ingest.flaky")
	once := p.run(t, "jobs.ingest.once")
	p.startWorker(t)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, _ := p.st.Runs(ctx, p.ws, "jobs.ingest.flaky", store.Page{})
		if len(runs) == 3 && runs[0].Done() {
			if runs[0].Attempt != 3 || runs[1].Attempt != 2 || runs[0].CauseRunID != runs[1].ID || runs[1].CauseRunID != flaky.ID || runs[0].Status != store.RunFailed {
				t.Errorf("attempts: %+v", runs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retries: %d runs", len(runs))
		}
		time.Sleep(30 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // no fourth attempt
	if runs, _ := p.st.Runs(ctx, p.ws, "jobs.ingest.flaky", store.Page{}); len(runs) != 3 {
		t.Errorf("%d runs, want 3", len(runs))
	}
	if runs, _ := p.st.Runs(ctx, p.ws, "jobs.ingest.once", store.Page{}); len(runs) != 1 || runs[0].ID != once.ID {
		t.Errorf("a job without retries was retried: %d runs", len(runs))
	}
}

// Checkouts left by a worker process that is gone are removed at start;
// those of live processes stay.
func TestLeftoverCheckoutsOfDeadWorkersGo(t *testing.T) {
	p := newPlane(t, map[string]string{"x": "x"}, "[jobs.a.b]\ncommand = [\"true\"]\n", nil)
	dir := t.TempDir()
	dead := exec.Command("true")
	_ = dead.Run()
	gone := filepath.Join(dir, fmt.Sprintf("dlthub-run-%d-abc", dead.Process.Pid))
	mine := filepath.Join(dir, fmt.Sprintf("dlthub-run-%d-xyz", os.Getpid()))
	other := filepath.Join(dir, "unrelated")
	for _, d := range []string{gone, mine, other} {
		_ = os.MkdirAll(filepath.Join(d, "sub"), 0o755)
	}
	p.startWorker(t, func(c *worker.Config) { c.Dir = dir })
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("a dead worker's checkout is still there: %v", err)
	}
	for _, d := range []string{mine, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed", d)
		}
	}
}

// Issue 11: a crashed run's checkout kept its secrets files until a worker
// next started. A running worker removes checkouts of worker processes
// that died since (sharing its Dir) as it goes.
func TestLeftoverCheckoutsGoWhileWorkersRun(t *testing.T) {
	p := newPlane(t, map[string]string{"x": "x"}, "[jobs.a.b]\ncommand = [\"true\"]\n", nil)
	dir := t.TempDir()
	p.startWorker(t, func(c *worker.Config) { c.Dir = dir; c.StaleAfter = 200 * time.Millisecond })
	time.Sleep(50 * time.Millisecond) // started, its first sweep done
	dead := exec.Command("true")
	_ = dead.Run()
	gone := filepath.Join(dir, fmt.Sprintf("dlthub-run-%d-abc", dead.Process.Pid))
	if err := os.MkdirAll(filepath.Join(gone, ".dlt"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gone, ".dlt", "prod.secrets.toml"), []byte("token = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(gone); os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("a dead worker's checkout (with secrets) is still there while a worker runs")
}

// Issue 11: a NUL in a stored variable (the API refuses them now; older
// ones stay in the store) made every later run fail to start. Such a
// variable, or one whose name no environment can carry, is left out with
// a line in the run's log, and the run goes on.
func TestUnpassableVariablesAreLeftOut(t *testing.T) {
	const job = "[jobs.a.env]\ncommand = [\"sh\", \"-c\", \"echo ok=$OK bad=${BAD:-unset}\"]\n"
	p := newPlane(t, map[string]string{"dlthub.toml": job}, job, nil)
	ctx := context.Background()
	sealed, _ := p.ring().SealValue(ctx, p.ws, "secret\x00tail")
	for _, v := range []store.Variable{
		{WorkspaceID: p.ws, Name: "OK", Value: "yes"},
		{WorkspaceID: p.ws, Name: "BAD", Value: "a\x00b"},
		{WorkspaceID: p.ws, Name: "SEALED", Secret: true, Value: sealed},
		{WorkspaceID: p.ws, Name: "NOT=A NAME", Value: "x"},
	} {
		v.UpdatedBy = p.user
		if err := p.st.SetVariable(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	r := p.run(t, "jobs.a.env")
	p.startWorker(t)
	got := p.wait(t, r.ID, done)
	logs := p.logs(t, r.ID)
	if got.Status != store.RunCompleted {
		t.Fatalf("run: %s %s\n%s", got.Status, got.Reason, logs)
	}
	for _, want := range []string{"stdout: ok=yes bad=unset", `variable "BAD" left out: its value holds a NUL`,
		"variable SEALED left out", `variable "NOT=A NAME" left out: not an environment variable name`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "tail") {
		t.Errorf("the secret's value in the log:\n%s", logs)
	}
}
