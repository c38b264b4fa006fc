package cli_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/scheduler"
	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
	"github.com/dlthub/dlthub/internal/workspace"
)

// syncBuffer lets a test read what a command running in another goroutine
// has printed so far.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// controlPlane starts a real server on a temp dir with one owner.
func controlPlane(t *testing.T) string {
	base, _, _ := controlPlaneWithBlobs(t)
	return base
}

// controlPlaneWithBlobs is controlPlane that also returns the directory of
// its blob store and its request log.
func controlPlaneWithBlobs(t *testing.T) (base, blobDir string, log *syncBuffer) {
	t.Helper()
	return controlPlaneWithPython(t, nil)
}

// controlPlaneWithPython is controlPlaneWithBlobs whose worker builds
// Python jobs' environments with py.
func controlPlaneWithPython(t *testing.T, py *pyenv.Manager) (base, blobDir string, log *syncBuffer) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "dlthub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	blobDir = t.TempDir()
	bucket, err := fileblob.OpenBucket(blobDir, &fileblob.Options{NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	log = &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	keeper := localsecrets.NewKeeper(key)
	// A worker in the same process, as `dlthub server` runs one.
	wk := worker.New(worker.Config{Store: st, Blob: bucket, Keeper: keeper, Dir: t.TempDir(), Poll: 50 * time.Millisecond, Heartbeat: 200 * time.Millisecond, Python: py, Sandbox: testSandbox(t), Logger: logger})
	wctx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); _ = wk.Run(wctx) }()
	schedulerDone := make(chan struct{})
	sc := scheduler.New(scheduler.Config{Store: st, Tick: 100 * time.Millisecond, Queued: wk.Wake, Logger: logger})
	go func() { defer close(schedulerDone); _ = sc.Run(wctx) }()
	t.Cleanup(func() { stopWorker(); <-workerDone; <-schedulerDone })
	s := server.New(server.Config{Store: st, Blob: bucket, Keeper: keeper, HashKey: key[:], DeviceInterval: time.Second,
		Logger: logger, RunQueued: wk.Wake})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.SetPublicURL(ts.URL)
	// Apps on an origin of their own, as `dlthub server --apps-listen`.
	apps := httptest.NewServer(s.AppsHandler())
	t.Cleanup(apps.Close)
	s.SetAppsURL(apps.URL)
	if _, err := s.CreateAccount(context.Background(), "ann@example.com", "Ann", "correct horse", "acme"); err != nil {
		t.Fatal(err)
	}
	return ts.URL, blobDir, log
}

// startCLI runs a command in the background; wait returns its exit code.
func startCLI(t *testing.T, dir string, env map[string]string, args ...string) (stderr *syncBuffer, wait func() int) {
	t.Helper()
	return startCLIWith(t, dir, env, false, "", args...)
}

// startCLIWith is startCLI on a terminal or not, with stdin.
func startCLIWith(t *testing.T, dir string, env map[string]string, tty bool, stdin string, args ...string) (stderr *syncBuffer, wait func() int) {
	t.Helper()
	io, in, _, _ := iostreams.Test()
	io.SetTTY(tty)
	in.WriteString(stdin)
	stderr = &syncBuffer{}
	io.ErrOut = stderr
	f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Cwd:       dir, Home: filepath.Join(dir, "home"),
	}}
	done := make(chan int, 1)
	go func() { done <- cli.Run(context.Background(), f, args) }()
	return stderr, func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatalf("%v did not finish; stderr:\n%s", args, stderr.String())
			return -1
		}
	}
}

// decide signs in as a browser would and approves or denies a user code.
func decide(t *testing.T, base, userCode, action string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	resp, err := b.PostForm(base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {"/device?user_code=" + userCode}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	resp, err = b.PostForm(base+"/device", url.Values{"user_code": {userCode}, "action": {action}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %v %v", action, resp, err)
	}
	_ = resp.Body.Close()
}

var userCodeRE = regexp.MustCompile(`enter the code\s+([A-Z0-9]+-[A-Z0-9]+)`)

// waitForCode waits until the CLI has printed its user code.
func waitForCode(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := userCodeRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no user code printed:\n%s", stderr.String())
	return ""
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	base := controlPlane(t)
	dir := t.TempDir()
	env := map[string]string{"RUNTIME__API_BASE_URL": base}
	secrets := filepath.Join(dir, "home", ".dlt", "secrets.toml")
	if err := os.MkdirAll(filepath.Dir(secrets), 0o700); err != nil {
		t.Fatal(err)
	}
	orig := "# my own secrets\n[sources.github]\ntoken = \"gh\" # keep\n"
	if err := os.WriteFile(secrets, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}

	stderr, wait := startCLI(t, dir, env, "login")
	decide(t, base, waitForCode(t, stderr), "approve")
	if code := wait(); code != 0 {
		t.Fatalf("login exit %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Logged in to "+base+" as ann@example.com") {
		t.Errorf("login output:\n%s", stderr.String())
	}
	doc, _ := os.ReadFile(secrets)
	m := regexp.MustCompile(`auth_token = "(dlt_[0-9a-f]+)"`).FindSubmatch(doc)
	if m == nil || !strings.HasPrefix(string(doc), orig) {
		t.Fatalf("secrets.toml after login:\n%s", doc)
	}
	if st, _ := os.Stat(secrets); st.Mode().Perm() != 0o600 {
		t.Errorf("secrets.toml mode %v", st.Mode().Perm())
	}
	tok := string(m[1])
	if strings.Contains(stderr.String(), tok) {
		t.Error("the token was printed")
	}
	if me, err := platform.New(base, tok).Me(context.Background()); err != nil || me.Email != "ann@example.com" {
		t.Fatalf("me with the saved token: %+v %v", me, err)
	}
	if !strings.Contains(string(doc), `auth_base_url = "`+base+`"`) {
		t.Errorf("the token's server is not recorded:\n%s", doc)
	}
	// Pointed at another server, the CLI keeps the token to itself.
	var sentAuth atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sentAuth.Store(true)
		}
		http.Error(w, "{}", http.StatusUnauthorized)
	}))
	defer other.Close()
	code, _, errOut := runInProcess(t, dir, map[string]string{"RUNTIME__API_BASE_URL": other.URL}, false, "", "workspace", "list")
	if code != cli.ExitAuth || !strings.Contains(errOut, "not logged in to "+other.URL+" (your login is for "+base+")") || sentAuth.Load() {
		t.Errorf("other server: %d %s (token sent: %v)", code, errOut, sentAuth.Load())
	}

	code, _, errOut = runInProcess(t, dir, env, false, "", "logout")
	if code != 0 || !strings.Contains(errOut, "Logged out") {
		t.Fatalf("logout %d: %s", code, errOut)
	}
	if doc, _ := os.ReadFile(secrets); string(doc) != orig+"\n[runtime]\n" {
		t.Errorf("secrets.toml after logout:\n%q", doc)
	}
	if _, err := platform.New(base, tok).Me(context.Background()); !errors.Is(err, platform.ErrUnauthorized) {
		t.Errorf("revoked token still works: %v", err)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "logout"); code != 0 || !strings.Contains(errOut, "Not logged in") {
		t.Errorf("second logout %d: %s", code, errOut)
	}
}

