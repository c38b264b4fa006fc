package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// TestMCPOverAPipelineDataset loads the sample pipeline, then talks MCP to
// `dlthub mcp` on its standard input and output, as an agent would.
func TestMCPOverAPipelineDataset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{{"init"}, {"pipeline", "init", "github_sample", "duckdb"}, {"local", "pipeline", "run", "github_sample"}} {
		if code, _, errOut := runInProcess(t, dir, nil, false, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ios, _, _, errOut := iostreams.Test()
	ios.In, ios.Out = inR, outW
	f := &cli.Factory{IO: ios, Version: "test", Env: workspace.Env{LookupEnv: func(string) (string, bool) { return "", false }, Cwd: dir, Home: filepath.Join(dir, "home")}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, f, []string{"mcp"}) }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_tables", Arguments: map[string]any{"dataset": "github_sample"}})
	if err != nil || res.IsError {
		t.Fatalf("list_tables: %+v %v", res, err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), `{"name":"issues","rows":100}`) || !strings.Contains(string(b), `{"name":"issues__labels","rows":34}`) {
		t.Errorf("tables: %s", b)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"dataset": "github_data", "sql": "SELECT count(DISTINCT id) AS n FROM issues"}})
	if b, _ := json.Marshal(res.StructuredContent); err != nil || string(b) != `{"columns":["n"],"rows":[{"n":100}]}` {
		t.Errorf("query: %s %v", b, err)
	}
	_ = cs.Close()
	cancel()
	_ = inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("mcp exit %d: %s", code, errOut.String())
	}

	if code, _, errOut := runInProcess(t, dir, nil, false, "", "mcp", "--stdio", "--port", "7801"); code != cli.ExitUsage || !strings.Contains(errOut, "give one") {
		t.Errorf("--stdio with --port: %d %s", code, errOut)
	}

	// The same over streamable HTTP with --port.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	ios2, _, _, errOut2 := iostreams.Test()
	stderr := &syncBuffer{}
	ios2.ErrOut = stderr
	f2 := &cli.Factory{IO: ios2, Version: "test", Env: f.Env}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan int, 1)
	go func() { done2 <- cli.Run(ctx2, f2, []string{"mcp", "--port", strconv.Itoa(port)}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "/mcp") {
		if time.Now().After(deadline) {
			t.Fatalf("no HTTP server: %s %s", stderr.String(), errOut2.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	hs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx2, &mcp.StreamableClientTransport{Endpoint: fmt.Sprintf("http://127.0.0.1:%d/mcp", port)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = hs.CallTool(ctx2, &mcp.CallToolParams{Name: "list_datasets"})
	if b, _ := json.Marshal(res.StructuredContent); err != nil || !strings.Contains(string(b), `"pipeline":"github_sample"`) {
		t.Errorf("over HTTP: %s %v", b, err)
	}
	_ = hs.Close()
	cancel2()
	if code := <-done2; code != 0 {
		t.Errorf("mcp --port exit %d", code)
	}
}
