// Package python is the edge where a Python dltHub workspace meets the Go
// binary (DESIGN §10): it finds the workspace's interpreter (`uv run` in a
// uv project, else the active Python), runs dlt's own isolated manifest
// worker there to get the jobs of __deployment__.py (or of one script, for
// ad-hoc runs), and asks dlt to export the workspace's requirements. The
// contract lives in dlt (dlt._workspace.deployment); nothing here guesses
// it: every answer comes from the installed dlt.
package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
)

// DeploymentModule is the module that declares a Python workspace's jobs.
const DeploymentModule = "__deployment__"

// ManifestWorker is dlt's isolated manifest generator.
const ManifestWorker = "dlt._workspace.deployment._manifest_worker"

// RequirementsFile is where a deployment carries the workspace's
// requirements (dlt's TWorkspaceRequirementsManifest) inside the code
// package: a path no workspace file takes, read by the worker.
const RequirementsFile = ".dlthub/requirements.json"

// maxOutput bounds what is read from a Python helper's stdout.
const maxOutput = 16 << 20

// IsWorkspace reports whether root declares jobs in __deployment__.py.
func IsWorkspace(root string) bool {
	st, err := os.Stat(filepath.Join(root, DeploymentModule+".py"))
	return err == nil && st.Mode().IsRegular()
}

// Interpreter is how Python is started in a workspace: Argv is the
// command before "-m …" or "-c …" (`uv run --project ROOT python`, or a
// Python executable).
type Interpreter struct {
	Argv []string
	// Desc says which Python it is, for messages.
	Desc string
	// Env is the environment it runs with.
	Env []string
}

// Env is what Find looks at.
type Env struct {
	LookupEnv func(string) (string, bool)
	Environ   []string
}

// Find picks the workspace's Python as a dlt user would run it: `uv run`
// in a uv project (pyproject.toml with uv.lock, uv on PATH), else the
// active virtual environment ($VIRTUAL_ENV), else ROOT/.venv, else python3
// on PATH. DLTHUB_PYTHON names an interpreter explicitly.
func Find(root string, env Env) (*Interpreter, error) {
	get := func(k string) string {
		v, _ := env.LookupEnv(k)
		return v
	}
	base := env.Environ
	if p := get("DLTHUB_PYTHON"); p != "" {
		return &Interpreter{Argv: []string{p}, Desc: p + " (DLTHUB_PYTHON)", Env: base}, nil
	}
	if exists(filepath.Join(root, "pyproject.toml")) && exists(filepath.Join(root, "uv.lock")) && get("VIRTUAL_ENV") == "" {
		if uv, err := lookPath("uv", get("PATH")); err == nil {
			return &Interpreter{Argv: []string{uv, "run", "--project", root, "python"}, Desc: "uv run (uv project " + root + ")", Env: base}, nil
		}
	}
	if venv := get("VIRTUAL_ENV"); venv != "" {
		p := filepath.Join(venv, "bin", "python")
		if exists(p) {
			return &Interpreter{Argv: []string{p}, Desc: p + " (the active virtual environment)", Env: base}, nil
		}
	}
	if p := filepath.Join(root, ".venv", "bin", "python"); exists(p) {
		return &Interpreter{Argv: []string{p}, Desc: p, Env: base}, nil
	}
	for _, name := range []string{"python3", "python"} {
		if p, err := lookPath(name, get("PATH")); err == nil {
			return &Interpreter{Argv: []string{p}, Desc: p + " (on PATH)", Env: base}, nil
		}
	}
	return nil, errors.New("no Python found for this workspace: make it a uv project (uv init && uv add dlt), activate a virtual environment with dlt, or set DLTHUB_PYTHON")
}

// Manifest runs dlt's manifest worker on module (a module name or a .py
// path relative to root; ad hoc when useAll is false, as dlt's --no-use-all)
// and returns its jobs in the one job model. dlt's error (syntax error,
// import error, invalid trigger) comes back as it reports it, with file
// and line.
func (py *Interpreter) Manifest(ctx context.Context, root, module string, useAll bool) (*jobs.Manifest, []string, error) {
	args := []string{"-m", ManifestWorker, module}
	if !useAll {
		args = append(args, "--no-use-all")
	}
	out, stderr, err := py.run(ctx, root, 2*time.Minute, args...)
	display := module
	if !strings.HasSuffix(display, ".py") {
		display = strings.ReplaceAll(display, ".", "/") + ".py"
	}
	if len(bytes.TrimSpace(out)) == 0 {
		if len(bytes.TrimSpace(stderr)) == 0 && err != nil {
			err = fmt.Errorf("%w, printing nothing: does %s exit when it is imported? Guard a script's work with `if __name__ == \"__main__\":`", err, display)
		}
		return nil, nil, py.failure("read the jobs of "+display, err, stderr)
	}
	m, warnings, perr := jobs.ParseWorkerOutput(out, display)
	if perr != nil {
		return nil, nil, perr
	}
	return m, warnings, nil
}

