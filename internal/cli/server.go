package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/sandbox"
	"github.com/dlthub/dlthub/internal/scheduler"
	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

type serverOptions struct {
	Listen      string
	DataDir     string
	DatabaseURL string
	BlobURL     string
	PublicURL   string
	AppsListen  string
	AppsURL     string

	GitHubClientID     string
	GitHubClientSecret string
	GitHubURL          string
	GitHubAPIURL       string
	GitHubSignup       bool

	Roles         string
	WorkerSlots   int
	WorkerAddress string
	KeepLogs      string

	UV              string
	PythonEnvDir    string
	PythonCacheSize string
	PythonIndex     string
	PythonFindLinks string

	UnsafeNoSandbox bool
	SandboxUID      int
	Bwrap           string

	MaxPackageFiles int

	// ControlPlane, when set, makes this process a worker on another
	// machine: it talks to the control plane at this URL with a worker
	// credential and opens no database, bucket or key.
	ControlPlane string
}

// serverRoles is what `dlthub server` does in this process.
type serverRoles struct{ api, scheduler, worker bool }

func parseRoles(v string) (serverRoles, error) {
	var r serverRoles
	for _, part := range strings.Split(v, ",") {
		switch strings.TrimSpace(part) {
		case "api":
			r.api = true
		case "worker":
			r.worker = true
		case "scheduler":
			r.scheduler = true
		case "":
		default:
			return r, usagef("--roles: %q is not a role (api, scheduler, worker)", part)
		}
	}
	if !r.api && !r.scheduler && !r.worker {
		return r, usagef("--roles: name at least one of api, scheduler, worker")
	}
	return r, nil
}

// databaseURLEnv carries the PostgreSQL URL, password included, so it need
// not appear in the process list.
const databaseURLEnv = "DLTHUB_DATABASE_URL"

// githubSecretEnv carries the GitHub client secret so it need not appear in
// the process list.
const githubSecretEnv = "DLTHUB_GITHUB_CLIENT_SECRET"

// shutdownGrace bounds how long in-flight requests may take after a stop
// signal before the listener is closed under them.
const shutdownGrace = 10 * time.Second

