package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/runner"
	"github.com/dlthub/dlthub/internal/sandbox"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/workspace"
)

// Why a run's process was stopped from outside.
var (
	errShutdown  = errors.New("the worker is stopping")
	errCancelled = errors.New("cancelled")
	errLost      = errors.New("the run was taken from this worker")
	errIdle      = errors.New("nobody used the app")
)

// checkout is a run's working directory, ready to start.
type checkout struct {
	dir   string
	job   *jobs.Job
	row   store.Job
	masks []string // secret values to hide in logs
	// readOnly are paths outside the checkout the job needs to read (a
	// Python environment and its base interpreter); the sandbox binds
	// them read-only.
	readOnly []string
	// notes are lines for the run's log from before it started (variables
	// that could not be passed).
	notes []string
	// vars are the workspace's variables as released for the run (secret
	// values opened).
	vars []store.Variable
}

func (w *Worker) execute(ctx context.Context, r store.Run) {
	log := w.cfg.Logger.With("run", r.ID, "job", r.JobRef, "number", r.Number)
	dir, err := os.MkdirTemp(w.cfg.Dir, checkoutPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		w.finish(ctx, r, store.RunFailed, nil, "could not make a working directory: "+err.Error())
		return
	}
	defer func() {
		if err := removeCheckout(dir); err != nil {
			log.Error("remove the checkout", "dir", dir, "err", err)
		}
	}()
	co, err := w.checkout(ctx, r, dir)
	if err != nil {
		w.finish(ctx, r, store.RunFailed, nil, err.Error())
		return
	}
	win, skip, err := w.window(ctx, r, co)
	if err != nil {
		w.finish(ctx, r, store.RunFailed, nil, err.Error())
		return
	}
	if skip != "" {
		w.finish(ctx, r, store.RunSkipped, nil, skip)
		return
	}
	var start, end *time.Time
	if win != nil {
		start, end = &win.Start, &win.End
	}
	if err := w.ctl.Start(ctx, r.ID, start, end); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("start run", "err", err)
		}
		return // cancelled or reaped meanwhile
	}
	vars := variables(r, co)
	jobConf := map[string]any{}
	conf, confErr := checkoutConfig(dir, r.Profile)
	if confErr == nil {
		jobConf = jobs.ConfigOf(conf, co.job)
	}
	l := jobs.Launch{Job: co.job, Profile: r.Profile, RunID: r.ID, Trigger: r.Trigger, Refresh: r.Refresh, Window: win, Config: jobConf}
	app := co.job.Type == "interactive"
	if app {
		if l.Port, err = freePort(); err != nil {
			w.finish(ctx, r, store.RunFailed, nil, "no free port for the app: "+err.Error())
			return
		}
		l.BasePath = jobs.AppBasePath(r.WorkspaceID, r.JobRef)
	}
	sink := newLogSink(w.ctl, r.ID, co.masks, w.cfg.Now, log)
	for _, n := range co.notes {
		sink.line("stderr", n)
	}
	procCtx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); w.watch(ctx, procCtx, r.ID, app, stop) }()
	env := append(append(baseEnv(dir), vars...), l.Env()...)
	// A Python job's environment is built (or taken from the cache) inside
	// the run, with its heartbeat beating: uv's output is the run's log, and
	// a cancel stops the build.
	argv, pj, err := w.command(procCtx, co, l, sink.stream("stderr"))
	if pj != nil {
		defer pj.penv.Release()
		env = pathWith(append(env, pj.env...), pj.penv.BinDir())
	}
	var cmdline []string
	if err == nil {
		cmdline, err = w.sandboxed(dir, co, argv)
	}
	if err != nil {
		cause := context.Cause(procCtx)
		stop(nil)
		<-watchDone
		sink.line("stderr", err.Error())
		sink.close()
		switch {
		case errors.Is(cause, errShutdown):
			if err := w.ctl.HandBack(context.WithoutCancel(ctx), r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Error("release run", "err", err)
			}
		case errors.Is(cause, errCancelled):
			w.finish(ctx, r, store.RunCancelled, nil, "cancelled before the job started")
		case errors.Is(cause, errLost):
		default:
			w.finish(ctx, r, store.RunFailed, nil, err.Error())
		}
		return
	}
	if app {
		go w.announce(procCtx, r.ID, l.Port, log)
	}
	log.Info("run started", "command", strings.Join(argv, " "), "sandboxed", w.cfg.Sandbox != nil)
	started := w.cfg.Now()
	res, runErr := runner.Run(procCtx, cmdline, runner.Options{NewSession: true,
		Dir: dir, Env: env, Timeout: co.job.Execute.Timeout, GracePeriod: co.job.Execute.GracePeriod,
		Stdout: sink.stream("stdout"), Stderr: sink.stream("stderr"), Now: w.cfg.Now,
	})
	if pj != nil {
		if rows := w.pythonRows(context.WithoutCancel(ctx), co, pj, env, started); len(rows) > 0 {
			if err := w.ctl.SetRunTableRows(context.WithoutCancel(ctx), r.ID, rows); err != nil {
				log.Error("store run rows", "err", err)
			}
		}
	}
	cause := context.Cause(procCtx)
	stop(nil)
	<-watchDone
	if co.job.Pipeline != "" && confErr == nil {
		if rows := pipelineRows(dir, conf, r.Profile, co.job.Pipeline); len(rows) > 0 {
			if err := w.ctl.SetRunTableRows(context.WithoutCancel(ctx), r.ID, rows); err != nil {
				log.Error("store run rows", "err", err)
			}
		}
	}
	if runErr != nil {
		sink.line("stderr", runErr.Error())
	}
	sink.close()
	switch {
	case errors.Is(cause, errShutdown):
		// Hand it back: another worker (or this one, restarted) runs it.
		if err := w.ctl.HandBack(context.WithoutCancel(ctx), r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Error("release run", "err", err)
		}
		log.Info("run handed back", "reason", errShutdown)
	case errors.Is(cause, errLost):
		log.Warn("run lost", "reason", errLost)
	case runErr != nil:
		w.finish(ctx, r, store.RunFailed, nil, "could not start: "+runErr.Error())
	case errors.Is(cause, errIdle):
		code := res.ExitCode
		w.finish(ctx, r, store.RunCompleted, &code, fmt.Sprintf("stopped: nobody used the app for %s", w.cfg.AppIdle))
	case errors.Is(cause, errCancelled):
		code := res.ExitCode
		reason := res.Describe()
		if !res.Cancelled { // ended by itself while being cancelled
			reason = "cancelled: " + reason
		}
		w.finish(ctx, r, store.RunCancelled, &code, reason)
	case res.OK():
		code := 0
		w.finish(ctx, r, store.RunCompleted, &code, res.Describe())
	default:
		code := res.ExitCode
		w.finish(ctx, r, store.RunFailed, &code, res.Describe())
		w.retry(ctx, r, co.job)
	}
}

