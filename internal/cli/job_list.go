package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
)

func newJobListCmd(f *Factory) *cobra.Command {
	var asJSON, archived bool
	cmd := &cobra.Command{
		Use:   "list [SELECTOR...]",
		Short: "List the deployed jobs of the connected workspace",
		Long: `List the deployed jobs of the connected workspace: type, default trigger,
status, last run and when the scheduler queues it next. In a folder not yet
connected (or logged in), list the jobs as they would deploy: those of
dlthub.toml and, in a Python workspace, those dlt's manifest worker reads from
__deployment__.py, with jobs.workspace.dashboard, the dashboard every
workspace has without declaring it.`,
		Example: `  dlthub job list
  dlthub job list schedule:* --json
  dlthub job list --archived`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := f.deployTarget()
			var ae *AuthError
			if errors.Is(err, errNotConnected) || errors.As(err, &ae) {
				// Before the first deploy: the jobs as they would deploy.
				return listLocalJobs(cmd.Context(), f, args, asJSON, err)
			}
			if err != nil {
				return err
			}
			all, err := deployedJobs(cmd.Context(), target, archived)
			if err != nil {
				return err
			}
			list, err := selectDeployed(all, args)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []deployedJob{}
				}
				return writeJSON(f.IO.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No jobs deployed yet: add them to dlthub.toml and run `dlthub deploy`.")
				return nil
			}
			last := lastRuns(cmd.Context(), target)
			t := newTable(f.IO.Out)
			fmt.Fprintln(t, "JOB\tTYPE\tTRIGGER\tSTATUS\tUPDATED\tLAST RUN\tNEXT")
			now := time.Now()
			for _, j := range list {
				lr := ""
				if r, ok := last[j.JobRef]; ok {
					lr = fmt.Sprintf("#%d %s %s", r.Number, r.Status, r.CreatedAt.Local().Format("01-02 15:04"))
				}
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.JobRef, j.Type, j.DefaultTrigger, j.status(), j.UpdatedAt.Local().Format("2006-01-02 15:04"), lr, j.next(now))
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&archived, "archived", false, "include archived jobs (removed from dlthub.toml)")
	return cmd
}

// lastRuns is each job's latest run among the workspace's recent ones
// (none when they cannot be read: the list still shows the jobs).
func lastRuns(ctx context.Context, t *deployTarget) map[string]platform.Run {
	out := map[string]platform.Run{}
	runs, err := t.c.Runs(ctx, t.wsID, "", 500)
	if err != nil {
		return out
	}
	for _, r := range runs { // newest first
		if _, ok := out[r.JobRef]; !ok {
			out[r.JobRef] = r
		}
	}
	return out
}

// listLocalJobs lists the workspace's jobs before they are deployed, and
// says why they are the local ones.
func listLocalJobs(ctx context.Context, f *Factory, sels []string, asJSON bool, why error) error {
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	wj, err := f.loadJobs(ctx, ws, jobs.DefaultFile)
	if err != nil {
		return err
	}
	all := wj.Expand().Jobs
	list := all
	if len(sels) > 0 {
		list = nil
		seen := map[*jobs.ExpandedJob]bool{}
		for _, sel := range sels {
			got, err := jobs.SelectExpanded(all, sel)
			if err != nil {
				return usageErr(err)
			}
			for _, j := range got {
				if !seen[j] {
					seen[j] = true
					list = append(list, j)
				}
			}
		}
	}
	if asJSON {
		if list == nil {
			list = []*jobs.ExpandedJob{}
		}
		return writeJSON(f.IO.Out, list)
	}
	fmt.Fprintf(f.IO.ErrOut, "Not deployed (%v); the jobs of %s as they would deploy:\n", why, wj.Path)
	t := newTable(f.IO.Out)
	fmt.Fprintln(t, "JOB\tTYPE\tTRIGGER\tSTATUS")
	for _, j := range list {
		fmt.Fprintf(t, "%s\t%s\t%s\tnot deployed\n", j.JobRef, j.Type, j.DefaultTrigger)
	}
	return t.Flush()
}
