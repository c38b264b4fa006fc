// Command benchpython measures Python jobs on the control plane's worker
// (DESIGN §10), with the real store (SQLite), blobs, worker and uv:
//
//   - python_env_build: the worker building a job's environment (dlt with
//     DuckDB) into an empty cache (cold: uv's download cache is warm, as on
//     any worker that built before) and finding it built (warm), against
//     `uv sync` of a project with the same dependencies, cold and warm.
//   - python_run_dispatch: from queueing a run of a trivial Python job in a
//     built environment to its first log line (checkout, environment from
//     the cache, dlt's launcher, the module), against `python -c pass`.
//
// It needs uv and a Python 3.11 (make setup); -uv names uv.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/python"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

const dltSpec = "dlt[duckdb]==1.31.0"

func main() {
	uv := flag.String("uv", "build/py/bin/uv", "uv executable")
	rounds := flag.Int("rounds", 10, "runs for python_run_dispatch")
	flag.Parse()
	if err := bench(*uv, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "benchpython:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func bench(uv string, rounds int) error {
	ctx := context.Background()
	uv, err := filepath.Abs(uv)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "dlthub-benchpython-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	// python_env_build: the worker's cache, cold then warm.
	envs := &pyenv.Manager{Dir: filepath.Join(work, "envs"), UV: uv}
	set := pyenv.Set{Python: "3.11", Specs: []string{dltSpec}}
	start := time.Now()
	env, err := envs.Get(ctx, set, io.Discard)
	if err != nil {
		return err
	}
	cold := time.Since(start)
	env.Release()
	start = time.Now()
	if env, err = envs.Get(ctx, set, io.Discard); err != nil {
		return err
	}
	warm := time.Since(start)
	env.Release()
	// Baseline: uv sync of a project with the same dependency.
	proj := filepath.Join(work, "project")
	_ = os.MkdirAll(proj, 0o755)
	pyproject := fmt.Sprintf("[project]\nname = \"bench\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [%q]\n", dltSpec)
	if err := os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte(pyproject), 0o644); err != nil {
		return err
	}
	uvSync := func() (time.Duration, error) {
		cmd := exec.Command(uv, "sync", "--python", "3.11", "--no-install-project")
		cmd.Dir = proj
		cmd.Env = append(os.Environ(), "UV_PYTHON_DOWNLOADS=never", "UV_PYTHON_PREFERENCE=only-system", "PATH=/usr/local/bin:/usr/bin:/bin")
		s := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("uv sync: %w: %s", err, out)
		}
		return time.Since(s), nil
	}
	syncCold, err := uvSync()
	if err != nil {
		return err
	}
	syncWarm, err := uvSync()
	if err != nil {
		return err
	}
	fmt.Printf("BENCH name=python_env_build state=cold ms=%.0f baseline_ms=%.0f baseline=uv_sync\n", ms(cold), ms(syncCold))
	fmt.Printf("BENCH name=python_env_build state=warm ms=%.1f baseline_ms=%.1f baseline=uv_sync\n", ms(warm), ms(syncWarm))

	// python_run_dispatch: a control plane in this process.
	st, err := store.OpenSQLite(ctx, filepath.Join(work, "db"))
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	_ = os.MkdirAll(filepath.Join(work, "blobs"), 0o755)
	bucket, err := fileblob.OpenBucket(filepath.Join(work, "blobs"), &fileblob.Options{NoTempDir: true})
	if err != nil {
		return err
	}
	key, _ := localsecrets.NewRandomKey()
	keeper := localsecrets.NewKeeper(key)
	u, _ := st.CreateUser(ctx, store.User{Email: "bench@x"})
	org, _ := st.CreateOrg(ctx, "bench", u.ID)
	ws, _ := st.CreateWorkspace(ctx, org.ID, "bench")
	code := filepath.Join(work, "code")
	_ = os.MkdirAll(code, 0o755)
	if err := os.WriteFile(filepath.Join(code, "hello.py"), []byte("print('hello from python')\n"), 0o644); err != nil {
		return err
	}
	pkg, err := deploy.Scan(code, deploy.Options{})
	if err != nil {
		return err
	}
	req, _ := json.Marshal(pyenv.Requirements{EngineVersion: 2, PythonVersion: "3.11", DefaultGroups: []string{"main"},
		Groups: map[string][]string{"main": {dltSpec}}, LauncherRequirements: map[string][]string{}})
	pkg.AddFile(python.RequirementsFile, req)
	var buf bytes.Buffer
	if err := pkg.WriteTarGz(&buf); err != nil {
		return err
	}
	pkey := artifact.PackageKey(ws.ID, pkg.Hash)
	if err := bucket.WriteAll(ctx, pkey, buf.Bytes(), nil); err != nil {
		return err
	}
	if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: ws.ID, ContentHash: pkg.Hash, BlobKey: pkey, CreatedBy: u.ID}); err != nil {
		return err
	}
	m, err := jobs.FromDlt(&jobs.DltManifest{Jobs: []jobs.DltDefinition{{JobRef: "jobs.hello", Triggers: []string{},
		EntryPoint: jobs.EntryPoint{Module: "hello", JobType: "batch", Launcher: jobs.LauncherModule}}}}, "__deployment__.py")
	if err != nil {
		return err
	}
	x := m.Expand().Jobs[0]
	spec, _ := json.Marshal(x)
	if _, err := st.ReconcileJobs(ctx, ws.ID, []store.Job{{Ref: x.JobRef, Hash: x.Hash, Spec: string(spec)}}, time.Now()); err != nil {
		return err
	}
	w := worker.New(worker.Config{Store: st, Blob: bucket, Keeper: keeper, Dir: work, Poll: time.Second, Python: envs})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(wctx) }()
	defer func() { stop(); <-done }()
	var total time.Duration
	for range rounds {
		s := time.Now()
		r, err := st.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: "jobs.hello", Trigger: "manual:jobs.hello", Profile: "prod", DeploymentVersion: 1, CreatedBy: u.ID})
		if err != nil {
			return err
		}
		w.Wake()
		if err := firstLine(ctx, st, r.ID, "hello from python"); err != nil {
			return err
		}
		total += time.Since(s)
		for {
			got, err := st.RunByID(ctx, r.ID)
			if err != nil {
				return err
			}
			if got.Done() {
				if got.Status != store.RunCompleted {
					return fmt.Errorf("run: %s %s", got.Status, got.Reason)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	var direct time.Duration
	for range rounds {
		s := time.Now()
		if err := exec.Command(env.Python, "-c", "pass").Run(); err != nil {
			return err
		}
		direct += time.Since(s)
	}
	// What dlt's launcher costs by itself, started directly in the same
	// environment: the part of the dispatch that is not the platform's.
	ep, _ := json.Marshal(map[string]any{"module": "hello", "function": nil, "job_type": "batch", "launcher": jobs.LauncherModule, "job_ref": "jobs.hello"})
	var launcher time.Duration
	for range rounds {
		cmd := exec.Command(env.Python, "-m", jobs.LauncherModule, "--run-id", "r", "--trigger", "manual:jobs.hello", "--entry-point", string(ep))
		cmd.Dir = code
		s := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("launcher: %w: %s", err, out)
		}
		launcher += time.Since(s)
	}
	fmt.Printf("BENCH name=python_run_dispatch rounds=%d ms=%.1f baseline_ms=%.1f baseline=python_c_pass launcher_direct_ms=%.1f builds=%d\n", rounds,
		ms(total)/float64(rounds), ms(direct)/float64(rounds), ms(launcher)/float64(rounds), envs.Builds())
	return nil
}

// firstLine waits until the run's log has a line containing want.
func firstLine(ctx context.Context, st store.Store, runID, want string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		lines, err := st.RunLogs(ctx, runID, 0, 100)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if strings.Contains(l.Line, want) {
				return nil
			}
		}
		if r, err := st.RunByID(ctx, runID); err == nil && r.Done() {
			return fmt.Errorf("the run ended (%s: %s) without printing %q", r.Status, r.Reason, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("no %q in the run's log within 2 minutes", want)
}