// sandboxed hands the checkout to the job's uid and is the command line
// that runs argv in the run's sandbox (argv itself without one): the
// checkout bound writable, the paths the job reads outside it (its Python
// environment, this worker's dlthub) bound read-only.
func (w *Worker) sandboxed(dir string, co *checkout, argv []string) ([]string, error) {
	if w.cfg.Sandbox == nil {
		return argv, nil
	}
	if err := w.cfg.Sandbox.Own(dir); err != nil {
		return nil, fmt.Errorf("could not prepare the sandbox: %w", err)
	}
	ro := append(append([]string{}, co.readOnly...), w.cfg.Exe)
	cmdline, err := w.cfg.Sandbox.Command(sandbox.Job{Dir: dir, ReadOnly: ro, Argv: argv})
	if err != nil {
		return nil, fmt.Errorf("could not prepare the sandbox: %w", err)
	}
	return cmdline, nil
}

// retry queues the next attempt of a failed run when its job opts in with
// execute.retries, and wakes this worker for it.
func (w *Worker) retry(ctx context.Context, r store.Run, job *jobs.Job) {
	if job == nil || r.Attempt > job.Execute.Retries {
		return
	}
	queued, err := w.ctl.Retry(context.WithoutCancel(ctx), r.ID)
	if err != nil {
		w.cfg.Logger.Error("queue retry", "run", r.ID, "err", err)
	}
	if queued {
		w.Wake()
	}
}

