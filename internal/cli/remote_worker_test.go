package cli_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// TestRemoteWorkerRunsJobsWithoutTheKeys runs the control plane (API and
// scheduler) and, as on another machine, a worker with its own data dir
// and only a worker credential: it runs a job with the workspace's
// secrets, and holds no database, bucket or master key.
func TestRemoteWorkerRunsJobsWithoutTheKeys(t *testing.T) {
	t.Parallel()
	cp := t.TempDir()
	base, cpLog, _, _ := startServerCmd(t, cp, nil, "--roles", "api,scheduler")
	if strings.Contains(cpLog.String(), "worker") {
		t.Errorf("the control plane started a worker:\n%s", cpLog.String())
	}
	cpData := filepath.Join(cp, "data")
	// The first owner, through the one-time setup link.
	link := regexp.MustCompile(`http://\S+/setup\?token=([0-9a-f]+)`).FindStringSubmatch(cpLog.String())
	if link == nil {
		t.Fatalf("no setup link:\n%s", cpLog.String())
	}
	resp, err := http.PostForm(base+"/setup", url.Values{"token": {link[1]}, "email": {"ann@example.com"}, "name": {"Ann"}, "password": {"correct horse"}, "org": {"acme"}})
	if err != nil || resp.StatusCode >= 400 {
		t.Fatalf("setup: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	code, token, errOut := runInProcess(t, cp, nil, false, "", "server", "worker", "create", "box-1", "--data-dir", cpData)
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "dlw_") || !strings.Contains(errOut, "shown once") {
		t.Fatalf("worker create: %d %q %s", code, token, errOut)
	}
	if code, _, errOut := runInProcess(t, cp, nil, false, "", "server", "worker", "create", "box-1", "--data-dir", cpData); code != cli.ExitUsage || !strings.Contains(errOut, "exists already") {
		t.Errorf("same name again: %d %s", code, errOut)
	}

	// The worker, on "another machine": its own data dir, no database URL.
	wdir := t.TempDir()
	start := func(env map[string]string, args ...string) (*syncBuffer, context.CancelFunc, chan int) {
		io, _, _, _ := iostreams.Test()
		stderr := &syncBuffer{}
		io.ErrOut = stderr
		f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Cwd: wdir, Home: wdir}}
		ctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		done := make(chan int, 1)
		go func() {
			done <- cli.Run(ctx, f, append(append([]string{"server", "--roles", "worker", "--data-dir", filepath.Join(wdir, "data")}, serverSandboxArgs()...), args...))
		}()
		return stderr, stop, done
	}
	// Without a credential, with a wrong one, or with a database: refused.
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--control-plane", base}, "DLTHUB_WORKER_TOKEN"},
		{map[string]string{"DLTHUB_WORKER_TOKEN": "dlw_wrong"}, []string{"--control-plane", base}, "unknown or revoked worker credential"},
		{map[string]string{"DLTHUB_WORKER_TOKEN": token}, []string{"--control-plane", base, "--database-url", "postgres://x@db/y"}, "needs no --database-url"},
		{map[string]string{"DLTHUB_WORKER_TOKEN": token}, []string{"--control-plane", base, "--roles", "api,worker"}, "runs a worker only"},
		{map[string]string{"DLTHUB_WORKER_TOKEN": token}, []string{"--control-plane", "ftp://x"}, "want the control plane's URL"},
	} {
		stderr, _, done := start(tc.env, tc.args...)
		select {
		case code := <-done:
			if code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("%v: exit %d: %s", tc.args, code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%v: did not stop", tc.args)
		}
	}
	wlog, stopWorker, wdone := start(map[string]string{"DLTHUB_WORKER_TOKEN": token}, "--control-plane", base)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(wlog.String(), "dlthub worker box-1/") {
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", wlog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	dir, env := loggedInTo(t, base)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	writeFile(t, dir, "hello.sh", "#!/bin/sh\necho \"hello from $DLTHUB_JOB_REF\"\necho \"token=$API_TOKEN\"\n"+
		"echo \"secrets file: $(grep -c s3cret-db-password .dlt/secrets.toml)\"\ngrep password .dlt/secrets.toml\n")
	if err := os.Chmod(filepath.Join(dir, "hello.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	sec, _ := os.ReadFile(filepath.Join(dir, ".dlt", "secrets.toml"))
	writeFile(t, dir, ".dlt/secrets.toml", string(sec)+"\n[destination.warehouse.credentials]\npassword = \"s3cret-db-password\"\n")
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.hello]\ncommand = [\"./hello.sh\"]\n")
	if code, _, errOut := runInProcess(t, dir, env, false, "tok-remote-98765\n", "variable", "set", "API_TOKEN", "--secret"); code != 0 {
		t.Fatalf("variable: %s", errOut)
	}
	code, out, errOut := runInProcess(t, dir, env, false, "", "run", "hello", "-f")
	if code != 0 || !strings.Contains(out, "hello from jobs.ingest.hello\ntoken=****\nsecrets file: 1\n") ||
		!regexp.MustCompile(`password = "\*\*\*\*"`).MatchString(out) || strings.Contains(out, "s3cret") || strings.Contains(out, "tok-remote") {
		t.Fatalf("run -f on the remote worker: %d\nstdout:\n%s\nstderr:\n%s\nworker:\n%s", code, out, errOut, wlog.String())
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "runs", "list", "hello", "--json"); code != 0 || !strings.Contains(out, `"completed"`) {
		t.Errorf("runs: %d %s", code, out)
	}
	// The worker's machine holds no database, blobs or key, and its
	// checkout (with the secrets) is gone.
	_ = filepath.Walk(wdir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		switch base := filepath.Base(p); {
		case base == "secrets.key" || base == "dlthub.db" || base == "blobs":
			t.Errorf("the worker's machine has %s", p)
		case strings.HasSuffix(base, "secrets.toml"):
			t.Errorf("a secrets file was left on the worker: %s", p)
		}
		return nil
	})
	if code, out, _ := runInProcess(t, cp, nil, false, "", "server", "worker", "list", "--data-dir", cpData, "--json"); code != 0 ||
		!strings.Contains(out, `"name": "box-1"`) || strings.Contains(out, `"last_seen_at": null`) {
		t.Errorf("worker list: %d %s", code, out)
	}
	stopWorker()
	select {
	case code := <-wdone:
		if code != 0 {
			t.Errorf("worker exit %d:\n%s", code, wlog.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if code, _, errOut := runInProcess(t, cp, nil, false, "", "server", "worker", "revoke", "box-1", "--data-dir", cpData); code != 0 || !strings.Contains(errOut, "revoked") {
		t.Errorf("revoke: %d %s", code, errOut)
	}
	if code, out, _ := runInProcess(t, cp, nil, false, "", "server", "worker", "list", "--data-dir", cpData); code != 0 || !regexp.MustCompile(`box-1\s.*revoked`).MatchString(out) {
		t.Errorf("list after revoke: %d %s", code, out)
	}
}
