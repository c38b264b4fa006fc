package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
)

type serveOptions struct {
	Follow    bool
	NoDeploy  bool
	NoBrowser bool
	File      string
}

func newServeCmd(f *Factory) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [JOB | FILE.py]",
		Short: "Deploy, then start an interactive job on the control plane",
		Long: `Deploy this workspace, then start an interactive job (type = "interactive")
on the connected remote workspace. A worker starts it with the access
profile (or the job's require.profile), PORT and DLTHUB_BASE_PATH; the
server serves it at a stable address under the workspace, to signed-in
members only. It stops after 15 minutes nobody used it, or at its
execute.timeout. Serving a job that runs already gives its address.

Every workspace has jobs.workspace.dashboard without declaring it (dlt's
dashboard in a Python workspace, dlthub's in a Go one): dlthub serve
dashboard serves it. Without JOB, the workspace's only other interactive
job is served, else the dashboard.`,
		Example: `  dlthub serve
  dlthub serve notebook.py          # a marimo notebook, streamlit app or fastmcp server, as dlt detects it
  dlthub serve dashboard -f
  dlthub serve jobs.apps.notebook --no-deploy --no-browser`,
		Args: rangeArgs(0, 1, "at most one job"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := ""
			if len(args) == 1 {
				sel = args[0]
			}
			return runServe(cmd.Context(), f, opts, sel)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "follow the app's log until it stops")
	cmd.Flags().BoolVar(&opts.NoDeploy, "no-deploy", false, "serve what is deployed; do not deploy first")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "do not open the app in a browser")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file, relative to the workspace root")
	return cmd
}

func runServe(ctx context.Context, f *Factory, opts *serveOptions, sel string) error {
	sel, err := f.deployFirst(ctx, opts.NoDeploy, opts.File, sel)
	if err != nil {
		return err
	}
	if sel == "" {
		if sel, err = f.defaultApp(ctx); err != nil {
			return err
		}
	}
	t, j, err := f.targetJob(ctx, sel)
	if err != nil {
		return err
	}
	if j.Type != "interactive" {
		return usagef("%s is a batch job: run it with `dlthub run %s`", j.JobRef, j.JobRef)
	}
	r, appURL, err := t.c.ServeApp(ctx, t.wsID, j.JobRef)
	if err != nil {
		return fmt.Errorf("serve %s: %w", j.JobRef, apiErr(t.rs, err))
	}
	fmt.Fprintf(f.IO.ErrOut, "▶ %s: run #%d (%s)\n", r.JobRef, r.Number, r.Status)
	// Wait until a worker has it listening.
	deadline := time.Now().Add(2 * time.Minute)
	for r.Status != "running" && !r.Done() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if r, err = t.c.Run(ctx, t.wsID, r.ID); err != nil {
			return apiErr(t.rs, err)
		}
	}
	if r.Done() {
		fmt.Fprintf(f.IO.ErrOut, "%s %s #%d %s\n", mark(false), r.JobRef, r.Number, runEnding(r.Status, r.Reason))
		return errSilent{code: ExitError}
	}
	fmt.Fprintln(f.IO.Out, appURL)
	if !opts.NoBrowser && f.IO.CanPrompt() && f.OpenBrowser != nil {
		_ = f.OpenBrowser(appURL)
	}
	if opts.Follow {
		return followRun(ctx, f, t, r, true)
	}
	fmt.Fprintf(f.IO.ErrOut, "Stop it with: dlthub job cancel %s\n", r.JobRef)
	return nil
}

// defaultApp is the deployed job `dlthub serve` serves when none is named
// (jobs.DefaultApp): with the dashboard in every workspace, "the only
// interactive job" would otherwise never be one.
func (f *Factory) defaultApp(ctx context.Context) (string, error) {
	t, err := f.deployTarget()
	if err != nil {
		return "", err
	}
	all, err := deployedJobs(ctx, t, false)
	if err != nil {
		return "", err
	}
	var refs []string
	for _, j := range all {
		if j.Type == "interactive" {
			refs = append(refs, j.JobRef)
		}
	}
	ref, err := jobs.DefaultApp(refs)
	if err != nil {
		return "", usageErr(err)
	}
	return ref, nil
}
