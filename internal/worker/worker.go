// Package worker runs deployed jobs for the control plane (DESIGN §6.5):
// it claims pending runs from the store, checks out the run's code and
// configuration versions into a fresh directory, starts the job with the
// launch contract (DESIGN §5.4) through internal/runner, stores every line
// it prints as it happens (secrets masked), beats a heartbeat, and records
// how the run ended. A worker that stops hands its runs back; one that
// dies is noticed by the others through its missing heartbeats.
package worker

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/secrets"

	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/sandbox"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/workspace"
)

// A run beats every DefaultHeartbeat; one silent for DefaultStaleAfter is
// failed by any worker or the scheduler (its worker died). Measured
// before: a killed worker's run was failed after 65-80 s; now within
// DefaultStaleAfter plus a reaping tick.
const (
	DefaultHeartbeat  = 2 * time.Second
	DefaultStaleAfter = 20 * time.Second
)

// Config configures a worker.
type Config struct {
	// Control is the control plane the worker asks for runs. Without it
	// the worker is in the control plane's process: Direct over Store,
	// Blob and the key ring of Keeper (the master key); then it also
	// reaps the runs of workers that died.
	Control Control
	Store   store.Store
	Blob    *blob.Bucket
	Keeper  *secrets.Keeper
	// Name identifies the worker in runs (default host:pid).
	Name string
	// Exe is the dlthub binary that runs pipeline jobs (default this
	// executable).
	Exe string
	// Dir is where runs get their working directories (default the
	// system's temp dir).
	Dir string
	// Slots is how many runs go at once (default 2).
	Slots int
	// Poll is how often the queue is looked at without a Wake (default 1s);
	// Heartbeat how often a run says it is alive (default 2s); StaleAfter
	// how long a silent run is given before it is failed (default 20s).
	Poll       time.Duration
	Heartbeat  time.Duration
	StaleAfter time.Duration
	// MaxPackage bounds an extracted code package (default 200 MiB);
	// MaxFiles its number of files (default deploy.DefaultMaxFiles).
	MaxPackage int64
	MaxFiles   int
	// AppIdle stops an interactive run nobody has used for this long
	// (default 15m); AppHost is the address its app is reached at from the
	// API (default 127.0.0.1: the API and this worker share a machine).
	AppIdle time.Duration
	AppHost string
	// Sandbox runs each job in a sandbox of its own (DESIGN §6.7a): only
	// its checkout writable, no view of the data dir, other runs or the
	// worker, an unprivileged uid. nil runs jobs unsandboxed as this
	// process's user (`dlthub server --unsafe-no-sandbox`).
	Sandbox *sandbox.Sandbox
	// Python builds and caches the environments of Python jobs (DESIGN
	// §10); nil on a worker without uv, whose Python runs then fail with
	// a message that says so.
	Python *pyenv.Manager
	Logger *slog.Logger
	Now    func() time.Time
}

// Worker claims and runs jobs.
type Worker struct {
	cfg   Config
	ctl   Control
	wake  chan struct{}
	slots chan struct{}
	wg    sync.WaitGroup
}

// New builds a worker; Run starts it.
func New(cfg Config) *Worker {
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = host + ":" + strconv.Itoa(os.Getpid())
	}
	if cfg.Exe == "" {
		cfg.Exe, _ = os.Executable()
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 2
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.MaxPackage <= 0 {
		cfg.MaxPackage = 200 << 20
	}
	if cfg.AppIdle <= 0 {
		cfg.AppIdle = 15 * time.Minute
	}
	if cfg.AppHost == "" {
		cfg.AppHost = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctl := cfg.Control
	if ctl == nil {
		ctl = &Direct{Store: cfg.Store, Blob: cfg.Blob, Ring: keys.NewRing(cfg.Keeper, cfg.Store), Name: cfg.Name, Now: cfg.Now, Logger: cfg.Logger}
	}
	return &Worker{cfg: cfg, ctl: ctl, wake: make(chan struct{}, 1), slots: make(chan struct{}, cfg.Slots)}
}

// Wake makes the worker look at the queue now (a run was just created).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and runs jobs until ctx is done, then stops the runs in
// progress (SIGTERM, then SIGKILL after their grace period) and hands them
// back to the queue for another worker.
func (w *Worker) Run(ctx context.Context) error {
	w.removeLeftovers()
	poll := time.NewTicker(w.cfg.Poll)
	defer poll.Stop()
	reap := time.NewTicker(w.cfg.StaleAfter / 2)
	defer reap.Stop()
	w.reap(ctx)
	for {
		w.fill(ctx)
		select {
		case <-ctx.Done():
			w.wg.Wait()
			return nil
		case <-poll.C:
		case <-w.wake:
		case <-reap.C:
			w.reap(ctx)
			// A worker process that died (sharing Dir with this one) left
			// its checkouts, secrets files included: remove them now, not
			// only when a worker next starts.
			w.removeLeftovers()
		}
	}
}

// fill claims runs while there are free slots and pending runs.
func (w *Worker) fill(ctx context.Context) {
	for ctx.Err() == nil {
		select {
		case w.slots <- struct{}{}:
		default:
			return
		}
		r, err := w.ctl.Claim(ctx)
		if err != nil {
			<-w.slots
			if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
				w.cfg.Logger.Error("claim run", "err", err)
			}
			return
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() { <-w.slots }()
			w.execute(ctx, r)
		}()
	}
}

// checkoutPrefix starts the name of a run's working directory, followed by
// the worker's process id.
const checkoutPrefix = "dlthub-run-"

// removeLeftovers deletes checkouts that a worker process no longer alive
// left behind (it crashed); those of live workers sharing Dir stay.
func (w *Worker) removeLeftovers() {
	entries, err := os.ReadDir(w.cfg.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), checkoutPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if err := removeCheckout(filepath.Join(w.cfg.Dir, e.Name())); err == nil {
			w.cfg.Logger.Info("removed a checkout left by a stopped worker", "dir", e.Name())
		}
	}
}

// removeCheckout deletes a run's checkout. Its synced secrets files go
// first, so they are gone even when the rest cannot be removed; parts the
// job made read-only are made writable again (never through a symlink the
// job left) before a second try.
func removeCheckout(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	cfg := filepath.Join(dir, workspace.DefaultConfigFolder)
	if info, err := os.Lstat(cfg); err == nil && info.IsDir() {
		_ = os.Chmod(cfg, 0o700)
		if entries, err := os.ReadDir(cfg); err == nil {
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), "secrets.toml") {
					_ = os.Remove(filepath.Join(cfg, e.Name()))
				}
			}
		}
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, _ error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// reap fails the runs of workers that stopped beating (they died) and
// wakes this worker for the retries it queued.
func (w *Worker) reap(ctx context.Context) {
	if w.cfg.Store == nil {
		return // a worker elsewhere: the control plane's scheduler reaps
	}
	if Reap(ctx, w.cfg.Store, w.cfg.StaleAfter, w.cfg.Now(), w.cfg.Logger) > 0 {
		w.Wake()
	}
}
