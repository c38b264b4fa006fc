// Package pythontest finds the pinned Python tools `make setup` installs
// (build/py: uv and dlt) for tests of Python workspaces. Without them a
// test is skipped with the command that installs them; under CI it fails,
// so a missing setup step cannot pass as green.
package pythontest

import (
	"os"
	"path/filepath"
	"testing"
)

// Tools are the pinned interpreter (with dlt) and uv.
type Tools struct {
	// Venv is the environment's folder (VIRTUAL_ENV for the CLI).
	Venv   string
	Python string
	UV     string
}

// Find returns the tools, skipping (or, under CI, failing) the test when
// `make setup` has not made them.
func Find(t testing.TB) Tools {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("pythontest: no go.mod above the test's directory")
		}
		dir = parent
	}
	venv := filepath.Join(dir, "build", "py")
	tl := Tools{Venv: venv, Python: filepath.Join(venv, "bin", "python"), UV: filepath.Join(venv, "bin", "uv")}
	for _, p := range []string{tl.Python, tl.UV} {
		if _, err := os.Stat(p); err != nil {
			msg := "pythontest: " + p + " is missing: run `make setup` (it installs pinned uv and dlt into build/py)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return tl
}
