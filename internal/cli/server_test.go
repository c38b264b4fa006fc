package cli_test

import (
	"context"
	"net"
	"net/http"
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

func TestServerCommandServesAndStopsGracefully(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	io, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	io.ErrOut = stderr
	f := &cli.Factory{IO: io, Version: "test", Env: workspace.Env{LookupEnv: func(string) (string, bool) { return "", false }, Cwd: dir, Home: dir}}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, f, []string{"server", "--listen", addr, "--data-dir", filepath.Join(dir, "data")})
	}()

	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening on "+base) {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/.well-known/oauth-authorization-server"} {
		resp, err := http.Get(base + p)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %v %v", p, resp, err)
			continue
		}
		_ = resp.Body.Close()
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
	code, _, errOut := runInProcess(t, dir, nil, false, "", "server", "--listen", "nope", "--data-dir", dir)
	if code != cli.ExitUsage || !strings.Contains(errOut, "--listen nope") {
		t.Errorf("bad listen: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--blob-url", "s4://bucket")
	if code == 0 || !strings.Contains(errOut, "--blob-url s4://bucket") {
		t.Errorf("bad blob url: %d %s", code, errOut)
	}
}
