package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newJobInfoCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info JOB",
		Short: "Show one deployed job: what it runs, its triggers and its status",
		Example: `  dlthub job info github
  dlthub job info jobs.ingest.github --json`,
		Args: exactArgs("JOB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := f.deployTarget()
			if err != nil {
				return err
			}
			all, err := deployedJobs(cmd.Context(), target, true)
			if err != nil {
				return err
			}
			list, err := selectDeployed(all, args)
			if err != nil {
				return err
			}
			if len(list) > 1 {
				var refs []string
				for _, j := range list {
					refs = append(refs, j.JobRef)
				}
				return fmt.Errorf("%q matches %d jobs: %s; name one of them", args[0], len(list), strings.Join(refs, ", "))
			}
			j := list[0]
			if asJSON {
				return writeJSON(f.IO.Out, j)
			}
			t := newTable(f.IO.Out)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(t, "%s\t%s\n", k, v)
				}
			}
			row("job", j.JobRef)
			row("description", j.Description)
			row("type", j.Type)
			row("runs", j.runs())
			row("status", j.status())
			row("updated", j.UpdatedAt.Local().Format("2006-01-02 15:04:05"))
			row("default trigger", j.DefaultTrigger)
			for i, tr := range j.Triggers {
				k := ""
				if i == 0 {
					k = "triggers"
				}
				fmt.Fprintf(t, "%s\t%s\t%s\n", k, tr, j.Describe[tr])
			}
			if j.Interval != nil {
				row("interval", strings.TrimSpace(j.Interval["start"]+" → "+j.Interval["end"]))
			}
			row("freshness", strings.Join(j.Freshness, ", "))
			row("refresh", j.Refresh)
			var req []string
			if rq := j.Require; rq != nil {
				if rq.Profile != "" {
					req = append(req, "profile="+rq.Profile)
				}
				if rq.Timezone != "" {
					req = append(req, "timezone="+rq.Timezone)
				}
				if len(rq.DependencyGroups) > 0 {
					req = append(req, "dependency_groups="+strings.Join(rq.DependencyGroups, "+"))
				}
			}
			row("require", strings.Join(req, ", "))
			if ep := j.EntryPoint; ep != nil {
				target := ep.Module
				if ep.Function != nil {
					target += "." + *ep.Function
				}
				row("entry point", target+" (launcher "+ep.Launcher+")")
			}
			if j.Execute != nil {
				row("timeout", fmt.Sprint(j.Execute["timeout"]))
				slots := "one run at a time"
				if c := j.Concurrency(); c > 1 {
					slots = fmt.Sprintf("up to %d runs at a time", c)
				}
				policy := slots + "; new runs queue; no retries"
				if n, ok := j.Execute["retries"].(float64); ok && n > 0 {
					policy = fmt.Sprintf("%s; new runs queue; a failed run is retried up to %d time(s)", slots, int(n))
				}
				row("policy", policy)
			}
			row("hash", j.Hash)
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