func newServerCmd(f *Factory) *cobra.Command {
	opts := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the self-hosted control plane",
		Long: `Run the dltHub control plane in this process: the JSON API under /api/v1,
device-flow login for the CLI, the sign-in and approval pages, /healthz,
/readyz and Prometheus /metrics.

State lives in SQLite under --data-dir unless --database-url names a
PostgreSQL database; artifacts go to --blob-url (a gocloud.dev blob URL,
default a directory under --data-dir). Migrations run at start. The first
start of a server without users prints a one-time link to create the first
owner. Ctrl-C (SIGINT) or SIGTERM stops it gracefully.

The scheduler role queues runs for schedule, every, once, job.success,
job.fail and deployment triggers (missed windows are filled after an
outage; every run is queued once, even with several schedulers). The worker
role runs queued jobs in checkouts under DATA_DIR/runs: the
deployed code with the synced configuration in .dlt/, the launch contract
in the environment (never the server's own), output stored as it is
printed. Each job runs in a sandbox of its own (bubblewrap: apt-get install
bubblewrap): it sees its checkout (writable, its HOME), its runtime
environment and the system's libraries read-only, a private /tmp and its
own processes only, never DATA_DIR (secrets.key, the database, the blobs),
other runs or this process; it shares the network. Under a root server it
runs as --sandbox-uid (default 65534, nobody), otherwise as this process's
user. It dies with its worker. A worker refuses to start where the sandbox
does not work, saying why; --unsafe-no-sandbox runs jobs as this process's
OS user instead, able to read what it can, for machines where every
deployer is trusted. Run logs are deleted --keep-logs after their run.

Workers on other machines hold no database URL, bucket or master key: make
a worker credential on the control plane's machine (dlthub server worker
create NAME, shown once) and start them with --control-plane URL and the
credential in DLTHUB_WORKER_TOKEN. They claim runs through the API, and a
run's configuration and secrets are released to the worker that holds it,
while it runs. Each workspace's secrets are sealed with a data key of its
own, wrapped by the master key in DATA_DIR/secrets.key, which only the API
needs.

Apps (interactive jobs) are served on an origin of their own, never the
control plane's: a second listener, --apps-listen (default the port after
--listen's), reached at --apps-url (default http://APPS-LISTEN). A member
who opens an app is sent through the control plane to sign in and comes
back with a cookie for that app only; the control plane's cookies and
tokens never reach an app, an app cannot set them, and its pages may talk
to the apps origin only (Content-Security-Policy). In production give the
apps their own host name, e.g. --apps-url https://apps.example.com
(better a domain of its own), behind the same TLS proxy.

Sign in with GitHub: register a GitHub OAuth app whose callback URL is
PUBLIC_URL/login/github/callback and pass its client id with
--github-client-id and its secret in DLTHUB_GITHUB_CLIENT_SECRET (or
--github-client-secret). A GitHub account signs in as the user with one of
its verified emails; a GitHub user without an account gets one, with an
organization named after their login, unless --github-signup=false.`,
		Example: `  dlthub server
  dlthub server --listen 0.0.0.0:8765 --public-url https://dlthub.example.com --apps-url https://dlthub-apps.example.net
  DLTHUB_DATABASE_URL=postgres://dlthub:…@db/dlthub dlthub server --blob-url file:///srv/dlthub/blobs
  DLTHUB_GITHUB_CLIENT_SECRET=… dlthub server --public-url https://dlthub.example.com --github-client-id Iv1.abc123
  dlthub server --roles api,scheduler --listen 0.0.0.0:8765      # the control plane, its workers elsewhere:
  DLTHUB_WORKER_TOKEN=dlw_… dlthub server --roles worker --control-plane http://10.0.0.5:8765 --worker-address 10.0.0.7`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), f, opts)
		},
	}
	cmd.AddCommand(newServerWorkerCmd(f))
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8765", "address to listen on")
	fl.StringVar(&opts.DataDir, "data-dir", "", "directory for the SQLite database and artifacts (default ~/.dlthub/server)")
	fl.StringVar(&opts.DatabaseURL, "database-url", "", "PostgreSQL URL to keep state in instead of SQLite (or "+databaseURLEnv+")")
	fl.StringVar(&opts.BlobURL, "blob-url", "", "gocloud.dev blob URL for artifacts (default file://DATA_DIR/blobs)")
	fl.StringVar(&opts.PublicURL, "public-url", "", "URL clients reach the server at (default http://LISTEN)")
	fl.StringVar(&opts.AppsListen, "apps-listen", "", "address the apps origin (interactive jobs' apps) listens on (default LISTEN's host, its port + 1)")
	fl.StringVar(&opts.AppsURL, "apps-url", "", "URL browsers reach apps at: another origin than --public-url, ideally another host (default http://APPS-LISTEN)")
	fl.StringVar(&opts.GitHubClientID, "github-client-id", "", "client id of a GitHub OAuth app; turns on Sign in with GitHub")
	fl.StringVar(&opts.GitHubClientSecret, "github-client-secret", "", "its client secret (prefer "+githubSecretEnv+")")
	fl.StringVar(&opts.GitHubURL, "github-url", "https://github.com", "GitHub's web address (GitHub Enterprise: https://HOST)")
	fl.StringVar(&opts.GitHubAPIURL, "github-api-url", "https://api.github.com", "GitHub's REST API (GitHub Enterprise: https://HOST/api/v3)")
	fl.BoolVar(&opts.GitHubSignup, "github-signup", true, "let GitHub users without an account sign up")
	fl.StringVar(&opts.Roles, "roles", "api,scheduler,worker", "what this process does: api (HTTP), scheduler (queues triggered runs), worker (runs jobs); more can run elsewhere against the same database and blobs")
	fl.IntVar(&opts.WorkerSlots, "worker-slots", 2, "runs a worker runs at once")
	fl.IntVar(&opts.MaxPackageFiles, "max-package-files", deploy.DefaultMaxFiles, "most files a deployed code package may have (uploads and checkouts; give workers the same)")
	fl.StringVar(&opts.KeepLogs, "keep-logs", "90d", "keep run logs this long after their run ended (e.g. 30d, 12h; 0 keeps them forever)")
	fl.StringVar(&opts.UV, "uv", "", "uv executable that builds Python jobs' environments (default uv on PATH)")
	fl.StringVar(&opts.PythonEnvDir, "python-env-dir", "", "where Python jobs' environments are cached, one per requirement set (default DATA_DIR/python-envs)")
	fl.StringVar(&opts.PythonCacheSize, "python-env-cache-size", "10GiB", "evict the least recently used Python environments past this size")
	fl.StringVar(&opts.PythonIndex, "python-index", "", "package index URL uv installs from (an internal mirror; default PyPI; none: only --python-find-links, offline)")
	fl.StringVar(&opts.PythonFindLinks, "python-find-links", "", "folder of wheels uv also installs from (offline sites)")
	fl.BoolVar(&opts.UnsafeNoSandbox, "unsafe-no-sandbox", false, "run jobs without a sandbox, as this process's user, able to read DATA_DIR (secrets.key, the database): only where every deployer is trusted")
	fl.IntVar(&opts.SandboxUID, "sandbox-uid", sandbox.DefaultUID, "uid (and gid) jobs run as when the server runs as root")
	fl.StringVar(&opts.Bwrap, "bwrap", "bwrap", "the bubblewrap binary that sandboxes jobs")
	fl.StringVar(&opts.ControlPlane, "control-plane", "", "run only a worker, on another machine than the control plane at this URL, with the worker credential in "+workerTokenEnv+" (dlthub server worker create): no database, blobs or secrets.key here")
	fl.StringVar(&opts.WorkerAddress, "worker-address", "127.0.0.1", "host the API reaches this worker's apps (interactive jobs) at; with another host than 127.0.0.1 apps must listen on all interfaces")
	return cmd
}

