package cli_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

func TestLocalShowDashboard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "--name", "acme_ws"}, {"pipeline", "init", "github_sample", "duckdb"}, {"local", "pipeline", "run", "github_sample"}} {
		if code, _, errOut := runInProcess(t, dir, nil, false, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	ios, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	ios.ErrOut = stderr
	// As an interactive job: PORT and DLTHUB_BASE_PATH from the environment.
	env := map[string]string{"PORT": strconv.Itoa(port), "DLTHUB_BASE_PATH": "/workspaces/w1/apps/jobs.workspace.dashboard/"}
	f := &cli.Factory{IO: ios, Version: "test", Env: workspace.Env{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Cwd: dir, Home: filepath.Join(dir, "home")}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, f, []string{"local", "show"}) }()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, env["DLTHUB_BASE_PATH"])
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), url) {
		if time.Now().After(deadline) {
			t.Fatalf("no dashboard: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	for _, want := range []string{"<h1>acme_ws</h1>", "Profile <b>dev</b>", "<h2>github_sample</h2>", "Dataset <b>github_data</b> on duckdb",
		"<td>issues</td><td>100</td>", "<td>issues__labels</td><td>34</td>", "<code>title</code>", "Recent loads", `class="sys"><td>_dlt_loads</td>`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q: %d\n%s", want, resp.StatusCode, page)
		}
	}
	if resp, _ := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("outside the base path: %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}
