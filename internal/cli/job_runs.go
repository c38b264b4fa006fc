package cli

import (
	"fmt"
	"sort"
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
				j, err := deployedJob1(ctx, t, args[0])
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
	cmd.AddCommand(list, newJobRunsInfoCmd(f), newJobLogsCmd(f), newJobRunsCancelCmd(f))
	return cmd
}

func newJobRunsInfoCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info JOB [RUN_NUMBER]",
		Short: "Show one run (the job's latest by default)",
		Example: `  dlthub job runs info github
  dlthub job runs info github 3 --json`,
		Args: rangeArgs(1, 2, "a job and optionally a run number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, r, err := f.findRun(cmd.Context(), args)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(f.IO.Out, r)
			}
			t := newTable(f.IO.Out)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(t, "%s\t%s\n", k, v)
				}
			}
			row("job", r.JobRef)
			row("run", fmt.Sprintf("#%d (%s)", r.Number, r.ID))
			row("status", r.Status)
			row("reason", r.Reason)
			row("trigger", r.Trigger)
			row("profile", r.Profile)
			if r.Attempt > 1 {
				row("attempt", fmt.Sprint(r.Attempt))
			}
			row("code", fmt.Sprintf("v%d", r.DeploymentVersion))
			if r.ConfigurationVersion > 0 {
				row("configuration", fmt.Sprintf("v%d", r.ConfigurationVersion))
			}
			if r.IntervalStart != nil && r.IntervalEnd != nil {
				row("interval", r.IntervalStart.UTC().Format(time.RFC3339)+" → "+r.IntervalEnd.UTC().Format(time.RFC3339))
			}
			row("queued", r.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			if r.StartedAt != nil {
				row("started", r.StartedAt.Local().Format("2006-01-02 15:04:05"))
			}
			if r.FinishedAt != nil {
				row("finished", r.FinishedAt.Local().Format("2006-01-02 15:04:05"))
			}
			if r.ExitCode != nil {
				row("exit code", fmt.Sprint(*r.ExitCode))
			}
			tables := make([]string, 0, len(r.TableRows))
			for name := range r.TableRows {
				tables = append(tables, name)
			}
			sort.Strings(tables)
			for i, name := range tables {
				k := ""
				if i == 0 {
					k = "rows loaded"
				}
				fmt.Fprintf(t, "%s\t%s %d\n", k, name, r.TableRows[name])
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newJobRunsCancelCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "cancel JOB [RUN_NUMBER]",
		Short:   "Cancel one run (the job's latest by default)",
		Example: `  dlthub job runs cancel github 3`,
		Args:    rangeArgs(1, 2, "a job and optionally a run number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, r, err := f.findRun(cmd.Context(), args)
			if err != nil {
				return err
			}
			got, err := t.c.CancelRun(cmd.Context(), t.wsID, r.ID)
			if err != nil {
				return apiErr(t.rs, err)
			}
			fmt.Fprintf(f.IO.ErrOut, "%s #%d: %s\n", got.JobRef, got.Number, got.Status)
			return nil
		},
	}
}