func runServer(ctx context.Context, f *Factory, opts *serverOptions) error {
	roles, err := parseRoles(opts.Roles)
	if err != nil {
		return err
	}
	if opts.WorkerSlots < 1 {
		return usagef("--worker-slots must be at least 1")
	}
	if opts.MaxPackageFiles < 1 {
		return usagef("--max-package-files must be at least 1")
	}
	keepLogs, err := parseDays(opts.KeepLogs)
	if err != nil {
		return usagef("--keep-logs %s: want a duration such as 90d, 36h or 0", opts.KeepLogs)
	}
	if opts.DatabaseURL == "" {
		opts.DatabaseURL = f.Env.Get(databaseURLEnv)
	}
	gh, err := githubConfig(f, opts)
	if err != nil {
		return err
	}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(f.Env.Home, ".dlthub", "server")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	if opts.ControlPlane != "" {
		return runRemoteWorker(ctx, f, opts, roles, dataDir)
	}
	st, err := openServerStore(ctx, dataDir, opts.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	bucket, err := openServerBlob(ctx, dataDir, opts.BlobURL)
	if err != nil {
		return err
	}
	defer func() { _ = bucket.Close() }()

	log := slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	key, err := loadServerKey(filepath.Join(dataDir, "secrets.key"))
	if err != nil {
		return err
	}
	keeper := localsecrets.NewKeeper(key)
	defer func() { _ = keeper.Close() }()

	var wk *worker.Worker
	workerDone := make(chan struct{})
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer func() { stopWorker(); <-workerDone }()
	if roles.worker {
		// A worker that does not start (no sandbox, no run dir) has
		// nothing to wait for: the deferred wait above must not hang.
		started := false
		defer func() {
			if !started {
				close(workerDone)
			}
		}()
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
			log.Warn("jobs run without a sandbox (--unsafe-no-sandbox): they can read what this process can, DATA_DIR included")
		}
		wk = worker.New(worker.Config{Store: st, Blob: bucket, Keeper: keeper, Dir: runDir, Slots: opts.WorkerSlots, AppHost: opts.WorkerAddress, Python: py, Sandbox: sb, Logger: log, MaxFiles: opts.MaxPackageFiles})
		started = true
		go func() { defer close(workerDone); _ = wk.Run(wctx) }()
	} else {
		close(workerDone)
	}
	schedulerDone := make(chan struct{})
	defer func() { stopWorker(); <-schedulerDone }()
	if roles.scheduler {
		sc := scheduler.Config{Store: st, Logger: log, KeepLogs: keepLogs}
		if wk != nil {
			sc.Queued = wk.Wake
		}
		go func() { defer close(schedulerDone); _ = scheduler.New(sc).Run(wctx) }()
	} else {
		close(schedulerDone)
	}
	if !roles.api {
		fmt.Fprintf(f.IO.ErrOut, "dlthub %s running (data in %s); Ctrl-C stops it\n", describeRoles(roles, opts.WorkerSlots), describeStore(dataDir, opts.DatabaseURL))
		<-ctx.Done()
		fmt.Fprintln(f.IO.ErrOut, "stopping: handing runs back")
		stopWorker()
		<-workerDone
		<-schedulerDone
		fmt.Fprintln(f.IO.ErrOut, "stopped")
		return nil
	}

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return usagef("--listen %s: %v", opts.Listen, err)
	}
	defer func() { _ = ln.Close() }()
	public := strings.TrimSuffix(opts.PublicURL, "/")
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	appsLn, appsURL, err := listenApps(opts, ln.Addr().String(), public)
	if err != nil {
		return err
	}
	defer func() { _ = appsLn.Close() }()
	cfg := server.Config{Store: st, Blob: bucket, Keeper: keeper, HashKey: key[:], PublicURL: public, AppsURL: appsURL, Logger: log, GitHub: gh,
		MaxFiles: opts.MaxPackageFiles, TmpDir: filepath.Join(dataDir, "tmp")}
	if wk != nil {
		cfg.RunQueued = wk.Wake
	}
	srv := server.New(cfg)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	as := &http.Server{Handler: srv.AppsHandler(), ReadHeaderTimeout: 10 * time.Second}

	// The setup link is printed before "listening on", the line scripts
	// and tests wait for, so it is there once they see that one.
	if link, first, err := srv.Bootstrap(ctx); err != nil {
		return fmt.Errorf("check for users: %w", err)
	} else if first {
		fmt.Fprintf(f.IO.ErrOut, "No users yet. Create the first owner (this link works once):\n  %s\n", link)
	}
	fmt.Fprintf(f.IO.ErrOut, "dlthub server listening on %s (data in %s)\n", public, describeStore(dataDir, opts.DatabaseURL))
	fmt.Fprintf(f.IO.ErrOut, "apps are served on their own origin at %s (listening on %s)\n", appsURL, appsLn.Addr())
	if opts.PublicURL != "" && opts.AppsURL == "" {
		log.Warn("--public-url is set but --apps-url is not: browsers reach apps at " + appsURL + "; set --apps-url to the apps origin's public URL")
	}
	if gh != nil {
		fmt.Fprintf(f.IO.ErrOut, "Sign in with GitHub is on (%s); the OAuth app's callback URL must be %s/login/github/callback\n", gh.URL, public)
	}

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	appsServed := make(chan error, 1)
	go func() { appsServed <- as.Serve(appsLn) }()
	select {
	case err := <-served:
		_ = as.Close()
		return fmt.Errorf("serve: %w", err)
	case err := <-appsServed:
		_ = hs.Close()
		return fmt.Errorf("serve apps: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(f.IO.ErrOut, "stopping: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	// Apps hold long connections (notebooks' websockets): they are cut
	// when the grace period ends.
	appsDown := make(chan error, 1)
	go func() { appsDown <- as.Shutdown(sctx) }()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-appsDown; err != nil {
		_ = as.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	stopWorker()
	<-workerDone
	<-schedulerDone
	fmt.Fprintln(f.IO.ErrOut, "stopped")
	return nil
}

// listenApps opens the apps origin's listener: --apps-listen, by default
// the port after the control plane's on the same host (a random one when
// the control plane's is random), and its public URL, --apps-url, by
// default http:// and the address it listens on. It must be another
// origin than the control plane's (public).
func listenApps(opts *serverOptions, listening, public string) (net.Listener, string, error) {
	addr := opts.AppsListen
	if addr == "" {
		host, port, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, "", usagef("--listen %s: %v", opts.Listen, err)
		}
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65535 {
			port = strconv.Itoa(n + 1)
		} else {
			port = "0"
		}
		addr = net.JoinHostPort(host, port)
	}
	appsURL := strings.TrimSuffix(opts.AppsURL, "/")
	if appsURL != "" {
		u, err := url.Parse(appsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, "", usagef("--apps-url %s: want an origin such as https://apps.example.com (no path)", opts.AppsURL)
		}
		if sameOrigin(appsURL, public) {
			return nil, "", usagef("--apps-url %s is the control plane's origin: apps need an origin of their own (another host, or another port)", opts.AppsURL)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", usagef("--apps-listen %s: %v (apps are served on a listener of their own; choose a free address with --apps-listen)", addr, err)
	}
	if appsURL == "" {
		appsURL = "http://" + ln.Addr().String()
		if sameOrigin(appsURL, public) || ln.Addr().String() == listening {
			_ = ln.Close()
			return nil, "", usagef("--apps-listen %s: apps need an origin of their own, not the control plane's", addr)
		}
	}
	return ln, appsURL, nil
}

// sameOrigin says whether two http(s) URLs share scheme, host and port.
func sameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Hostname(), ub.Hostname()) && port(ua) == port(ub)
}