// watch beats the heartbeat and stops the process when the worker stops,
// the run is cancelled, or the run is no longer this worker's.
func (w *Worker) watch(ctx, procCtx context.Context, id string, app bool, stop context.CancelCauseFunc) {
	tick := time.NewTicker(min(time.Second, w.cfg.Heartbeat))
	defer tick.Stop()
	last := w.cfg.Now()
	for {
		select {
		case <-procCtx.Done():
			return
		case <-ctx.Done():
			stop(errShutdown)
			return
		case <-tick.C:
		}
		now := w.cfg.Now()
		beat := now.Sub(last) >= w.cfg.Heartbeat
		if beat {
			last = now
		}
		r, err := w.ctl.Watch(ctx, id, beat)
		if errors.Is(err, store.ErrNotFound) {
			stop(errLost)
			return
		}
		if err == nil && r.Status == store.RunCancelling {
			stop(errCancelled)
			return
		}
		if err == nil && r.Done() {
			stop(errLost)
			return
		}
		if err == nil && app {
			used := r.TouchedAt
			if used == nil {
				used = r.StartedAt
			}
			if used != nil && w.cfg.Now().Sub(*used) > w.cfg.AppIdle {
				stop(errIdle)
				return
			}
		}
	}
}

// announce waits until the app accepts connections on its port, then
// records its address so the API starts sending it requests.
func (w *Worker) announce(ctx context.Context, id string, port int, log *slog.Logger) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			public := net.JoinHostPort(w.cfg.AppHost, strconv.Itoa(port))
			if err := w.ctl.SetRunAddress(ctx, id, public); err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Error("announce app", "err", err)
			}
			log.Info("app listening", "address", public)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort is a TCP port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (w *Worker) finish(ctx context.Context, r store.Run, status string, code *int, reason string) {
	err := w.ctl.Finish(context.WithoutCancel(ctx), r.ID, status, code, reason)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.cfg.Logger.Error("finish run", "run", r.ID, "err", err)
	}
	w.cfg.Logger.Info("run ended", "run", r.ID, "job", r.JobRef, "status", status, "reason", reason)
}

