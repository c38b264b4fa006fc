package scheduler_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/scheduler"
	"github.com/dlthub/dlthub/internal/store"
)

type fixture struct {
	st   store.Store
	ws   string
	user string
	now  time.Time
	s    *scheduler.Scheduler
}

func newFixture(t *testing.T, manifest string, deployedAt time.Time) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	u, _ := st.CreateUser(ctx, store.User{Email: "ann@x"})
	org, _ := st.CreateOrg(ctx, "acme", u.ID)
	ws, _ := st.CreateWorkspace(ctx, org.ID, "a")
	f := &fixture{st: st, ws: ws.ID, user: u.ID, now: deployedAt}
	f.s = scheduler.New(scheduler.Config{Store: st, Now: func() time.Time { return f.now }})
	if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: ws.ID, ContentHash: "h", BlobKey: "k", CreatedBy: u.ID}); err != nil {
		t.Fatal(err)
	}
	f.reconcile(t, manifest, deployedAt)
	return f
}

func (f *fixture) reconcile(t *testing.T, manifest string, at time.Time) {
	t.Helper()
	m, err := jobs.Parse([]byte(manifest), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	var js []store.Job
	for _, x := range m.Expand().Jobs {
		spec, _ := json.Marshal(x)
		js = append(js, store.Job{Ref: x.JobRef, Hash: x.Hash, Spec: string(spec)})
	}
	if _, err := f.st.ReconcileJobs(context.Background(), f.ws, js, at); err != nil {
		t.Fatal(err)
	}
}

// tick moves the clock to at, ticks, and returns the runs queued, as
// "job trigger [start, end)" lines.
func (f *fixture) tick(t *testing.T, at time.Time) []string {
	t.Helper()
	f.now = at
	n, err := f.s.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, _ := f.st.Runs(context.Background(), f.ws, "", store.Page{})
	var out []string
	for _, r := range all {
		if r.CreatedBy != scheduler.CreatedBy || !r.CreatedAt.Equal(at) {
			continue // not from this tick
		}
		s := r.JobRef + " " + r.Trigger
		if r.IntervalStart != nil {
			s += " [" + r.IntervalStart.Format("01-02 15:04") + ", " + r.IntervalEnd.Format("01-02 15:04") + ")"
		}
		if r.Profile != "prod" || r.DeploymentVersion != 1 {
			t.Errorf("run %+v", r)
		}
		out = append(out, s)
	}
	if len(out) != n {
		t.Errorf("tick says %d, store has %d new", n, len(out))
	}
	sort.Strings(out)
	return out
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestTimedTriggersQueueEachClosedWindowOnce(t *testing.T) {
	f := newFixture(t, `
[jobs.ingest.hourly]
command = ["true"]
trigger = ["every:1h"]

[jobs.ingest.nightly]
command = ["true"]
trigger = ["0 3 * * *"]
`, at("2026-12-01 10:20"))
	if got := f.tick(t, at("2026-12-01 11:00")); len(got) != 0 {
		t.Errorf("before the first window closes: %v", got)
	}
	// every: first run one period after deploy.
	if got := strings.Join(f.tick(t, at("2026-12-01 11:21")), "; "); got != "jobs.ingest.hourly every:1h [12-01 10:20, 12-01 11:20)" {
		t.Errorf("first hour: %s", got)
	}
	if got := f.tick(t, at("2026-12-01 11:30")); len(got) != 0 {
		t.Errorf("queued twice: %v", got)
	}
	// The scheduler was down overnight: each missed window is queued, and
	// the nightly window that closed at 03:00 too.
	got := f.tick(t, at("2026-12-02 03:05"))
	if len(got) != 16 || got[0] != "jobs.ingest.hourly every:1h [12-01 11:20, 12-01 12:20)" ||
		got[14] != "jobs.ingest.hourly every:1h [12-02 01:20, 12-02 02:20)" ||
		got[15] != "jobs.ingest.nightly schedule:0 3 * * * [12-01 03:00, 12-02 03:00)" {
		t.Errorf("backfill: %d\n%s", len(got), strings.Join(got, "\n"))
	}
	// Archived jobs are left alone.
	if _, err := f.st.ReconcileJobs(context.Background(), f.ws, nil, at("2026-12-02 04:00")); err != nil {
		t.Fatal(err)
	}
	if got := f.tick(t, at("2026-12-03 04:00")); len(got) != 0 {
		t.Errorf("archived: %v", got)
	}
}

func TestEventTriggersFollowUpstreamRuns(t *testing.T) {
	f := newFixture(t, `
[jobs.ingest.up]
command = ["true"]

[jobs.transform.on_success]
command = ["true"]
trigger = ["job.success:jobs.ingest.up"]

[jobs.alert.on_fail]
command = ["true"]
trigger = ["job.fail:jobs.ingest.up"]

[jobs.ops.at_noon]
command = ["true"]
trigger = ["once:2026-12-01T12:00:00Z"]

[jobs.ops.each_deploy]
command = ["true"]
trigger = ["deployment:"]
`, at("2026-12-01 10:00"))
	ctx := context.Background()
	if got := strings.Join(f.tick(t, at("2026-12-01 10:01")), "; "); got != "jobs.ops.each_deploy deployment:" {
		t.Errorf("first tick: %s", got)
	}
	// Upstream runs end: one completes (with a window), one fails.
	finish := func(status string) string {
		s, e := at("2026-12-01 09:00"), at("2026-12-01 10:00")
		r, err := f.st.CreateRun(ctx, store.Run{WorkspaceID: f.ws, JobRef: "jobs.ingest.up", Trigger: "manual:jobs.ingest.up", Profile: "prod", DeploymentVersion: 1,
			CreatedBy: f.user, CreatedAt: f.now, IntervalStart: &s, IntervalEnd: &e})
		if err != nil {
			t.Fatal(err)
		}
		code := 0
		if err := f.st.FinishRun(ctx, r.ID, status, &code, "", f.now); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	ok1 := finish(store.RunCompleted)
	fail1 := finish(store.RunFailed)
	got := f.tick(t, at("2026-12-01 10:30"))
	if strings.Join(got, "; ") != "jobs.alert.on_fail job.fail:jobs.ingest.up [12-01 09:00, 12-01 10:00); jobs.transform.on_success job.success:jobs.ingest.up [12-01 09:00, 12-01 10:00)" {
		t.Errorf("after upstream runs: %v", got)
	}
	runs, _ := f.st.Runs(ctx, f.ws, "jobs.transform.on_success", store.Page{})
	if len(runs) != 1 || runs[0].CauseRunID != ok1 {
		t.Errorf("cause: %+v", runs)
	}
	runs, _ = f.st.Runs(ctx, f.ws, "jobs.alert.on_fail", store.Page{})
	if len(runs) != 1 || runs[0].CauseRunID != fail1 {
		t.Errorf("fail cause: %+v", runs)
	}
	if got := f.tick(t, at("2026-12-01 11:00")); len(got) != 0 {
		t.Errorf("again: %v", got)
	}
	if got := strings.Join(f.tick(t, at("2026-12-01 12:00")), "; "); got != "jobs.ops.at_noon once:2026-12-01T12:00:00Z" {
		t.Errorf("once: %s", got)
	}
	if got := f.tick(t, at("2026-12-02 12:00")); len(got) != 0 {
		t.Errorf("once twice: %v", got)
	}
	// A new deployment runs the deployment: job again.
	if _, err := f.st.CreateDeployment(ctx, store.Deployment{WorkspaceID: f.ws, ContentHash: "h2", BlobKey: "k2", CreatedBy: f.user}); err != nil {
		t.Fatal(err)
	}
	f.now = at("2026-12-02 13:00")
	if n, _ := f.s.Tick(ctx); n != 1 {
		t.Errorf("new deployment: %d runs", n)
	}
}

func TestRefreshAlwaysRunsStartOver(t *testing.T) {
	f := newFixture(t, "[jobs.ingest.full]\ncommand = [\"true\"]\ntrigger = [\"every:1h\"]\nrefresh = \"always\"\n", at("2026-12-01 10:00"))
	f.now = at("2026-12-01 11:30")
	if n, _ := f.s.Tick(context.Background()); n != 1 {
		t.Fatalf("%d runs", n)
	}
	runs, _ := f.st.Runs(context.Background(), f.ws, "jobs.ingest.full", store.Page{})
	if len(runs) != 1 || !runs[0].Refresh {
		t.Errorf("refresh = always: %+v", runs)
	}
}

func TestTwoSchedulersQueueOnce(t *testing.T) {
	f := newFixture(t, "[jobs.ingest.hourly]\ncommand = [\"true\"]\ntrigger = [\"every:1h\"]\n", at("2026-12-01 10:00"))
	other := scheduler.New(scheduler.Config{Store: f.st, Now: func() time.Time { return at("2026-12-01 15:30") }})
	f.now = at("2026-12-01 15:30")
	a, _ := f.s.Tick(context.Background())
	b, _ := other.Tick(context.Background())
	if a+b != 5 {
		t.Errorf("queued %d + %d, want 5 in all", a, b)
	}
}

func TestCleanupDeletesOldLogsOnly(t *testing.T) {
	f := newFixture(t, "[jobs.ingest.a]\ncommand = [\"true\"]\n", at("2026-12-01 10:00"))
	ctx := context.Background()
	mk := func(ended time.Time) string {
		r, _ := f.st.CreateRun(ctx, store.Run{WorkspaceID: f.ws, JobRef: "jobs.ingest.a", Trigger: "manual:jobs.ingest.a", Profile: "prod", DeploymentVersion: 1, CreatedBy: f.user})
		_ = f.st.AppendRunLogs(ctx, r.ID, []store.LogLine{{Seq: 1, At: ended, Stream: "stdout", Line: "x"}})
		code := 0
		_ = f.st.FinishRun(ctx, r.ID, store.RunCompleted, &code, "", ended)
		return r.ID
	}
	old, recent := mk(at("2026-08-01 10:00")), mk(at("2026-11-30 10:00"))
	f.now = at("2026-12-01 10:00")
	s := scheduler.New(scheduler.Config{Store: f.st, Now: func() time.Time { return f.now }, KeepLogs: 90 * 24 * time.Hour})
	if n, err := s.Cleanup(ctx); err != nil || n != 1 {
		t.Errorf("deleted %d %v", n, err)
	}
	if ls, _ := f.st.RunLogs(ctx, old, 0, 0); len(ls) != 0 {
		t.Error("old log kept")
	}
	if ls, _ := f.st.RunLogs(ctx, recent, 0, 0); len(ls) != 1 {
		t.Error("recent log deleted")
	}
	if r, err := f.st.RunByID(ctx, old); err != nil || r.Status != store.RunCompleted {
		t.Errorf("the run itself must stay: %+v %v", r, err)
	}
	if n, _ := scheduler.New(scheduler.Config{Store: f.st}).Cleanup(ctx); n != 0 {
		t.Errorf("KeepLogs 0 deleted %d", n)
	}
}

// With no worker left alive, the scheduler fails a run whose heartbeats
// stopped (it does not stay "running" forever) and queues its retry.
func TestSchedulerReapsRunsOfDeadWorkers(t *testing.T) {
	f := newFixture(t, "[jobs.ingest.up]\ncommand = [\"true\"]\nexecute = { retries = 1 }\n", at("2026-12-01 10:00"))
	ctx := context.Background()
	r, err := f.st.CreateRun(ctx, store.Run{WorkspaceID: f.ws, JobRef: "jobs.ingest.up", Trigger: "manual:jobs.ingest.up", Profile: "prod",
		DeploymentVersion: 1, CreatedBy: f.user, CreatedAt: f.now, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := f.st.ClaimRun(ctx, "w1", f.now)
	if err != nil || claimed.ID != r.ID {
		t.Fatalf("claim: %v %+v", err, claimed)
	}
	if err := f.st.StartRun(ctx, r.ID, nil, nil, f.now); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(10 * time.Second) // still within the heartbeat allowance
	if n := f.s.Reap(ctx); n != 0 {
		t.Errorf("reaped a live run: %d", n)
	}
	if got, _ := f.st.RunByID(ctx, r.ID); got.Status != store.RunRunning {
		t.Fatalf("status %s", got.Status)
	}
	f.now = f.now.Add(20 * time.Second)
	if n := f.s.Reap(ctx); n != 1 {
		t.Errorf("retries queued: %d", n)
	}
	got, _ := f.st.RunByID(ctx, r.ID)
	if got.Status != store.RunFailed || !strings.Contains(got.Reason, "stopped sending heartbeats") {
		t.Errorf("dead worker's run: %s %q", got.Status, got.Reason)
	}
	all, _ := f.st.Runs(ctx, f.ws, "jobs.ingest.up", store.Page{})
	if len(all) != 2 || all[0].Attempt != 2 || all[0].Status != store.RunPending {
		t.Errorf("retry: %+v", all)
	}
	if n := f.s.Reap(ctx); n != 0 {
		t.Errorf("reaped twice: %d", n)
	}
}
