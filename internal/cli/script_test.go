package cli_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dlthub/dlthub/dlt"
	"github.com/dlthub/dlthub/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata scripts and golden files")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dlthub": func() {
			os.Exit(cli.Run(context.Background(), cli.NewSystemFactory("test"), os.Args[1:]))
		},
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each runs
// the real command tree as a process against a fresh temporary directory,
// with HOME pointing inside it.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"runpipeline": runPipelineCmd,
		},
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
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
