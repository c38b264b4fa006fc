// Command benchruns measures runs on the control plane's worker, with the
// real store (SQLite), blob bucket and worker, in this process:
//
//   - run_dispatch: from queueing a run of a job that does nothing to the
//     run being recorded as completed (checkout of code and configuration,
//     start, finish), against starting the same process directly.
//   - run_dispatch_sandbox: the same with each run in its sandbox
//     (bubblewrap), against run_dispatch's unsandboxed dispatch; skipped,
//     saying why, where the sandbox does not work.
//   - run_logs: a job printing -lines lines; lines stored per second from
//     queue to completion, against storing the same lines straight into
//     the store in the worker's batch size (the raw cost of keeping them).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/sandbox"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

func main() {
	lines := flag.Int("lines", 200_000, "lines the run_logs job prints")
	rounds := flag.Int("rounds", 20, "runs for run_dispatch")
	flag.Parse()
	if err := bench(*lines, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "benchruns:", err)
		os.Exit(1)
	}
}

func bench(lines, rounds int) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "dlthub-benchruns-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()
	st, err := store.OpenSQLite(ctx, filepath.Join(work, "db"))
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if err := os.MkdirAll(filepath.Join(work, "blobs"), 0o755); err != nil {
		return err
	}
	bucket, err := fileblob.OpenBucket(filepath.Join(work, "blobs"), &fileblob.Options{NoTempDir: true})
	if err != nil {
		return err
	}
	key, _ := localsecrets.NewRandomKey()
	keeper := localsecrets.NewKeeper(key)
	u, _ := st.CreateUser(ctx, store.User{Email: "bench@x"})
	org, _ := st.CreateOrg(ctx, "bench", u.ID)
	ws, _ := st.CreateWorkspace(ctx, org.ID, "bench")

	// Deploy: a small package, a configuration, two jobs.
	code := filepath.Join(work, "code")
	_ = os.MkdirAll(code, 0o755)
	_ = os.WriteFile(filepath.Join(code, "job.sh"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	pkg, err := deploy.Scan(code, deploy.Options{})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	_ = pkg.WriteTarGz(&buf)
	pkey := artifact.PackageKey(ws.ID, pkg.Hash)
	if err := bucket.WriteAll(ctx, pkey, buf.Bytes(), nil); err != nil {
		return err
	}
	if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: ws.ID, ContentHash: pkg.Hash, BlobKey: pkey, CreatedBy: u.ID}); err != nil {
		return err
	}
	ckey := artifact.ConfigurationKey(ws.ID, "c1")
	if err := artifact.WriteConfiguration(ctx, bucket, keys.NewRing(keeper, st), ws.ID, ckey, []artifact.ConfigFile{{Name: "config.toml", Content: "x = 1\n"}}); err != nil {
		return err
	}
	if _, err := st.CreateConfiguration(ctx, store.Configuration{ID: "c1", WorkspaceID: ws.ID, ContentHash: "c1", BlobKey: ckey, CreatedBy: u.ID}); err != nil {
		return err
	}
	printer := fmt.Sprintf("seq 1 %d", lines)
	m, err := jobs.Parse([]byte(fmt.Sprintf("[jobs.bench.noop]\ncommand = [\"./job.sh\"]\n\n[jobs.bench.chatty]\ncommand = [\"sh\", \"-c\", %q]\n", printer)), "dlthub.toml")
	if err != nil {
		return err
	}
	var js []store.Job
	for _, x := range m.Expand().Jobs {
		spec, _ := json.Marshal(x)
		js = append(js, store.Job{Ref: x.JobRef, Hash: x.Hash, Spec: string(spec)})
	}
	if _, err := st.ReconcileJobs(ctx, ws.ID, js, time.Now()); err != nil {
		return err
	}

	// One worker at a time claims the runs: unsandboxed, then sandboxed.
	var w *worker.Worker
	stopWorker := func() {}
	defer func() { stopWorker() }()
	startWorker := func(sb *sandbox.Sandbox) {
		stopWorker()
		w = worker.New(worker.Config{Store: st, Blob: bucket, Keeper: keeper, Dir: work, Poll: time.Second, Sandbox: sb})
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = w.Run(wctx) }()
		stopWorker = func() { stop(); <-done }
	}
	startWorker(nil)
	run := func(job string) (time.Duration, error) {
		start := time.Now()
		r, err := st.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: job, Trigger: "manual:" + job, Profile: "prod", DeploymentVersion: 1, ConfigurationVersion: 1, CreatedBy: u.ID})
		if err != nil {
			return 0, err
		}
		w.Wake()
		for {
			got, err := st.RunByID(ctx, r.ID)
			if err != nil {
				return 0, err
			}
			if got.Done() {
				if got.Status != store.RunCompleted {
					return 0, fmt.Errorf("%s: %s %s", job, got.Status, got.Reason)
				}
				return time.Since(start), nil
			}
			time.Sleep(time.Millisecond)
		}
	}
	dispatch := func() (time.Duration, error) {
		var total time.Duration
		for range rounds {
			d, err := run("jobs.bench.noop")
			if err != nil {
				return 0, err
			}
			total += d
		}
		return total, nil
	}
	total, err := dispatch()
	if err != nil {
		return err
	}
	var direct time.Duration
	for range rounds {
		s := time.Now()
		if err := exec.Command(filepath.Join(code, "job.sh")).Run(); err != nil {
			return err
		}
		direct += time.Since(s)
	}
	fmt.Printf("BENCH name=run_dispatch rounds=%d ms=%.1f baseline_ms=%.1f\n", rounds,
		float64(total.Microseconds())/1000/float64(rounds), float64(direct.Microseconds())/1000/float64(rounds))

	// The same dispatch with every run in its sandbox (DESIGN §6.7a),
	// against the unsandboxed dispatch above.
	sb, err := sandbox.New(sandbox.Config{})
	if err == nil {
		err = sb.Probe(ctx, work)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchruns: run_dispatch_sandbox skipped:", err)
	} else {
		startWorker(sb)
		boxed, err := dispatch()
		if err != nil {
			return err
		}
		fmt.Printf("BENCH name=run_dispatch_sandbox rounds=%d ms=%.1f baseline_ms=%.1f\n", rounds,
			float64(boxed.Microseconds())/1000/float64(rounds), float64(total.Microseconds())/1000/float64(rounds))
		startWorker(nil)
	}

	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	d, err := run("jobs.bench.chatty")
	if err != nil {
		return err
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	base, err := rawLogs(ctx, st, ws.ID, u.ID, lines)
	if err != nil {
		return err
	}
	stored, _ := st.RunLogs(ctx, mustLast(ctx, st, ws.ID), int64(lines-1), 10)
	if len(stored) != 1 {
		return fmt.Errorf("run_logs: the last line was not stored")
	}
	fmt.Printf("BENCH name=run_logs lines=%d lines_per_s=%.0f baseline_lines_per_s=%.0f ratio=%.3f seconds=%.2f heap_mb=%.0f\n", lines,
		float64(lines)/d.Seconds(), float64(lines)/base.Seconds(), base.Seconds()/d.Seconds(), d.Seconds(), float64(ms1.HeapInuse)/(1<<20))
	return nil
}

func mustLast(ctx context.Context, st store.Store, ws string) string {
	rs, _ := st.Runs(ctx, ws, "jobs.bench.chatty", store.Page{Limit: 1})
	if len(rs) == 0 {
		return ""
	}
	return rs[0].ID
}

// rawLogs stores lines straight into a run's log, 500 a batch, as the
// worker batches them.
func rawLogs(ctx context.Context, st store.Store, ws, user string, lines int) (time.Duration, error) {
	r, err := st.CreateRun(ctx, store.Run{WorkspaceID: ws, JobRef: "jobs.bench.raw", Trigger: "manual:jobs.bench.raw", Profile: "prod", DeploymentVersion: 1, CreatedBy: user})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	batch := make([]store.LogLine, 0, 500)
	for i := 1; i <= lines; i++ {
		batch = append(batch, store.LogLine{Seq: int64(i), At: time.Now(), Stream: "stdout", Line: fmt.Sprint(i)})
		if len(batch) == cap(batch) || i == lines {
			if err := st.AppendRunLogs(ctx, r.ID, batch); err != nil {
				return 0, err
			}
			batch = batch[:0]
		}
	}
	return time.Since(start), nil
}