// checkout writes the run's code version and configuration version into
// dir (DESIGN §5.4: the deployed files with the synced configuration in
// .dlt/) and reads the job's deployed spec.
func (w *Worker) checkout(ctx context.Context, r store.Run, dir string) (*checkout, error) {
	rd, err := w.ctl.Package(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	_, err = deploy.ExtractLimits(rd, dir, deploy.Limits{MaxBytes: w.cfg.MaxPackage, MaxFiles: w.cfg.MaxFiles})
	_ = rd.Close()
	if err != nil {
		return nil, fmt.Errorf("unpack code version %d: %w", r.DeploymentVersion, err)
	}
	rel, err := w.ctl.Release(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	cfgDir := filepath.Join(dir, workspace.DefaultConfigFolder)
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		return nil, err
	}
	// The marker makes the checkout a workspace for `dlthub local …`.
	if err := os.WriteFile(filepath.Join(cfgDir, workspace.MarkerFile), nil, 0o644); err != nil {
		return nil, err
	}
	co := &checkout{dir: dir, vars: rel.Variables}
	for _, f := range rel.Files {
		if err := os.WriteFile(filepath.Join(cfgDir, filepath.Base(f.Name)), []byte(f.Content), 0o600); err != nil {
			return nil, err
		}
		if strings.HasSuffix(f.Name, "secrets.toml") {
			co.masks = append(co.masks, secretValues(f.Content)...)
		}
	}
	co.row = rel.Job
	if co.job, err = jobs.FromSpec(rel.Job.Spec); err != nil {
		return nil, fmt.Errorf("%s: %w", r.JobRef, err)
	}
	return co, nil
}

// window is the run's interval (DESIGN §5.3): the one it was created with,
// else a manual run's (from the last completed end to the latest tick);
// nil for jobs without a timed trigger. skip says why a freshness gate
// holds the run back.
func (w *Worker) window(ctx context.Context, r store.Run, co *checkout) (*jobs.Window, string, error) {
	var win *jobs.Window
	switch {
	case r.IntervalStart != nil && r.IntervalEnd != nil:
		win = &jobs.Window{Start: *r.IntervalStart, End: *r.IntervalEnd}
	default:
		var last *time.Time
		if !r.Refresh {
			var err error
			if last, err = w.ctl.LastCompletedEnd(ctx, r.ID, r.JobRef); err != nil {
				return nil, "", err
			}
		}
		if got, ok := co.job.ManualWindow(last, co.row.DeployedAt, w.cfg.Now().UTC()); ok {
			win = &got
		}
	}
	if win == nil {
		return nil, "", nil
	}
	for _, up := range co.job.Freshness {
		end, err := w.ctl.LastCompletedEnd(ctx, r.ID, up)
		if err != nil {
			return nil, "", err
		}
		if ok, why := jobs.IsFresh(up, end, *win); !ok {
			return win, why, nil
		}
	}
	return win, "", nil
}

// variables are the workspace's variables for the run's profile as
// NAME=value (DESIGN §6.8): workspace-wide ones, overridden by the
// profile's. As environment variables they override the deployed TOML.
// Secret values (opened by the control plane) are masked in the logs.
func variables(r store.Run, co *checkout) []string {
	vs := co.vars
	vals := map[string]string{}
	var names []string
	for _, pass := range []string{"", r.Profile} {
		for _, v := range vs {
			if v.Profile != pass {
				continue
			}
			// A stored variable the environment cannot carry (from before
			// the API refused them) is left out with a note, rather than
			// failing every run.
			if why := unpassable(v); why != "" {
				co.notes = append(co.notes, fmt.Sprintf("dlthub: variable %s left out: %s; set it again", strconv.Quote(v.Name), why))
				continue
			}
			val := v.Value
			if v.Secret {
				if strings.ContainsRune(val, 0) {
					co.notes = append(co.notes, fmt.Sprintf("dlthub: variable %s left out: its value holds a NUL character, which an environment variable cannot; set it again", v.Name))
					continue
				}
				co.masks = append(co.masks, maskValues(val)...)
			}
			if _, seen := vals[v.Name]; !seen {
				names = append(names, v.Name)
			}
			vals[v.Name] = val
		}
		if r.Profile == "" {
			break
		}
	}
	sort.Slice(co.masks, func(i, j int) bool { return len(co.masks[i]) > len(co.masks[j]) })
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n+"="+vals[n])
	}
	return out
}

// envName is what an environment variable's name may be.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// unpassable says why a stored variable cannot be passed to a job as an
// environment variable ("" when it can); a secret's sealed value is
// checked once opened.
func unpassable(v store.Variable) string {
	switch {
	case !envName.MatchString(v.Name):
		return "not an environment variable name"
	case !v.Secret && strings.ContainsRune(v.Value, 0):
		return "its value holds a NUL character, which an environment variable cannot"
	}
	return ""
}

