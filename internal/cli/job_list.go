package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newJobListCmd(f *Factory) *cobra.Command {
	var asJSON, archived bool
	cmd := &cobra.Command{
		Use:   "list [SELECTOR...]",
		Short: "List the deployed jobs of the connected workspace",
		Example: `  dlthub job list
  dlthub job list schedule:* --json
  dlthub job list --archived`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := f.deployTarget()
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
