package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
)

type runOptions struct {
	Follow   bool
	Refresh  bool
	NoDeploy bool
	File     string
}

func newRunCmd(f *Factory) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [SELECTOR | FILE.py]",
		Short: "Deploy, then run jobs on the control plane",
		Long: `Deploy this workspace (as dlthub deploy does; nothing is sent when
nothing changed), then queue a run of each selected batch job on the
connected remote workspace. A worker runs it with the deployed code and
configuration of the prod profile (or the job's require.profile). With -f,
follow the run's log until it ends; the exit code says whether it
completed.

Without a selector, every active batch job runs. Selectors: batch,
schedule:*, tag:ingest, manual:jobs.etl.*, jobs.ingest.*, a job ref or its
name. A Python file (script.py) runs ad hoc: the job dlt makes of it (dlt's
module launcher for a script) is deployed with the workspace, then run.`,
		Example: `  dlthub run github -f
  dlthub run pipelines/load_issues.py -f
  dlthub run tag:ingest
  dlthub run jobs.transform.daily --refresh --no-deploy`,
		Args: rangeArgs(0, 1, "at most one selector"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := ""
			if len(args) == 1 {
				sel = args[0]
			}
			return runRun(cmd.Context(), f, opts, sel)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "follow the run's log until it ends")
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "start over from the job's interval start")
	cmd.Flags().BoolVar(&opts.NoDeploy, "no-deploy", false, "run what is deployed; do not deploy first")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file, relative to the workspace root")
	return cmd
}

func runRun(ctx context.Context, f *Factory, opts *runOptions, sel string) error {
	sel, err := f.deployFirst(ctx, opts.NoDeploy, opts.File, sel)
	if err != nil {
		return err
	}
	if sel == "" {
		sel = "batch"
	}
	t, picked, err := f.targetJobs(ctx, []string{sel}, false)
	if err != nil {
		return err
	}
	var batch []deployedJob
	for _, j := range picked {
		if j.Type == "interactive" {
			if sel != "batch" {
				return usagef("%s is an interactive job: it is served, not run", j.JobRef)
			}
			continue
		}
		batch = append(batch, j)
	}
	if len(batch) == 0 {
		return usagef("no batch jobs to run")
	}
	if opts.Follow && len(batch) > 1 {
		var refs []string
		for _, j := range batch {
			refs = append(refs, j.JobRef)
		}
		return usagef("-f follows one run, but %d jobs match: %s; name one", len(batch), strings.Join(refs, ", "))
	}
	var last platform.Run
	for _, j := range batch {
		r, err := t.c.TriggerRun(ctx, t.wsID, j.JobRef, opts.Refresh)
		if err != nil {
			return fmt.Errorf("run %s: %w", j.JobRef, apiErr(t.rs, err))
		}
		fmt.Fprintf(f.IO.ErrOut, "▶ %s: run #%d queued (%s)\n", r.JobRef, r.Number, r.ID)
		last = r
	}
	if !opts.Follow {
		if len(batch) == 1 {
			fmt.Fprintf(f.IO.ErrOut, "Follow it with: dlthub job logs %s %d -f\n", last.JobRef, last.Number)
		}
		return nil
	}
	return followRun(ctx, f, t, last, true)
}

// followRun prints a run's log (its stdout lines to stdout, stderr lines
// to stderr) and, once it has ended, how it ended; a run that did not
// complete is an error (exit code 1).
func followRun(ctx context.Context, f *Factory, t *deployTarget, r platform.Run, follow bool) error {
	end, err := t.c.FollowLogs(ctx, t.wsID, r.ID, 0, follow, func(l platform.LogLine) {
		w := f.IO.Out
		if l.Stream == "stderr" {
			w = f.IO.ErrOut
		}
		fmt.Fprintln(w, l.Line)
	})
	if err != nil {
		return fmt.Errorf("logs of %s #%d: %w", r.JobRef, r.Number, apiErr(t.rs, err))
	}
	if !end.Done() {
		fmt.Fprintf(f.IO.ErrOut, "… %s #%d is %s\n", end.JobRef, end.Number, end.Status)
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "%s %s #%d %s\n", mark(end.Status == "completed"), end.JobRef, end.Number, runEnding(end.Status, end.Reason))
	if end.Status != "completed" && end.Status != "skipped" {
		return errSilent{code: ExitError}
	}
	return nil
}
