package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/runner"
)

type localServeOptions struct {
	Port int
	File string
}

func newLocalServeCmd(f *Factory) *cobra.Command {
	opts := &localServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve [SELECTOR|JOB_REF]",
		Short: "Run an interactive job here on a port until stopped",
		Long: `Run an interactive job (type = "interactive") with PORT set (default 5000)
and DLTHUB_BASE_PATH=/, until it exits or you stop it with Ctrl-C, which
sends SIGTERM and, after the grace period, SIGKILL. Without a selector, the
workspace's only interactive job besides jobs.workspace.dashboard (which
every workspace has) is served, else the dashboard.`,
		Example: `  dlthub local serve dashboard
  dlthub local serve jobs.apps.dashboard --port 8080`,
		Args: rangeArgs(0, 1, "at most one selector"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := ""
			if len(args) == 1 {
				sel = args[0]
			}
			ctx := cmd.Context() // always set: Run executes with a context
			return runLocalServe(ctx, f, opts, sel)
		},
	}
	cmd.Flags().IntVar(&opts.Port, "port", 5000, "port the job listens on")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file")
	return cmd
}

func runLocalServe(ctx context.Context, f *Factory, opts *localServeOptions, sel string) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	m, err := f.loadJobs(ctx, c.ws, opts.File)
	if err != nil {
		return err
	}
	if sel == "" {
		// The only interactive job besides the dashboard, else the
		// dashboard (jobs.DefaultApp).
		apps, _ := m.Select("interactive")
		refs := make([]string, len(apps))
		for i, a := range apps {
			refs[i] = a.Ref
		}
		if sel, err = jobs.DefaultApp(refs); err != nil {
			return usageErr(err)
		}
	}
	j, err := m.SelectOne(sel)
	if err != nil {
		return usageErr(err)
	}
	if j.Type != "interactive" {
		return usagef("%s is a batch job: run it with `dlthub local run %s`", j.Ref, j.Ref)
	}
	if len(j.Command) == 0 && j.EntryPoint == nil {
		return usagef("%s has no command to serve", j.Ref)
	}
	l := jobs.Launch{Job: j, Profile: c.profile.Name, RunID: newRunID(), Trigger: "http:" + strconv.Itoa(opts.Port), Config: jobs.ConfigOf(c.resolver, j), Port: opts.Port, BasePath: "/"}
	argv := j.Command
	switch {
	case j.EntryPoint != nil:
		argv = l.PythonArgv(m.py.Argv...)
	case len(argv) > 0 && argv[0] == "dlthub":
		// `dlthub …` (the dashboard) runs with this dlthub, as on a worker
		// and in local run, whatever is on PATH.
		self, err := os.Executable()
		if err != nil {
			return err
		}
		argv = append([]string{self}, argv[1:]...)
	}
	fmt.Fprintf(f.IO.ErrOut, "▶ %s on http://127.0.0.1:%d/ (Ctrl-C stops it)\n", j.Ref, opts.Port)
	res, err := runner.Run(ctx, argv, runner.Options{
		Dir: c.ws.Root, Env: append(os.Environ(), l.Env()...), GracePeriod: min(j.Execute.GracePeriod, 30*time.Second),
		Stdout: f.IO.Out, Stderr: f.IO.ErrOut,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", j.Ref, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s %s: %s\n", mark(res.OK() || res.Cancelled), j.Ref, res.Describe())
	if !res.OK() && !res.Cancelled {
		return errSilent{code: ExitError}
	}
	return nil
}
