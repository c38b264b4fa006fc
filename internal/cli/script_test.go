package cli_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dlthub/dlthub/dlt"
	"github.com/dlthub/dlthub/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata scripts and golden files")

func TestMain(m *testing.M) {
	if os.Getenv("CLI_TEST_AS_DLTHUB") == "1" {
		// A worker in these tests runs `dlthub …` job commands with this
		// test binary; with this variable set it is dlthub.
		os.Exit(cli.Run(context.Background(), cli.NewSystemFactory("test"), os.Args[1:]))
	}
	if os.Getenv("CLI_TEST_APP") == "1" {
		// The app of TestServeAnInteractiveJob, started by a worker.
		http.HandleFunc(os.Getenv("DLTHUB_BASE_PATH"), func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "app at %s for %s, cookies %q", r.URL.Path, r.Header.Get("X-Dlthub-User"), r.Header.Get("Cookie"))
		})
		_ = http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
		os.Exit(0)
	}
	testscript.Main(stopPostgresAfter{m}, map[string]func(){
		"dlthub": func() {
			// As cmd/dlthub does: Ctrl-C cancels the context.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := cli.Run(ctx, cli.NewSystemFactory("test"), os.Args[1:])
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each runs
// the real command tree as a process against a fresh temporary directory,
// with HOME pointing inside it.
func TestScripts(t *testing.T) {
	// Scripts that build a Go program share this machine's Go caches (HOME
	// points elsewhere inside a script).
	goEnv := map[string]string{}
	if out, err := exec.Command("go", "env", "GOCACHE", "GOPATH", "GOMODCACHE").Output(); err == nil {
		v := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(v) == 3 {
			goEnv = map[string]string{"GOCACHE": v[0], "GOPATH": v[1], "GOMODCACHE": v[2], "GOFLAGS": "-mod=mod"}
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"runpipeline": runPipelineCmd,
			"apiserver":   apiServerCmd,
			"httpwait":    httpWaitCmd,
			"freeport":    freePortCmd,
		},
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			return os.MkdirAll(home, 0o755)
		},
	})
}

// runPipelineCmd runs a pipeline with the Go SDK in the script's current
// directory: runpipeline NAME RESOURCE N loads N issue-like records with a
// labels list.
func runPipelineCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: runpipeline NAME RESOURCE N")
	}
	n, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("N: %v", err)
	}
	p, err := dlt.NewPipeline(dlt.Options{Name: args[0], Dir: ts.MkAbs(".")})
	if err != nil {
		ts.Fatalf("%v", err)
	}
	var recs []any
	for i := range n {
		recs = append(recs, map[string]any{"id": int64(i), "title": fmt.Sprintf("issue %d", i), "labels": []any{map[string]any{"name": "bug"}}})
	}
	_, err = p.Run(context.Background(), &dlt.Resource{Name: args[1], Records: dlt.Static(recs...)})
	if neg != (err != nil) {
		ts.Fatalf("run: %v", err)
	}
}

// apiServerCmd starts a local stand-in for the GitHub API (issues with
// Link-header pages, comments per issue, pulls; a bearer token "good" is
// required when the file asks for auth) and points a pipeline file's
// base_url at it: apiserver FILE.
func apiServerCmd(ts *testscript.TestScript, _ bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: apiserver FILE")
	}
	mux := http.NewServeMux()
	issue := func(n int) map[string]any {
		return map[string]any{"id": 1000 + n, "number": n, "title": fmt.Sprintf("issue %d", n), "updated_at": fmt.Sprintf("2024-02-%02dT00:00:00Z", n), "labels": []any{map[string]any{"name": "bug"}}}
	}
	mux.HandleFunc("/repos/x/issues", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" && a != "Bearer good" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		var out []map[string]any
		for n := (page-1)*2 + 1; n <= page*2 && n <= 5; n++ {
			out = append(out, issue(n))
		}
		if page*2 < 5 {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/repos/x/issues?page=%d&per_page=2>; rel="next"`, r.Host, page+1))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("/repos/x/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]any{{"id": "c" + r.PathValue("n"), "body": "hi"}})
	})
	mux.HandleFunc("/repos/x/pulls", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 1, "title": "pr"}})
	})
	mux.HandleFunc("/repos/x/html/issues", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>maintenance</html>"))
	})
	srv := httptest.NewServer(mux)
	ts.Defer(srv.Close)
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	out := strings.ReplaceAll(string(b), "https://api.github.com/repos/dlt-hub/dlt/", srv.URL+"/repos/x/")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
}

// httpWaitCmd polls a URL until it answers 200 (10 s at most) and checks the
// body contains a string: httpwait URL TEXT.
func httpWaitCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: httpwait URL TEXT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(args[0])
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), args[1]) {
				if neg {
					ts.Fatalf("%s answered", args[0])
				}
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !neg {
		ts.Fatalf("%s did not answer with %q", args[0], args[1])
	}
}

// freePortCmd sets an environment variable to a free loopback port:
// freeport NAME.
func freePortCmd(ts *testscript.TestScript, _ bool, args []string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("%v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}