// requirementsScript exports the workspace's requirements with dlt's own
// function, from pyproject.toml (and uv.lock through uv), requirements.txt
// or requirements.in.
const requirementsScript = `import json, sys
from pathlib import Path
from dlt._workspace.deployment.requirements import export_workspace_requirements
from dlt.common import json as djson
sys.stdout.write(djson.dumps(export_workspace_requirements(Path.cwd())))
`

// Requirements is the workspace's TWorkspaceRequirementsManifest as dlt
// exports it, as JSON.
func (py *Interpreter) Requirements(ctx context.Context, root string) ([]byte, error) {
	out, stderr, err := py.run(ctx, root, 5*time.Minute, "-c", requirementsScript)
	if err != nil {
		return nil, py.failure("export the workspace's requirements", err, stderr)
	}
	var probe map[string]any
	if err := json.Unmarshal(out, &probe); err != nil {
		return nil, fmt.Errorf("export the workspace's requirements: dlt printed no JSON: %w", err)
	}
	return out, nil
}

// Version is `major.minor` of the interpreter and whether it has dlt.
func (py *Interpreter) Version(ctx context.Context, root string) (string, error) {
	out, stderr, err := py.run(ctx, root, time.Minute, "-c", "import sys, dlt; print('%d.%d %s' % (sys.version_info[0], sys.version_info[1], dlt.__version__))")
	if err != nil {
		return "", py.failure("ask Python for its version", err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

func (py *Interpreter) run(ctx context.Context, dir string, timeout time.Duration, args ...string) ([]byte, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := append(append([]string{}, py.Argv...), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = py.Env
	// Importing a module runs its code, which may start processes: on a
	// timeout or Ctrl-C the whole group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxOutput, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s took longer than %s", strings.Join(py.Argv, " "), timeout)
	}
	return stdout.Bytes(), stderr.Bytes(), err
}

// failure explains a Python helper that failed: what it tried, which
// Python, and the end of what it printed; a Python without dlt gets the
// command that installs it.
func (py *Interpreter) failure(what string, err error, stderr []byte) error {
	tail := strings.TrimSpace(string(stderr))
	if lines := strings.Split(tail, "\n"); len(lines) > 20 {
		tail = strings.Join(lines[len(lines)-20:], "\n")
	}
	if strings.Contains(tail, "No module named 'dlt'") || strings.Contains(tail, "No module named dlt") {
		return fmt.Errorf("%s: dlt is not installed in %s; add it with `uv add dlt` (or pip install dlt in that environment)", what, py.Desc)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && tail != "" {
		return fmt.Errorf("%s with %s: %s", what, py.Desc, tail)
	}
	if err != nil {
		return fmt.Errorf("%s with %s: %w", what, py.Desc, err)
	}
	return fmt.Errorf("%s with %s: no output", what, py.Desc)
}

// limitedBuffer keeps at most max bytes and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lookPath finds name on the given PATH (the workspace's environment,
// not necessarily this process's).
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not on PATH", name)
}

// ShadowingDlthub is the path of a Python `dlthub` console script in the
// workspace's environment (dlt[hub] installs the dlthub package, whose
// script shadows this binary under `uv run`), or "" when there is none.
func ShadowingDlthub(root string, py *Interpreter, virtualEnv string) string {
	var dirs []string
	if virtualEnv != "" {
		dirs = append(dirs, filepath.Join(virtualEnv, "bin"))
	}
	dirs = append(dirs, filepath.Join(root, ".venv", "bin"))
	if len(py.Argv) == 1 {
		dirs = append(dirs, filepath.Dir(py.Argv[0]))
	}
	self, _ := os.Executable()
	for _, d := range dirs {
		p := filepath.Join(d, "dlthub")
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if same, err := os.Stat(self); err == nil && os.SameFile(st, same) {
			continue
		}
		return p
	}
	return ""
}
