package jobs

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FromSpec rebuilds a job from its expanded form as JSON (the spec the
// control plane stores).
func FromSpec(spec string) (*Job, error) {
	var x ExpandedJob
	if err := json.Unmarshal([]byte(spec), &x); err != nil {
		return nil, fmt.Errorf("the deployed spec is unreadable: %w", err)
	}
	return FromExpanded(&x)
}

// FromExpanded rebuilds a job from its expanded form, as the control plane
// stores it, so a worker computes windows and the launch environment with
// the same code as `dlthub local run`.
func FromExpanded(x *ExpandedJob) (*Job, error) {
	section, name, err := SplitRef(x.JobRef)
	if err != nil {
		return nil, err
	}
	j := &Job{Ref: x.JobRef, Section: section, Name: name, Description: x.Description, Type: x.Type,
		Pipeline: x.Pipeline, Command: x.Command, Freshness: x.Freshness, Refresh: x.Refresh}
	if x.EntryPoint != nil {
		ep := *x.EntryPoint
		j.EntryPoint = &ep
	}
	j.Deliver = x.Deliver["pipeline_name"]
	if j.Type == "" {
		j.Type = "batch"
	}
	for _, s := range x.Triggers {
		t, err := ParseTrigger(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.JobRef, err)
		}
		j.Triggers = append(j.Triggers, t)
	}
	if s, ok := x.Interval["start"]; ok {
		start, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("%s: interval start: %w", x.JobRef, err)
		}
		j.Interval = &Interval{Start: start}
		if e, ok := x.Interval["end"]; ok {
			end, err := time.Parse(time.RFC3339, e)
			if err != nil {
				return nil, fmt.Errorf("%s: interval end: %w", x.JobRef, err)
			}
			j.Interval.End = &end
		}
	}
	if x.Require != nil {
		j.Require = Require{Profile: x.Require.Profile, Timezone: x.Require.Timezone, DependencyGroups: x.Require.DependencyGroups}
	}
	j.Execute = Execute{Timeout: DefaultTimeout, GracePeriod: DefaultGracePeriod, Concurrency: 1}
	if v, ok := x.Execute["timeout"].(string); ok {
		if d, err := time.ParseDuration(v); err == nil {
			j.Execute.Timeout = d
		}
	}
	if v, ok := x.Execute["grace_period"].(string); ok {
		if d, err := time.ParseDuration(v); err == nil {
			j.Execute.GracePeriod = d
		}
	}
	switch c := x.Execute["concurrency"].(type) {
	case int:
		j.Execute.Concurrency = c
	case float64: // read back from JSON
		j.Execute.Concurrency = int(c)
	}
	switch n := x.Execute["retries"].(type) {
	case int:
		j.Execute.Retries = n
	case float64:
		j.Execute.Retries = int(n)
	}
	if m, ok := x.Expose["manual"].(bool); ok {
		j.Expose.Manual = m
	}
	j.Expose.DisplayName, _ = x.Expose["display_name"].(string)
	j.Expose.Interface, _ = x.Expose["interface"].(string)
	j.Expose.Category, _ = x.Expose["category"].(string)
	j.Expose.Starred, _ = x.Expose["starred"].(bool)
	return j, nil
}

// SplitRef splits a job ref into its section and name: jobs.<section>.<name>,
// or jobs.<name> for a job dlt declares at module level (its section is
// empty).
func SplitRef(ref string) (section, name string, err error) {
	parts := strings.Split(ref, ".")
	switch {
	case len(parts) == 3 && parts[0] == "jobs" && parts[1] != "" && parts[2] != "":
		return parts[1], parts[2], nil
	case len(parts) == 2 && parts[0] == "jobs" && parts[1] != "":
		return "", parts[1], nil
	}
	return "", "", fmt.Errorf("job ref %q: want jobs.<section>.<name> or jobs.<name>", ref)
}

// Sections are the job's configuration sections: jobs, its section (when
// it has one) and its name.
func (j *Job) Sections() []string {
	if j.Section == "" {
		return []string{"jobs", j.Name}
	}
	return []string{"jobs", j.Section, j.Name}
}

// Concurrency is how many runs of the job may be in progress at once
// (execute.concurrency, 1 when not set).
func (x *ExpandedJob) Concurrency() int {
	switch c := x.Execute["concurrency"].(type) {
	case int:
		return max(c, 1)
	case float64:
		return max(int(c), 1)
	}
	return 1
}
