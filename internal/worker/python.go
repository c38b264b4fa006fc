package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/python"
	"github.com/dlthub/dlthub/internal/sandbox"
)

// pythonJob is a Python job ready to start: dlt's launcher in the
// environment its requirement set needs.
type pythonJob struct {
	argv []string
	env  []string
	penv *pyenv.Env
}

// command is what the run starts: a declarative pipeline with this
// worker's dlthub, a command, or a Python job through dlt's launcher in
// the environment its requirements need (pj, held until the run ends).
func (w *Worker) command(ctx context.Context, co *checkout, l jobs.Launch, log io.Writer) (argv []string, pj *pythonJob, err error) {
	switch {
	case co.job.EntryPoint != nil:
		if pj, err = w.preparePython(ctx, co, l, log); err != nil {
			return nil, nil, err
		}
		return pj.argv, pj, nil
	case co.job.Pipeline != "":
		argv = []string{w.cfg.Exe, "local", "pipeline", "run", co.job.Pipeline}
		if l.Refresh {
			argv = append(argv, "--refresh")
		}
		return argv, nil, nil
	case len(co.job.Command) == 0:
		return nil, nil, errors.New("the job has neither a command, a pipeline nor a Python entry point")
	case co.job.Command[0] == "dlthub":
		// `dlthub …` commands (the dashboard, a pipeline) run with this
		// worker's own dlthub, whatever is on PATH.
		return append([]string{w.cfg.Exe}, co.job.Command[1:]...), nil, nil
	}
	return co.job.Command, nil, nil
}

// preparePython gets the environment a Python job needs (built by uv on
// first use, then shared through the cache) and the command that starts
// it through dlt's launcher (DESIGN §10). uv's output goes to the run's
// log. A requirement that does not resolve fails this run only.
func (w *Worker) preparePython(ctx context.Context, co *checkout, l jobs.Launch, log io.Writer) (*pythonJob, error) {
	if w.cfg.Python == nil {
		return nil, errors.New("this worker runs no Python jobs: start it where uv is installed (pip install uv) or pass dlthub server --uv PATH")
	}
	b, err := os.ReadFile(filepath.Join(co.dir, filepath.FromSlash(python.RequirementsFile)))
	if err != nil {
		return nil, fmt.Errorf("the deployment carries no Python requirements (%s): deploy it again with this version of dlthub", python.RequirementsFile)
	}
	req, err := pyenv.Parse(b, python.RequirementsFile)
	if err != nil {
		return nil, err
	}
	set, err := req.SetFor(co.job.EntryPoint.Launcher, co.job.Require.DependencyGroups)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", co.job.Ref, err)
	}
	penv, err := w.cfg.Python.Get(ctx, set, log)
	if err != nil {
		return nil, err
	}
	co.readOnly = append(co.readOnly, penv.ReadOnly...)
	env := []string{"VIRTUAL_ENV=" + penv.Dir, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"}
	return &pythonJob{argv: l.PythonArgv(penv.Python), env: env, penv: penv}, nil
}

// pathWith puts dir first on the PATH of env (the launchers exec marimo,
// streamlit, … from the job's environment).
func pathWith(env []string, dir string) []string {
	out := make([]string, 0, len(env))
	found := false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=" + dir + string(os.PathListSeparator) + v
			found = true
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "PATH="+dir+":/usr/local/bin:/usr/bin:/bin")
	}
	return out
}

// rowsScript prints the rows per table that dlt pipelines loaded in this
// run, from each pipeline's own last trace (dlt.attach, then
// last_trace.last_normalize_info): the pipeline the job delivers, else
// every pipeline of the checkout whose trace started after the run did.
// dlt's system tables are left out.
const rowsScript = `import json, os, sys
import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir
since, wanted = float(sys.argv[1]), sys.argv[2:]
root = get_dlt_pipelines_dir()
names = wanted or (sorted(os.listdir(root)) if os.path.isdir(root) else [])
rows = {}
for name in names:
    try:
        trace = dlt.attach(pipeline_name=name).last_trace
    except Exception:
        continue
    if trace is None or trace.started_at.timestamp() < since:
        continue
    info = trace.last_normalize_info
    for table, n in (info.row_counts if info else {}).items():
        if not table.startswith("_dlt"):
            rows[table] = rows.get(table, 0) + n
sys.stdout.write(json.dumps(rows))
`

// pythonRows reads the rows per table of a Python job's pipelines from
// dlt's traces in the checkout. The traces are pickles the job wrote, so
// reading them runs untrusted input: it runs as the job ran, with the
// job's Python, environment and sandbox, and only a bounded JSON answer
// comes back.
func (w *Worker) pythonRows(ctx context.Context, co *checkout, pj *pythonJob, env []string, started time.Time) map[string]int64 {
	argv := []string{pj.penv.Python, "-c", rowsScript, strconv.FormatFloat(float64(started.Unix())-1, 'f', 0, 64)}
	if co.job.Deliver != "" {
		argv = append(argv, co.job.Deliver)
	}
	if w.cfg.Sandbox != nil {
		var err error
		if argv, err = w.cfg.Sandbox.Command(sandbox.Job{Dir: co.dir, ReadOnly: co.readOnly, Argv: argv}); err != nil {
			w.cfg.Logger.Warn("read the rows of the run's pipelines", "job", co.job.Ref, "err", err)
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = co.dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal, as the job
	var out bytes.Buffer
	cmd.Stdout = &limitWriter{w: &out, n: 1 << 20}
	if err := cmd.Run(); err != nil {
		w.cfg.Logger.Warn("read the rows of the run's pipelines", "job", co.job.Ref, "err", err)
		return nil
	}
	rows := map[string]int64{}
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		return nil
	}
	return rows
}

// limitWriter keeps at most n bytes.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	k := min(len(p), l.n)
	l.n -= k
	if _, err := l.w.Write(p[:k]); err != nil {
		return 0, err
	}
	return len(p), nil
}
