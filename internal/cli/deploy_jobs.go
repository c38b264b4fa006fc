package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
)

// jobSpecs turns the expanded manifest into what reconcile sends.
func jobSpecs(m *jobs.Manifest) ([]platform.JobSpec, error) {
	e := m.Expand()
	out := make([]platform.JobSpec, 0, len(e.Jobs))
	for _, j := range e.Jobs {
		spec, err := json.Marshal(j)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.JobRef, err)
		}
		out = append(out, platform.JobSpec{Ref: j.JobRef, Hash: j.Hash, Spec: spec})
	}
	return out, nil
}

// planJobs is what reconcile would do, computed from the server's jobs
// (for --dry-run).
func planJobs(specs []platform.JobSpec, deployed []platform.DeployedJob) []platform.JobChange {
	have := map[string]platform.DeployedJob{}
	for _, d := range deployed {
		have[d.Ref] = d
	}
	var out []platform.JobChange
	listed := map[string]bool{}
	for _, s := range specs {
		listed[s.Ref] = true
		d, ok := have[s.Ref]
		switch {
		case !ok:
			out = append(out, platform.JobChange{Ref: s.Ref, Action: "added"})
		case d.Hash != s.Hash || !d.Active:
			out = append(out, platform.JobChange{Ref: s.Ref, Action: "updated"})
		default:
			out = append(out, platform.JobChange{Ref: s.Ref, Action: "unchanged"})
		}
	}
	for _, d := range deployed {
		if !listed[d.Ref] && d.Active {
			out = append(out, platform.JobChange{Ref: d.Ref, Action: "archived"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// syncJobs reconciles the manifest's jobs and prints one row per job.
func (t *deployTarget) syncJobs(ctx context.Context, f *Factory, m *jobs.Manifest, dryRun bool) (changed bool, err error) {
	specs, err := jobSpecs(m)
	if err != nil {
		return false, err
	}
	var changes []platform.JobChange
	if dryRun {
		deployed, err := t.c.Jobs(ctx, t.wsID)
		if err != nil {
			return false, apiErr(t.rs, err)
		}
		changes = planJobs(specs, deployed)
	} else if changes, err = t.c.ReconcileJobs(ctx, t.wsID, specs); err != nil {
		return false, fmt.Errorf("reconcile jobs in %s: %w", t.wsID, apiErr(t.rs, err))
	}
	verb := ""
	if dryRun {
		verb = "would be "
	}
	for _, c := range changes {
		fmt.Fprintf(f.IO.ErrOut, "  job            %s%-9s  %s\n", verb, c.Action, c.Ref)
		if c.Action != "unchanged" {
			changed = true
		}
	}
	return changed, nil
}
