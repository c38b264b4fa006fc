package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
)

func newJobCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "See the jobs deployed to the connected workspace, their runs and logs",
		Long: `The jobs dlthub deploy sent to the connected remote workspace: what each
runs, its triggers and whether it is active or archived (removed from
dlthub.toml; history kept, triggers off). For the jobs in this folder's
dlthub.toml, use dlthub deploy --show-manifest or dlthub local run.

Selectors: batch, interactive, schedule:*, tag:ingest, manual:jobs.etl.*,
jobs.ingest.*, a job ref or its name.`,
		Example: `  dlthub job list
  dlthub job list tag:ingest --archived
  dlthub job info github`,
		Args: noArgs,
	}
	cmd.AddCommand(newJobListCmd(f), newJobInfoCmd(f), newJobTriggerCmd(f), newJobLogsCmd(f), newJobRunsCmd(f), newJobCancelCmd(f), newJobPublishCmd(f), newJobUnpublishCmd(f))
	return cmd
}

// deployedJob is a job of the connected workspace: its expanded spec and
// its state on the control plane.
type deployedJob struct {
	*jobs.ExpandedJob
	Active     bool      `json:"active"`
	UpdatedAt  time.Time `json:"updated_at"`
	DeployedAt time.Time `json:"deployed_at"`
}

// next says when the scheduler queues the job next: a time for timed and
// once triggers, the upstream for job.success/job.fail ("" when nothing
// schedules it).
func (j deployedJob) next(now time.Time) string {
	if !j.Active {
		return ""
	}
	job, err := jobs.FromExpanded(j.ExpandedJob)
	if err != nil {
		return ""
	}
	if at, ok := job.NextFire(now, j.DeployedAt); ok {
		return at.Local().Format("01-02 15:04")
	}
	for _, t := range job.Triggers {
		if t.Kind == jobs.KindJobSuccess || t.Kind == jobs.KindJobFail {
			return "after " + t.Value
		}
	}
	return ""
}

func (j deployedJob) status() string {
	if j.Active {
		return "active"
	}
	return "archived"
}

// deployedJobs reads the connected workspace's jobs, archived ones only
// when asked, by ref.
func deployedJobs(ctx context.Context, t *deployTarget, archived bool) ([]deployedJob, error) {
	list, err := t.c.Jobs(ctx, t.wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace %s (runtime.workspace_id): %w", t.wsID, apiErr(t.rs, err))
	}
	out := make([]deployedJob, 0, len(list))
	for _, d := range list {
		if !d.Active && !archived {
			continue
		}
		x := &jobs.ExpandedJob{}
		if err := json.Unmarshal(d.Spec, x); err != nil || x.JobRef == "" {
			// A spec this version cannot read still shows up by ref.
			x = &jobs.ExpandedJob{JobRef: d.Ref, Hash: d.Hash}
		}
		out = append(out, deployedJob{ExpandedJob: x, Active: d.Active, UpdatedAt: d.UpdatedAt, DeployedAt: d.DeployedAt})
	}
	return out, nil
}

// selectDeployed applies selectors (their union, in list order); none
// selects every job.
func selectDeployed(list []deployedJob, sels []string) ([]deployedJob, error) {
	if len(sels) == 0 {
		return list, nil
	}
	specs := make([]*jobs.ExpandedJob, len(list))
	for i, j := range list {
		specs[i] = j.ExpandedJob
	}
	picked := map[*jobs.ExpandedJob]bool{}
	for _, sel := range sels {
		got, err := jobs.SelectExpanded(specs, sel)
		if err != nil {
			return nil, err
		}
		for _, g := range got {
			picked[g] = true
		}
	}
	var out []deployedJob
	for _, j := range list {
		if picked[j.ExpandedJob] {
			out = append(out, j)
		}
	}
	return out, nil
}

// runs says what a job runs: its pipeline or its command.
func (j deployedJob) runs() string {
	switch {
	case j.Pipeline != "":
		return "pipeline " + j.Pipeline
	case len(j.Command) > 0:
		return strings.Join(j.Command, " ")
	}
	return ""
}

// deployFirst deploys this folder before `run` or `serve` (unless
// noDeploy) and returns the selector to act on. A Python file (script.py,
// notebook.py) is deployed with the single job dlt makes of it, and that
// job's ref is returned (DESIGN §10's ad-hoc runs).
func (f *Factory) deployFirst(ctx context.Context, noDeploy bool, file, sel string) (string, error) {
	if !strings.HasSuffix(sel, ".py") {
		if noDeploy {
			return sel, nil
		}
		return sel, runDeploy(ctx, f, &deployOptions{File: file})
	}
	if noDeploy {
		return "", usagef("%s is deployed before it runs: drop --no-deploy, or name its job", sel)
	}
	opts := &deployOptions{File: file, Script: sel}
	if err := runDeploy(ctx, f, opts); err != nil {
		return "", err
	}
	return opts.AdHocRef, nil
}

// targetJob is the connected workspace and the one deployed job sel names.
func (f *Factory) targetJob(ctx context.Context, sel string) (*deployTarget, deployedJob, error) {
	t, err := f.deployTarget()
	if err != nil {
		return nil, deployedJob{}, err
	}
	j, err := deployedJob1(ctx, t, sel)
	return t, j, err
}

// targetJobs is the connected workspace and the deployed jobs the
// selectors name (archived ones too when asked).
func (f *Factory) targetJobs(ctx context.Context, sels []string, archived bool) (*deployTarget, []deployedJob, error) {
	t, err := f.deployTarget()
	if err != nil {
		return nil, nil, err
	}
	all, err := deployedJobs(ctx, t, archived)
	if err != nil {
		return nil, nil, err
	}
	list, err := selectDeployed(all, sels)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	return t, list, nil
}
