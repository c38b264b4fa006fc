package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newJobRunsCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs of the deployed jobs",
		Args:  noArgs,
	}
	var asJSON bool
	var limit int
	list := &cobra.Command{
		Use:   "list [JOB]",
		Short: "List runs, newest first (of one job when named)",
		Example: `  dlthub job runs list
  dlthub job runs list github --json`,
		Args: rangeArgs(0, 1, "at most one job"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			ref := ""
			if len(args) == 1 {
				j, err := f.deployedJob1(ctx, args[0])
				if err != nil {
					return err
				}
				ref = j.JobRef
			}
			runs, err := t.c.Runs(ctx, t.wsID, ref, limit)
			if err != nil {
				return apiErr(t.rs, err)
			}
			if asJSON {
				if runs == nil {
					runs = []platform.Run{}
				}
				return writeJSON(f.IO.Out, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No runs yet: start one with `dlthub run JOB`.")
				return nil
			}
			tb := newTable(f.IO.Out)
			fmt.Fprintln(tb, "JOB\tRUN\tSTATUS\tTRIGGER\tSTARTED\tDURATION\tCODE")
			for _, r := range runs {
				started, took := "", ""
				if r.StartedAt != nil {
					started = r.StartedAt.Local().Format("2006-01-02 15:04:05")
					end := time.Now()
					if r.FinishedAt != nil {
						end = *r.FinishedAt
					}
					took = end.Sub(*r.StartedAt).Round(time.Second).String()
				}
				fmt.Fprintf(tb, "%s\t#%d\t%s\t%s\t%s\t%s\tv%d\n", r.JobRef, r.Number, r.Status, r.Trigger, started, took, r.DeploymentVersion)
			}
			return tb.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().IntVar(&limit, "limit", 20, "at most this many runs (0: all)")
	cmd.AddCommand(list)
	return cmd
}