// checkoutConfig reads the checkout's synced configuration for the run's
// profile (the job's table, the pipeline's directories); the server's own
// environment plays no part.
func checkoutConfig(dir, profile string) (*config.Resolver, error) {
	return config.New(config.Options{ConfigDir: filepath.Join(dir, workspace.DefaultConfigFolder), Profile: profile,
		LookupEnv: func(string) (string, bool) { return "", false }})
}

// pipelineRows are the rows per table of a pipeline's last run in the
// checkout, read from its trace (none when it did not get that far).
func pipelineRows(dir string, r *config.Resolver, profile, name string) map[string]int64 {
	env := workspace.Env{LookupEnv: func(string) (string, bool) { return "", false }, Cwd: dir, Home: dir}
	ws, err := workspace.Find(env)
	if err != nil {
		return nil
	}
	dirs := ws.Dirs(env, r, profile)
	if !plainTree(dir, filepath.Join(dirs.Data, "pipelines", name)) {
		return nil
	}
	p, err := pipeline.Attach(pipeline.Options{Name: name, PipelinesDir: filepath.Join(dirs.Data, "pipelines"), LocalDir: dirs.Local, Resolver: r})
	if err != nil {
		return nil
	}
	tr, err := p.LastTrace()
	if err != nil || tr == nil {
		return nil
	}
	return tr.Rows
}

// maxTraceTree bounds what the worker reads of a pipeline's directory
// after a run.
const maxTraceTree = 64 << 20

// plainTree reports whether sub, which the job wrote, is safe for this
// worker (root, when sandboxed) to read: inside root, reached without
// symlinks, holding only directories and regular files of at most
// maxTraceTree bytes together. A job must not make its worker read
// /dev/zero, a FIFO or a file outside its checkout. The job's processes
// are all gone by then (the sandbox's PID namespace ended), so nothing
// changes the tree while it is read.
func plainTree(root, sub string) bool {
	rel, err := filepath.Rel(root, sub)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	p := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	var total int64
	err = filepath.WalkDir(sub, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return errors.New("not a regular file")
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if total += fi.Size(); total > maxTraceTree {
			return errors.New("too large")
		}
		return nil
	})
	return err == nil
}

// baseEnv is all a job inherits besides the launch contract: never the
// server's own environment, which holds its database URL and secrets.
func baseEnv(dir string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{"PATH=" + path, "HOME=" + dir, "TMPDIR=" + os.TempDir(), "LANG=C.UTF-8"}
}

// minMask is the shortest secret value masked in logs: shorter ones would
// mask ordinary words and numbers.
const minMask = 4

// maskValues are the strings to mask in logs for one secret value: the
// value and, since logs are masked line by line, each line of a
// multi-line value (a PEM key, a JSON credential); short ones are left.
func maskValues(v string) []string {
	var out []string
	if len(v) >= minMask {
		out = append(out, v)
	}
	if strings.ContainsAny(v, "\r\n") {
		for _, l := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if l = strings.TrimSpace(l); len(l) >= minMask && l != v {
				out = append(out, l)
			}
		}
	}
	return out
}

// secretValues are the values of a secrets file as a job may print them,
// longest first, to mask in logs: strings (and each line of a multi-line
// one), integers and floats, of at least minMask characters.
func secretValues(doc string) []string {
	var v map[string]any
	if err := toml.Unmarshal([]byte(doc), &v); err != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		case string:
			out = append(out, maskValues(t)...)
		case int64:
			out = append(out, maskValues(strconv.FormatInt(t, 10))...)
		case float64:
			// As Go and Python print it: 1234.5, 1e+21; 1234.0 too.
			f := strconv.FormatFloat(t, 'f', -1, 64)
			out = append(out, maskValues(f)...)
			if g := strconv.FormatFloat(t, 'g', -1, 64); g != f {
				out = append(out, maskValues(g)...)
			}
			if !strings.ContainsAny(f, ".eE") && !math.IsInf(t, 0) && !math.IsNaN(t) {
				out = append(out, maskValues(f+".0")...)
			}
		}
	}
	walk(v)
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
