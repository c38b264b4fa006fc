package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
)

func newJobLogsCmd(f *Factory) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs JOB [RUN_NUMBER]",
		Short: "Print a run's log (the latest run by default); -f follows it live",
		Example: `  dlthub job logs github
  dlthub job logs github 3
  dlthub job logs jobs.ingest.github -f`,
		Args: rangeArgs(1, 2, "a job and optionally a run number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, r, err := f.findRun(ctx, args)
			if err != nil {
				return err
			}
			return followRun(ctx, f, t, r, follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the run ends")
	return cmd
}

// deployedJob1 is the one deployed job (active or archived) sel names;
// where it also names the built-in dashboard, the other job (jobs.PickOne).
func deployedJob1(ctx context.Context, t *deployTarget, sel string) (deployedJob, error) {
	all, err := deployedJobs(ctx, t, true)
	if err != nil {
		return deployedJob{}, err
	}
	list, err := selectDeployed(all, []string{sel})
	if err != nil {
		return deployedJob{}, usageErr(err)
	}
	refs := make([]string, len(list))
	for i, j := range list {
		refs[i] = j.JobRef
	}
	if i := jobs.PickOne(refs); i >= 0 {
		return list[i], nil
	}
	return deployedJob{}, usagef("%q matches %d jobs: %s; name one of them", sel, len(list), strings.Join(refs, ", "))
}

// findRun is the run args name: JOB and optionally its run number, else
// the job's latest run.
func (f *Factory) findRun(ctx context.Context, args []string) (*deployTarget, platform.Run, error) {
	t, err := f.deployTarget()
	if err != nil {
		return nil, platform.Run{}, err
	}
	j, err := deployedJob1(ctx, t, args[0])
	if err != nil {
		return nil, platform.Run{}, err
	}
	number := 0
	if len(args) == 2 {
		if number, err = strconv.Atoi(strings.TrimPrefix(args[1], "#")); err != nil || number < 1 {
			return nil, platform.Run{}, usagef("RUN_NUMBER must be a run number like 3, not %q", args[1])
		}
	}
	max := 1
	if number > 0 {
		max = 0
	}
	runs, err := t.c.Runs(ctx, t.wsID, j.JobRef, max)
	if err != nil {
		return nil, platform.Run{}, apiErr(t.rs, err)
	}
	for _, r := range runs {
		if number == 0 || r.Number == number {
			return t, r, nil
		}
	}
	if number > 0 {
		return nil, platform.Run{}, fmt.Errorf("%s has no run #%d", j.JobRef, number)
	}
	return nil, platform.Run{}, fmt.Errorf("%s has not run yet: start it with `dlthub run %s`", j.JobRef, j.JobRef)
}