// parseDays is time.ParseDuration that also takes whole days ("90d").
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("bad days %q", v)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

// describeRoles names the background roles of a process without the API.
func describeRoles(r serverRoles, slots int) string {
	var parts []string
	if r.scheduler {
		parts = append(parts, "scheduler")
	}
	if r.worker {
		parts = append(parts, fmt.Sprintf("worker with %d slot(s)", slots))
	}
	return strings.Join(parts, " and ")
}

// githubConfig is the GitHub sign-in setup, nil when no client id is given.
func githubConfig(f *Factory, opts *serverOptions) (*server.GitHubConfig, error) {
	secret := opts.GitHubClientSecret
	if secret == "" {
		secret = f.Env.Get(githubSecretEnv)
	}
	switch {
	case opts.GitHubClientID == "" && secret == "":
		return nil, nil
	case opts.GitHubClientID == "":
		return nil, usagef("a GitHub client secret is set but --github-client-id is not; pass both to turn on Sign in with GitHub")
	case secret == "":
		return nil, usagef("--github-client-id needs the app's client secret: set %s (or --github-client-secret)", githubSecretEnv)
	}
	for flag, u := range map[string]string{"--github-url": opts.GitHubURL, "--github-api-url": opts.GitHubAPIURL} {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, usagef("%s %s: must be an http(s) URL", flag, u)
		}
	}
	return &server.GitHubConfig{ClientID: opts.GitHubClientID, ClientSecret: secret, URL: opts.GitHubURL, APIURL: opts.GitHubAPIURL, Signup: opts.GitHubSignup}, nil
}

