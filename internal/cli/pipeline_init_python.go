package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dlthub/dlthub/internal/python"
	"github.com/dlthub/dlthub/internal/workspace"
)

// dltCLI runs dlt's own workspace CLI (the `dlthub` command dlt installs)
// in the workspace's Python, with the arguments that follow.
const dltCLI = "import sys; from dlt._workspace.cli._dlt import _main_dlthub; sys.argv = ['dlthub'] + sys.argv[1:]; sys.exit(_main_dlthub())"

// isPythonProject reports a workspace whose pipelines are Python: it has
// __deployment__.py or a pyproject.toml.
func isPythonProject(root string) bool {
	if python.IsWorkspace(root) {
		return true
	}
	_, err := os.Stat(filepath.Join(root, "pyproject.toml"))
	return err == nil
}

// pythonPipelineInit hands `pipeline init` to dlt in a Python workspace
// (DESIGN §10): dlt writes its own templates and core sources (rest_api,
// sql_database, filesystem and the single-file templates work offline);
// a verified source comes from GitHub, and offline that is said plainly.
func (f *Factory) pythonPipelineInit(ctx context.Context, ws *workspace.Workspace, opts *pipelineInitOptions, args []string) error {
	py, err := f.python(ws)
	if err != nil {
		return err
	}
	argv := append(append([]string{}, py.Argv...), "-c", dltCLI, "pipeline", "init")
	switch {
	case opts.ListSources:
		argv = append(argv, "--list-sources")
	case opts.ListDestinations:
		argv = append(argv, "--list-destinations")
	default:
		argv = append(argv, args...)
	}
	argv = append(argv, "--non-interactive")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = ws.Root, py.Env
	var out strings.Builder
	cmd.Stdout = f.IO.Out
	cmd.Stderr = &out
	fmt.Fprintf(f.IO.ErrOut, "This is a Python workspace: dlt writes the pipeline (with %s; --declarative writes a TOML pipeline instead).\n", py.Desc)
	err = cmd.Run()
	msg := out.String()
	fmt.Fprint(f.IO.ErrOut, msg)
	if strings.Contains(msg, "verified-sources") && (strings.Contains(msg, "Could not resolve host") || strings.Contains(msg, "unable to access")) {
		what := "the list of verified sources"
		if len(args) > 0 {
			what = fmt.Sprintf("%q is a verified source, which", args[0])
		}
		return fmt.Errorf("%s dlt fetches from GitHub (dlt-hub/verified-sources), and this machine cannot reach it. Core sources (rest_api, sql_database, filesystem) and dlt's single-file templates work offline", what)
	}
	if err != nil {
		return fmt.Errorf("dlt pipeline init: %w", err)
	}
	return nil
}
