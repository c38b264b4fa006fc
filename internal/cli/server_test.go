package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/githubfake"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// startServerCmd runs `dlthub server` in-process on a free port with the
// given extra arguments and environment until the test ends or stop is
// called; done receives its exit code.
func startServerCmd(t *testing.T, dir string, env map[string]string, args ...string) (base string, stderr *syncBuffer, stop func(), done chan int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	io, _, _, _ := iostreams.Test()
	stderr = &syncBuffer{}
	io.ErrOut = stderr
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{LookupEnv: lookup, Cwd: dir, Home: dir}}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	done = make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, f, append(append([]string{"server", "--listen", addr, "--apps-listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}, serverSandboxArgs()...), args...))
	}()

	base = "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening on "+base) {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, stderr, stop, done
}

func TestServerCommandServesAndStopsGracefully(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, stderr, stop, done := startServerCmd(t, dir, nil)
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/.well-known/oauth-authorization-server"} {
		resp, err := http.Get(base + p)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %v %v", p, resp, err)
			continue
		}
		_ = resp.Body.Close()
	}
	// Apps have a listener of their own, which serves nothing else.
	apps := regexp.MustCompile(`apps are served on their own origin at (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(stderr.String())
	if apps == nil || apps[1] == base {
		t.Fatalf("no apps origin:\n%s", stderr.String())
	}
	for p, want := range map[string]int{"/healthz": http.StatusOK, "/api/v1/me": http.StatusNotFound, "/login": http.StatusNotFound} {
		if resp, err := http.Get(apps[1] + p); err != nil || resp.StatusCode != want {
			t.Errorf("apps origin %s: %v %v", p, resp, err)
		}
	}
	// A fresh server offers the one-time link for the first owner.
	link := regexp.MustCompile(`(http://\S+/setup\?token=[0-9a-f]+)`).FindString(stderr.String())
	if link == "" {
		t.Errorf("no bootstrap link:\n%s", stderr.String())
	} else if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("bootstrap link: %v %v", resp, err)
	}
	if strings.Contains(strings.SplitN(stderr.String(), "request", 2)[1], "token=") {
		t.Error("the request log shows the bootstrap token")
	}

	stop()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stderr.String(), "stopped") {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	for _, p := range []string{"data/dlthub.db", "data/blobs"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("data dir: %v", err)
		}
	}
}

func TestServerCommandBadFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := runInProcess(t, dir, nil, false, "", append([]string{"server", "--listen", "nope", "--data-dir", dir}, serverSandboxArgs()...)...)
	if code != cli.ExitUsage || !strings.Contains(errOut, "--listen nope") {
		t.Errorf("bad listen: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--blob-url", "s4://bucket")
	if code == 0 || !strings.Contains(errOut, "--blob-url s4://bucket") {
		t.Errorf("bad blob url: %d %s", code, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--keep-logs", "soon"); code != cli.ExitUsage || !strings.Contains(errOut, "--keep-logs soon") {
		t.Errorf("--keep-logs: %d %s", code, errOut)
	}
	for roles, want := range map[string]string{"bogus": `"bogus" is not a role`, ",": "name at least one"} {
		code, _, errOut = runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--roles", roles)
		if code != cli.ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("--roles %s: %d %s", roles, code, errOut)
		}
	}
	// Apps need an origin of their own.
	for appsURL, want := range map[string]string{"http://dlthub.example.com:80/": "is the control plane's origin", "https://apps.example.com/x": "no path"} {
		code, _, errOut = runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--roles", "api", "--listen", "127.0.0.1:0",
			"--public-url", "http://dlthub.example.com", "--apps-url", appsURL)
		if code != cli.ExitUsage || !strings.Contains(errOut, "--apps-url "+appsURL) || !strings.Contains(errOut, want) {
			t.Errorf("--apps-url %s: %d %s", appsURL, code, errOut)
		}
	}
	// The database URL may come from the environment (no password in ps).
	code, _, errOut = runInProcess(t, dir, map[string]string{"DLTHUB_DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"}, false, "", "server", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "--database-url") || strings.Contains(errOut, "hunter2") {
		t.Errorf("database url from env: %d %s", code, errOut)
	}
}

func TestServerCommandSignInWithGitHub(t *testing.T) {
	t.Parallel()
	gh := githubfake.Start("Iv1.client", "gh-secret-value")
	defer gh.Close()
	gh.SignIn(&githubfake.User{ID: 7, Login: "octocat", Emails: []githubfake.Email{{Email: "octo@example.com", Primary: true, Verified: true}}})
	dir := t.TempDir()
	base, stderr, _, _ := startServerCmd(t, dir, map[string]string{"DLTHUB_GITHUB_CLIENT_SECRET": "gh-secret-value"},
		"--github-client-id", "Iv1.client", "--github-url", gh.URL, "--github-api-url", gh.URL)
	if !strings.Contains(stderr.String(), "callback URL must be "+base+"/login/github/callback") {
		t.Errorf("no callback hint:\n%s", stderr.String())
	}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	resp, err := b.Get(base + "/login/github?next=/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Signed in as octo@example.com") {
		t.Errorf("sign-in: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(stderr.String(), "gh-secret-value") {
		t.Error("the client secret is in the server output")
	}
}

func TestServerCommandGitHubFlagsNeedBoth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--github-client-id", "Iv1.x")
	if code != cli.ExitUsage || !strings.Contains(errOut, "DLTHUB_GITHUB_CLIENT_SECRET") {
		t.Errorf("id without secret: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, map[string]string{"DLTHUB_GITHUB_CLIENT_SECRET": "s"}, false, "", "server", "--data-dir", dir)
	if code != cli.ExitUsage || !strings.Contains(errOut, "--github-client-id is not") {
		t.Errorf("secret without id: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--github-client-id", "Iv1.x", "--github-client-secret", "s", "--github-url", "github.example")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--github-url github.example") {
		t.Errorf("bad url: %d %s", code, errOut)
	}
}

func TestServerCommandWorkerOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	io, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	io.ErrOut = stderr
	f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{LookupEnv: func(string) (string, bool) { return "", false }, Cwd: dir, Home: dir}}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, f, append([]string{"server", "--roles", "worker", "--worker-slots", "3", "--data-dir", filepath.Join(dir, "data")}, serverSandboxArgs()...))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "dlthub worker with 3 slot(s) running") {
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(stderr.String(), "listening on") {
		t.Errorf("a worker-only process serves HTTP:\n%s", stderr.String())
	}
	stop()
	if code := <-done; code != 0 || !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("exit %d:\n%s", code, stderr.String())
	}
}