func openServerStore(ctx context.Context, dataDir, databaseURL string) (store.Store, error) {
	if databaseURL != "" {
		st, err := store.OpenPostgres(ctx, databaseURL)
		if err != nil {
			return nil, fmt.Errorf("--database-url: %w", err)
		}
		return st, nil
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(dataDir, "dlthub.db"))
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	return st, nil
}

// openServerBlob opens the artifact store: a directory under the data dir
// by default, any gocloud.dev blob URL this build links otherwise.
func openServerBlob(ctx context.Context, dataDir, blobURL string) (*blob.Bucket, error) {
	if blobURL == "" {
		dir := filepath.Join(dataDir, "blobs")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("blob dir %s: %w", dir, err)
		}
		b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true})
		if err != nil {
			return nil, fmt.Errorf("blob dir %s: %w", dir, err)
		}
		return b, nil
	}
	b, err := blob.OpenBucket(ctx, blobURL)
	if err != nil {
		return nil, fmt.Errorf("--blob-url %s: %w (file:///path works everywhere)", blobURL, err)
	}
	return b, nil
}

// workerSandbox is the sandbox a worker runs jobs in, checked by running
// one in runDir; nil with --unsafe-no-sandbox. Where it does not work the
// worker does not start: the error says why and what to do.
func workerSandbox(ctx context.Context, opts *serverOptions, runDir string) (*sandbox.Sandbox, error) {
	if opts.UnsafeNoSandbox {
		return nil, nil // no sandbox, as asked
	}
	if opts.SandboxUID <= 0 {
		return nil, usagef("--sandbox-uid %d: jobs must not run as root; give an unprivileged uid", opts.SandboxUID)
	}
	sb, err := sandbox.New(sandbox.Config{Bwrap: opts.Bwrap, UID: opts.SandboxUID, GID: opts.SandboxUID})
	if err == nil {
		err = sb.Probe(ctx, runDir)
	}
	if err != nil {
		return nil, fmt.Errorf("the worker role runs every job in a sandbox, and it does not work here: %w\n"+
			"Fix that and start again, start this server with --roles api,scheduler and run workers elsewhere, "+
			"or pass --unsafe-no-sandbox to run jobs as this process's user, able to read DATA_DIR (secrets.key, the database): only where every deployer is trusted", err)
	}
	return sb, nil
}

