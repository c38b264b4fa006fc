package cli_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

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
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			return os.MkdirAll(home, 0o755)
		},
	})
}
