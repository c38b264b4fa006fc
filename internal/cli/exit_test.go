package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// runInProcess runs the command tree in this process against dir.
func runInProcess(t *testing.T, dir string, env map[string]string, tty bool, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, in, out, errOut := iostreams.Test()
	io.SetTTY(tty)
	in.WriteString(stdin)
	f := &cli.Factory{
		IO: io,
		Env: workspace.Env{
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			Cwd:       dir,
			Home:      filepath.Join(dir, "home"),
		},
		Version: "test",
	}
	code = cli.Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	ws := t.TempDir()
	if code, _, stderr := runInProcess(t, ws, nil, false, "", "init"); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ok", []string{"profile", "list"}, cli.ExitOK, ""},
		{"unknown command", []string{"bogus"}, cli.ExitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"init", "--bogus"}, cli.ExitUsage, "unknown flag: --bogus"},
		{"invalid profile name", []string{"profile", "use", "a/b"}, cli.ExitUsage, "invalid profile name"},
		{"too many args", []string{"profile", "use", "a", "b"}, cli.ExitUsage, "needs 1 argument"},
		{"missing args", []string{"config", "set", "a"}, cli.ExitUsage, "needs 2 argument"},
		{"missing value", []string{"config", "get", "nothing.here"}, cli.ExitError, "missing value for nothing.here"},
		{"secret without --secret", []string{"config", "set", "x.password", "p"}, cli.ExitUsage, "looks like a secret"},
		{"clean without -y off a TTY", []string{"local", "clean"}, cli.ExitOK, ""}, // nothing to clean yet
		{"mistyped job subcommand", []string{"job", "lst"}, cli.ExitUsage, `unknown command "lst" for "dlthub job" (did you mean "list"?)`},
		{"mistyped config subcommand", []string{"config", "gett"}, cli.ExitUsage, `(did you mean "get"?)`},
		{"mistyped workspace subcommand", []string{"workspace", "lst"}, cli.ExitUsage, `(did you mean "list"?)`},
		{"mistyped nested subcommand", []string{"local", "pipeline", "inf", "X"}, cli.ExitUsage, `unknown command "inf" for "dlthub local pipeline" (did you mean "info"?)`},
		{"a group alone shows its help", []string{"job"}, cli.ExitOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runInProcess(t, ws, nil, false, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if tc.msg != "" && !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.msg)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("stack trace in stderr: %s", stderr)
			}
		})
	}
	// Outside a workspace: exit 1 with the how-to.
	code, _, stderr := runInProcess(t, t.TempDir(), nil, false, "", "local", "info")
	if code != cli.ExitError || !strings.Contains(stderr, "dlthub init") {
		t.Errorf("outside: %d %q", code, stderr)
	}
}

func TestCleanPromptsOnlyOnTTY(t *testing.T) {
	ws := t.TempDir()
	runInProcess(t, ws, nil, false, "", "init")
	data := filepath.Join(ws, ".dlt", "data", "dev")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runInProcess(t, ws, nil, false, "y\n", "local", "clean")
	if code != cli.ExitUsage || !strings.Contains(stderr, "pass -y") || strings.Contains(stderr, "? Delete") {
		t.Fatalf("non-TTY: %d %q", code, stderr)
	}
	code, _, stderr = runInProcess(t, ws, nil, true, "y\n", "local", "clean")
	if code != 0 || !strings.Contains(stderr, "? Delete local data of profile \"dev\"? [y/N]") {
		t.Fatalf("TTY: %d %q", code, stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data dir still there: %v", err)
	}
}
