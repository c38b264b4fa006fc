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
		"<td>issues</td><td>100</td>", "<td>issues__labels</td><td>34</td>", "<code>title</code>", "Recent loads", `class="sys"><td>_dlt_loads</td>`,
		// The picture of the table sizes, with its text alternative (DuckDB
		// tells no bytes: rows only).
		`<svg class="chart" id="sizes-1" role="img" aria-labelledby="sizes-1-title sizes-1-desc"`, `<title id="sizes-1-title">Rows per table in dataset github_data</title>`,
		"issues: 100 rows; issues__labels: 34 rows", "<title>issues: 100 rows</title>"} {
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

// `local serve` of a job whose command starts with dlthub runs this
// dlthub, as a worker and `local run` do, also where no dlthub is on PATH.
func TestLocalServeRunsThisDlthub(t *testing.T) {
	t.Setenv("CLI_TEST_AS_DLTHUB", "1") // the test binary is dlthub for the job it starts
	t.Setenv("PATH", "/usr/bin:/bin")
	dir := t.TempDir()
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "init", "--name", "acme_ws"); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	writeFile(t, dir, "dlthub.toml", "[jobs.apps.dash]\ntype = \"interactive\"\ncommand = [\"dlthub\", \"local\", \"show\", \"--no-browser\"]\n")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	ios, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	ios.ErrOut = stderr
	f := &cli.Factory{IO: ios, Version: "test", Env: workspace.Env{LookupEnv: func(string) (string, bool) { return "", false }, Cwd: dir, Home: filepath.Join(dir, "home")}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, f, []string{"local", "serve", "dash", "--port", strconv.Itoa(port)}) }()
	defer func() { cancel(); <-done }()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<h1>acme_ws</h1>") {
				t.Errorf("the dashboard through local serve: %d %s", resp.StatusCode, body)
			}
			return
		}
		select {
		case code := <-done:
			t.Fatalf("local serve ended with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing on %s:\n%s", url, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
