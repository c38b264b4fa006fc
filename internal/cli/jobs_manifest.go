package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/python"
	"github.com/dlthub/dlthub/internal/workspace"
)

// workspaceJobs are a workspace's jobs in the one job model: those of
// dlthub.toml and, in a Python workspace, those dlt's manifest worker
// reads from __deployment__.py (DESIGN §10: both may coexist), with the
// workspace dashboard nobody declares (jobs.workspace.dashboard: dlt's in
// a Python workspace, dlthub's in a Go one).
type workspaceJobs struct {
	*jobs.Manifest
	// py is the workspace's Python (nil when nothing needs one).
	py *python.Interpreter
}

// loadJobs reads the workspace's jobs. file is the TOML manifest
// (dlthub.toml unless --file names another); it may be missing when
// __deployment__.py declares the jobs.
func (f *Factory) loadJobs(ctx context.Context, ws *workspace.Workspace, file string) (*workspaceJobs, error) {
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(ws.Root, path)
	}
	display := filepath.ToSlash(ws.Rel(path))
	out := &workspaceJobs{}
	var parts []*jobs.Manifest
	_, statErr := os.Stat(path)
	isPython := python.IsWorkspace(ws.Root)
	if statErr == nil || !isPython || file != jobs.DefaultFile {
		m, err := jobs.Load(path, display)
		if err != nil {
			if errors.Is(statErr, fs.ErrNotExist) && !isPython {
				return nil, fmt.Errorf("%w, and there is no %s.py either (Python workspaces declare jobs there with dlt's decorators)", err, python.DeploymentModule)
			}
			return nil, err
		}
		parts = append(parts, m)
	}
	if isPython {
		py, err := f.python(ws)
		if err != nil {
			return nil, err
		}
		out.py = py
		m, warnings, err := py.Manifest(ctx, ws.Root, python.DeploymentModule, true)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			f.warn("dlt: " + w)
		}
		parts = append(parts, m)
	}
	m, err := jobs.Combine(parts...)
	if err != nil {
		return nil, err
	}
	if !isPython {
		// dlt synthesizes a Python workspace's dashboard; a Go workspace
		// gets dlthub's (DESIGN §6.7).
		m.AddDashboard()
	}
	out.Manifest = m
	return out, nil
}

// adHocJob is the single job dlt makes of one file (a script runs with
// dlt's module launcher; marimo, streamlit and fastmcp files get theirs,
// as dlt's detectors decide), added to the workspace's jobs unless the
// workspace declares that job already.
func (f *Factory) adHocJob(ctx context.Context, ws *workspace.Workspace, wj *workspaceJobs, script string) (*jobs.Job, error) {
	abs := script
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(f.Env.Cwd, script)
	}
	rel, err := filepath.Rel(ws.Root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, usagef("%s is not inside the workspace %s", script, ws.Root)
	}
	if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
		return nil, usagef("%s: no such Python file", script)
	}
	if wj.py == nil {
		if wj.py, err = f.python(ws); err != nil {
			return nil, err
		}
	}
	m, warnings, err := wj.py.Manifest(ctx, ws.Root, filepath.ToSlash(rel), false)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		f.warn("dlt: " + w)
	}
	if len(m.Jobs) != 1 {
		var refs []string
		for _, j := range m.Jobs {
			refs = append(refs, j.Ref)
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("dlt found no job in %s", script)
		}
		return nil, fmt.Errorf("%s declares %d jobs (%s): run one of them by its name", script, len(refs), strings.Join(refs, ", "))
	}
	j := m.Jobs[0]
	if wj.Manifest == nil {
		wj.Manifest = &jobs.Manifest{Path: filepath.ToSlash(rel)}
	}
	for _, have := range wj.Jobs {
		if have.Ref == j.Ref {
			return have, nil
		}
	}
	wj.Jobs = append(wj.Jobs, j)
	return j, nil
}

// python is the workspace's interpreter. When its environment holds a
// Python `dlthub` (dlt[hub] installs one), it says which dlthub runs now
// and how to call this one: under `uv run` that one shadows this binary.
func (f *Factory) python(ws *workspace.Workspace) (*python.Interpreter, error) {
	py, err := python.Find(ws.Root, python.Env{LookupEnv: f.Env.LookupEnv, Environ: os.Environ()})
	if err != nil {
		return nil, err
	}
	if shadow := python.ShadowingDlthub(ws.Root, py, f.Env.Get("VIRTUAL_ENV")); shadow != "" {
		// Said once per workspace (and by `local info` always): dlt installs
		// that script with every environment.
		marker := filepath.Join(ws.Root, ws.Folder, "state", ".python-dlthub-noted")
		if _, err := os.Stat(marker); err != nil {
			self, _ := os.Executable()
			f.note(fmt.Sprintf("this workspace's Python environment has its own dlthub (%s, installed by dlt); under `uv run` it shadows this one. This is dlthub %s (Go, %s): run it as `dlthub` outside `uv run`, or by its full path.", shadow, f.Version, self))
			if os.MkdirAll(filepath.Dir(marker), 0o755) == nil {
				_ = os.WriteFile(marker, []byte(shadow+"\n"), 0o644)
			}
		}
	}
	return py, nil
}

func (f *Factory) note(msg string) { fmt.Fprintln(f.IO.ErrOut, "Note: "+msg) }