// loadServerKey reads the master key, which wraps each workspace's data
// key (internal/keys), creating it (mode 0600) on first start. Losing it
// makes stored secrets unreadable: back it up with the database.
func loadServerKey(path string) ([32]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := localsecrets.Base64Key(strings.TrimSpace(string(b)))
		if err != nil {
			return k, fmt.Errorf("%s: %w (it must hold the base64 key this server wrote; restore it from backup)", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return [32]byte{}, fmt.Errorf("read %s: %w", path, err)
	}
	k, err := localsecrets.NewRandomKey()
	if err != nil {
		return k, err
	}
	if err := os.WriteFile(path, []byte(base64.URLEncoding.EncodeToString(k[:])+"\n"), 0o600); err != nil {
		return k, fmt.Errorf("write %s: %w", path, err)
	}
	return k, nil
}

func describeStore(dataDir, databaseURL string) string {
	if databaseURL != "" {
		return "PostgreSQL"
	}
	return dataDir
}

// pythonEnvs is the worker's cache of Python environments (DESIGN §10),
// or nil when no uv is found: the worker then runs every other job and
// fails Python jobs with a message that names --uv.
func pythonEnvs(opts *serverOptions, dataDir string, log *slog.Logger) (*pyenv.Manager, error) {
	uv := opts.UV
	if uv == "" {
		uv, _ = exec.LookPath("uv")
	} else if p, err := exec.LookPath(uv); err != nil {
		return nil, usagef("--uv %s: %v", opts.UV, err)
	} else {
		uv = p
	}
	size, err := humanize.ParseBytes(opts.PythonCacheSize)
	if err != nil {
		return nil, usagef("--python-env-cache-size %q: want a size such as 10GiB", opts.PythonCacheSize)
	}
	dir := opts.PythonEnvDir
	if dir == "" {
		dir = filepath.Join(dataDir, "python-envs")
	}
	if uv == "" {
		log.Warn("uv not found: Python jobs will fail until the worker is started with --uv (pip install uv)")
		return nil, nil
	}
	return &pyenv.Manager{Dir: dir, UV: uv, IndexURL: opts.PythonIndex, FindLinks: opts.PythonFindLinks, MaxBytes: int64(size), Logger: log}, nil
}
