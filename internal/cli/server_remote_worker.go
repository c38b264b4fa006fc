package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/worker"
)

// workerTokenEnv carries a remote worker's credential, so it need not
// appear in the process list.
const workerTokenEnv = "DLTHUB_WORKER_TOKEN"

// runRemoteWorker runs the worker role on a machine without the control
// plane's database, bucket or master key (DESIGN §6.7a): it claims runs
// and gets their code and configuration through the worker endpoints with
// a worker credential, and its runs' configuration only while it holds
// them.
func runRemoteWorker(ctx context.Context, f *Factory, opts *serverOptions, roles serverRoles, dataDir string) error {
	switch {
	case roles.api || roles.scheduler || !roles.worker:
		return usagef("--control-plane runs a worker only: pass --roles worker (the API and the scheduler run where the database is)")
	case opts.DatabaseURL != "" || opts.BlobURL != "":
		return usagef("--control-plane: a worker elsewhere needs no --database-url or --blob-url (nor %s); it reaches both through the control plane", databaseURLEnv)
	}
	u, err := url.Parse(opts.ControlPlane)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--control-plane %s: want the control plane's URL, e.g. https://dlthub.example.com", opts.ControlPlane)
	}
	token := strings.TrimSpace(f.Env.Get(workerTokenEnv))
	if token == "" {
		return usagef("--control-plane needs a worker credential in %s: make one on the control plane's machine with `dlthub server worker create NAME`", workerTokenEnv)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "worker"
	}
	instance := host + ":" + strconv.Itoa(os.Getpid())
	ctl := &worker.Remote{URL: opts.ControlPlane, Token: token, Instance: instance, Client: &http.Client{Timeout: 5 * time.Minute}}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	name, err := ctl.Hello(hctx)
	cancel()
	if err != nil {
		return fmt.Errorf("--control-plane %s: %w", opts.ControlPlane, err)
	}
	log := slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	runDir := filepath.Join(dataDir, "runs")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("run dir %s: %w", runDir, err)
	}
	py, err := pythonEnvs(opts, dataDir, log)
	if err != nil {
		return err
	}
	sb, err := workerSandbox(ctx, opts, runDir)
	if err != nil {
		return err
	}
	if sb == nil {
		log.Warn("jobs run without a sandbox (--unsafe-no-sandbox): they can read what this process can")
	}
	wk := worker.New(worker.Config{Control: ctl, Name: name, Dir: runDir, Slots: opts.WorkerSlots, AppHost: opts.WorkerAddress,
		Python: py, Sandbox: sb, Logger: log, MaxFiles: opts.MaxPackageFiles})
	fmt.Fprintf(f.IO.ErrOut, "dlthub worker %s with %d slot(s) for %s (runs in %s); Ctrl-C stops it\n", name, opts.WorkerSlots, opts.ControlPlane, runDir)
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _ = wk.Run(wctx) }()
	<-ctx.Done()
	fmt.Fprintln(f.IO.ErrOut, "stopping: handing runs back")
	stop()
	<-done
	fmt.Fprintln(f.IO.ErrOut, "stopped")
	return nil
}
