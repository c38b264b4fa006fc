package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newJobTriggerCmd(f *Factory) *cobra.Command {
	var refresh, dryRun bool
	cmd := &cobra.Command{
		Use:   "trigger SELECTOR...",
		Short: "Queue runs of deployed jobs (as deployed; nothing is deployed first)",
		Long: `Queue a manual run of each deployed batch job the selectors name, with the
active code and configuration. dlthub run does the same after deploying
this folder.`,
		Example: `  dlthub job trigger github
  dlthub job trigger tag:ingest --dry-run
  dlthub job trigger jobs.transform.daily --refresh`,
		Args: rangeArgs(1, -1, "one or more selectors"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, list, err := f.targetJobs(ctx, args, false)
			if err != nil {
				return err
			}
			for _, j := range list {
				if j.Type == "interactive" {
					f.warn(j.JobRef + " is an interactive job: it is served, not run")
					continue
				}
				if dryRun {
					fmt.Fprintf(f.IO.ErrOut, "would queue %s (%s)\n", j.JobRef, j.runs())
					continue
				}
				r, err := t.c.TriggerRun(ctx, t.wsID, j.JobRef, refresh)
				if err != nil {
					return fmt.Errorf("trigger %s: %w", j.JobRef, apiErr(t.rs, err))
				}
				fmt.Fprintf(f.IO.ErrOut, "▶ %s: run #%d queued (%s)\n", r.JobRef, r.Number, r.ID)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&refresh, "refresh", false, "start over from the job's interval start")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be queued")
	return cmd
}