func TestLoginDeniedAndResume(t *testing.T) {
	t.Parallel()
	base := controlPlane(t)
	dir := t.TempDir()
	env := map[string]string{"RUNTIME__API_BASE_URL": base}

	stderr, wait := startCLI(t, dir, env, "login")
	decide(t, base, waitForCode(t, stderr), "deny")
	if code := wait(); code == 0 || !strings.Contains(stderr.String(), "denied") {
		t.Errorf("denied login: %d\n%s", code, stderr.String())
	}

	// A login started elsewhere is finished with --resume.
	da, err := platform.New(base, "").StartDeviceLogin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	decide(t, base, da.UserCode, "approve")
	code, _, errOut := runInProcess(t, dir, env, false, "", "login", "--resume", da.DeviceCode)
	if code != 0 || !strings.Contains(errOut, "Logged in") {
		t.Fatalf("resume %d: %s", code, errOut)
	}
	// The code is single use.
	code, _, errOut = runInProcess(t, dir, env, false, "", "login", "--resume", da.DeviceCode)
	if code == 0 || !strings.Contains(errOut, "already used") {
		t.Errorf("resume twice %d: %s", code, errOut)
	}
}

func TestLoginUnreachableServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := runInProcess(t, dir, map[string]string{"RUNTIME__API_BASE_URL": "http://127.0.0.1:1"}, false, "", "login")
	if code == 0 || !strings.Contains(errOut, "cannot reach http://127.0.0.1:1") || strings.Contains(errOut, "goroutine") {
		t.Errorf("%d: %s", code, errOut)
	}
}

// TestLoginOpensBrowserOnlyOnATerminal: on a terminal the approval page
// opens in the browser (here the test plays the browser and approves);
// off one, and with --no-browser, nothing is opened.
func TestLoginOpensBrowserOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	base := controlPlane(t)
	run := func(tty bool, wait time.Duration, args ...string) (opened []string, stderr string, code int) {
		dir := t.TempDir()
		io, _, _, errOut := iostreams.Test()
		io.SetTTY(tty)
		var mu sync.Mutex
		f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{
			LookupEnv: func(k string) (string, bool) {
				if k == "RUNTIME__API_BASE_URL" {
					return base, true
				}
				return "", false
			},
			Cwd: dir, Home: filepath.Join(dir, "home"),
		}, OpenBrowser: func(u string) error {
			mu.Lock()
			opened = append(opened, u)
			mu.Unlock()
			parsed, err := url.Parse(u)
			if err != nil {
				return err
			}
			decide(t, base, parsed.Query().Get("user_code"), "approve")
			return nil
		}}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		code = cli.Run(ctx, f, args)
		mu.Lock()
		defer mu.Unlock()
		return opened, errOut.String(), code
	}
	opened, stderr, code := run(true, 10*time.Second, "login")
	if code != 0 || len(opened) != 1 || !strings.HasPrefix(opened[0], base+"/device?user_code=") ||
		!strings.Contains(stderr, "opened it in your browser") || !strings.Contains(stderr, "Logged in to") {
		t.Errorf("terminal: %d %v\n%s", code, opened, stderr)
	}
	// Off a terminal nobody approves, so the login times out waiting.
	if opened, stderr, _ := run(false, 500*time.Millisecond, "login"); len(opened) != 0 || strings.Contains(stderr, "browser") {
		t.Errorf("non-terminal opened %v\n%s", opened, stderr)
	}
	if opened, _, _ := run(true, 500*time.Millisecond, "login", "--no-browser"); len(opened) != 0 {
		t.Errorf("--no-browser opened %v", opened)
	}
}
