package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newJobCancelCmd(f *Factory) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "cancel SELECTOR...",
		Short: "Cancel the pending and running runs of the selected jobs",
		Long: `Cancel every run of the selected jobs that has not ended: a pending run
ends at once, a running one gets SIGTERM (then SIGKILL after the job's grace
period) from its worker.`,
		Example: `  dlthub job cancel github
  dlthub job cancel tag:ingest --dry-run`,
		Args: rangeArgs(1, -1, "one or more selectors"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, list, err := f.targetJobs(ctx, args, true)
			if err != nil {
				return err
			}
			n := 0
			for _, j := range list {
				runs, err := t.c.Runs(ctx, t.wsID, j.JobRef, 0)
				if err != nil {
					return apiErr(t.rs, err)
				}
				for _, r := range runs {
					if r.Done() {
						continue
					}
					n++
					if dryRun {
						fmt.Fprintf(f.IO.ErrOut, "would cancel %s #%d (%s)\n", r.JobRef, r.Number, r.Status)
						continue
					}
					got, err := t.c.CancelRun(ctx, t.wsID, r.ID)
					if err != nil {
						f.warn(fmt.Sprintf("%s #%d: %v", r.JobRef, r.Number, apiErr(t.rs, err)))
						continue
					}
					fmt.Fprintf(f.IO.ErrOut, "%s #%d: %s\n", got.JobRef, got.Number, got.Status)
				}
			}
			if n == 0 {
				fmt.Fprintln(f.IO.ErrOut, "Nothing to cancel: no run of those jobs is pending or running.")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be cancelled")
	return cmd
}
