package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// dlt's manifest worker (python -m dlt._workspace.deployment._manifest_worker)
// prints one JSON object: {"manifest": TJobsDeploymentManifest, "warnings":
// [...]} or {"error": "...", "error_type": "..."}. The types below follow
// dlt/_workspace/deployment/typing.py of the pinned dlt; keys this platform
// does not act on (config_keys, inputs, output, agent, access, …) are read
// and ignored, as dlt's own runtime ignores what it does not know.

// Launcher modules of dlt (dlt._workspace.deployment.launchers).
const (
	LauncherJob       = "dlt._workspace.deployment.launchers.job"
	LauncherModule    = "dlt._workspace.deployment.launchers.module"
	LauncherMarimo    = "dlt._workspace.deployment.launchers.marimo"
	LauncherStreamlit = "dlt._workspace.deployment.launchers.streamlit"
	LauncherMCP       = "dlt._workspace.deployment.launchers.mcp"
	LauncherDashboard = "dlt._workspace.deployment.launchers.dashboard"
)

// UnlimitedConcurrency stands for dlt's `concurrency: None` (no limit):
// the control plane's queue counts runs in progress against a number.
const UnlimitedConcurrency = 1000

// WorkerOutput is what dlt's manifest worker prints.
type WorkerOutput struct {
	Manifest  *DltManifest `json:"manifest"`
	Warnings  []string     `json:"warnings"`
	Error     string       `json:"error"`
	ErrorType string       `json:"error_type"`
}

// DltManifest is dlt's TJobsDeploymentManifest.
type DltManifest struct {
	EngineVersion    int             `json:"engine_version"`
	DeploymentModule string          `json:"deployment_module"`
	Description      string          `json:"description"`
	Tags             []string        `json:"tags"`
	Jobs             []DltDefinition `json:"jobs"`
}

// DltDefinition is dlt's TJobDefinition.
type DltDefinition struct {
	EngineVersion      int             `json:"engine_version"`
	JobRef             string          `json:"job_ref"`
	Description        string          `json:"description"`
	EntryPoint         EntryPoint      `json:"entry_point"`
	Expose             map[string]any  `json:"expose"`
	Triggers           []string        `json:"triggers"`
	Execute            json.RawMessage `json:"execute"`
	Interval           map[string]any  `json:"interval"`
	Freshness          []string        `json:"freshness"`
	Require            map[string]any  `json:"require"`
	RefreshPropagation string          `json:"refresh_propagation"`
	Refresh            string          `json:"refresh"` // before dlt 1.29
	Deliver            map[string]any  `json:"deliver"`
}

// WorkerError is a manifest worker's failure as dlt reports it: its
// message already names the module, file and line where dlt knows them.
type WorkerError struct {
	Module, Type, Message string
}

func (e *WorkerError) Error() string {
	return fmt.Sprintf("dlt could not read the jobs of %s (%s): %s", e.Module, e.Type, e.Message)
}

// ParseWorkerOutput reads the manifest worker's output into a manifest;
// display names the deployment module in errors. Warnings are dlt's.
func ParseWorkerOutput(out []byte, display string) (*Manifest, []string, error) {
	var w WorkerOutput
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&w); err != nil {
		return nil, nil, fmt.Errorf("dlt's manifest worker printed no manifest for %s: %w", display, err)
	}
	if w.Error != "" || w.ErrorType != "" {
		return nil, nil, &WorkerError{Module: display, Type: w.ErrorType, Message: w.Error}
	}
	if w.Manifest == nil {
		return nil, nil, fmt.Errorf("dlt's manifest worker printed no manifest for %s", display)
	}
	m, err := FromDlt(w.Manifest, display)
	return m, w.Warnings, err
}

// FromDlt turns dlt's manifest into jobs of the one job model, validated
// as dlthub.toml jobs are (errors name the job and the key).
func FromDlt(d *DltManifest, display string) (*Manifest, error) {
	m := &Manifest{Path: display, Description: d.Description, Tags: d.Tags}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	seen := map[string]bool{}
	for i := range d.Jobs {
		j := fromDefinition(&d.Jobs[i], bad)
		if j == nil {
			continue
		}
		if seen[j.Ref] {
			bad("%s: declared twice", j.Ref)
		}
		seen[j.Ref] = true
		m.Jobs = append(m.Jobs, j)
	}
	// Follow-up triggers may name jobs of dlthub.toml: Combine checks them.
	if len(problems) > 0 {
		return nil, &ValidationError{Path: display, Problems: problems}
	}
	return m, nil
}

func fromDefinition(def *DltDefinition, bad func(string, ...any)) *Job {
	ref := def.JobRef
	section, name, err := SplitRef(ref)
	if err != nil {
		bad("%v", err)
		return nil
	}
	if (section != "" && !refPart.MatchString(section)) || !refPart.MatchString(name) {
		bad("%s: job references use letters, digits, '-' and '_'", ref)
	}
	ep := def.EntryPoint
	j := &Job{Ref: ref, Section: section, Name: name, Description: def.Description, Type: ep.JobType, Refresh: "auto",
		Execute: Execute{Timeout: DefaultTimeout, GracePeriod: DefaultGracePeriod, Concurrency: 1}, Expose: Expose{Manual: true}, EntryPoint: &ep}
	switch ep.JobType {
	case "batch", "interactive":
	case "":
		j.Type = "batch"
	default:
		bad("%s: job_type %q is not supported here (batch or interactive)", ref, ep.JobType)
	}
	if ep.Module == "" || ep.Launcher == "" {
		bad("%s: entry_point needs a module and a launcher", ref)
	}
	timed := 0
	for i, s := range def.Triggers {
		t, err := ParseTrigger(s)
		if err != nil {
			bad("%s: triggers[%d]: %v", ref, i, err)
			continue
		}
		if t.IsTimed() {
			timed++
		}
		j.Triggers = append(j.Triggers, t)
	}
	if timed > 1 {
		bad("%s: triggers: at most one schedule or every per job", ref)
	}
	readExecute(j, def.Execute, bad)
	if def.Interval != nil {
		j.Interval = &Interval{}
		start, err := parseTime(def.Interval["start"])
		if err != nil {
			bad("%s: interval.start: %v", ref, err)
		}
		j.Interval.Start = start
		if e, ok := def.Interval["end"]; ok && e != nil {
			end, err := parseTime(e)
			if err != nil {
				bad("%s: interval.end: %v", ref, err)
			}
			j.Interval.End = &end
		}
		if mode, _ := def.Interval["mode"].(string); mode != "" && mode != "sequential" {
			bad("%s: interval.mode %q is not supported here (sequential)", ref, mode)
		}
	}
	for i, f := range def.Freshness {
		kind, target, _ := strings.Cut(f, ":")
		if kind != KindIsFresh && kind != "job.is_matching_interval_fresh" {
			bad("%s: freshness[%d] %q: want job.is_fresh:<job_ref>", ref, i, f)
			continue
		}
		j.Freshness = append(j.Freshness, target)
	}
	switch {
	case def.RefreshPropagation != "":
		j.Refresh = def.RefreshPropagation
	case def.Refresh != "":
		j.Refresh = def.Refresh
	}
	if j.Refresh != "auto" && j.Refresh != "always" && j.Refresh != "block" {
		bad("%s: refresh_propagation %q: use auto, always or block", ref, j.Refresh)
	}
	if rq := def.Require; rq != nil {
		j.Require.Profile, _ = rq["profile"].(string)
		j.Require.Timezone, _ = rq["timezone"].(string)
		for _, g := range anyList(rq["dependency_groups"]) {
			j.Require.DependencyGroups = append(j.Require.DependencyGroups, fmt.Sprint(g))
		}
		if j.Require.Timezone != "" {
			if _, err := time.LoadLocation(j.Require.Timezone); err != nil {
				bad("%s: require.timezone %q: not an IANA time zone such as Europe/Berlin", ref, j.Require.Timezone)
			}
		}
	}
	if def.Expose != nil {
		j.readExpose(def.Expose, bad)
	}
	if def.Deliver != nil {
		j.Deliver, _ = def.Deliver["pipeline_name"].(string)
	}
	return j
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// readExecute reads dlt's TExecuteSpec: timeout as seconds, a duration
// string or {timeout, grace_period}; concurrency as a number or null (no
// limit).
func readExecute(j *Job, raw json.RawMessage, bad func(string, ...any)) {
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var ex map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ex); err != nil {
		bad("%s: execute: want a table: %v", j.Ref, err)
		return
	}
	seconds := func(key string, v json.RawMessage, dst *time.Duration) {
		var x any
		_ = json.Unmarshal(v, &x)
		if x == nil {
			return
		}
		var d time.Duration
		var err error
		if f, ok := x.(float64); ok {
			d = time.Duration(f * float64(time.Second))
		} else {
			d, err = parseDuration(x)
		}
		if err != nil || d <= 0 {
			bad("%s: execute.%s: want a positive number of seconds", j.Ref, key)
			return
		}
		*dst = d
	}
	if v, ok := ex["timeout"]; ok {
		var spec map[string]json.RawMessage
		if json.Unmarshal(v, &spec) == nil {
			if t, ok := spec["timeout"]; ok {
				seconds("timeout", t, &j.Execute.Timeout)
			}
			if g, ok := spec["grace_period"]; ok {
				seconds("timeout.grace_period", g, &j.Execute.GracePeriod)
			}
		} else {
			seconds("timeout", v, &j.Execute.Timeout)
		}
	}
	if v, ok := ex["concurrency"]; ok {
		var n *float64
		if err := json.Unmarshal(v, &n); err != nil || (n != nil && (*n < 1 || *n != math.Trunc(*n))) {
			bad("%s: execute.concurrency: want a whole number of at least 1, or None", j.Ref)
		} else if n == nil {
			j.Execute.Concurrency = UnlimitedConcurrency
		} else {
			j.Execute.Concurrency = int(min(*n, UnlimitedConcurrency))
		}
	}
}

// Combine joins the jobs of dlthub.toml and of __deployment__.py into one
// manifest (DESIGN §10: both may coexist). A job ref declared in both is an
// error, except the dashboard dlt synthesizes, which a declared
// jobs.workspace.dashboard replaces; follow-up triggers may point across
// the two.
func Combine(parts ...*Manifest) (*Manifest, error) {
	var out *Manifest
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	where := map[string]string{}
	var paths []string
	for _, p := range parts {
		if p == nil {
			continue
		}
		paths = append(paths, p.Path)
		if out == nil {
			out = &Manifest{Path: p.Path, Description: p.Description, Tags: p.Tags}
		} else if out.Description == "" {
			out.Description = p.Description
		}
		for _, j := range p.Jobs {
			if first, dup := where[j.Ref]; dup {
				i := slices.IndexFunc(out.Jobs, func(o *Job) bool { return o.Ref == j.Ref })
				switch {
				case j.synthesized():
				case out.Jobs[i].synthesized():
					out.Jobs[i] = j
					where[j.Ref] = p.Path
				default:
					bad("%s: declared in %s and in %s; rename one", j.Ref, first, p.Path)
				}
				continue
			}
			where[j.Ref] = p.Path
			out.Jobs = append(out.Jobs, j)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("no jobs")
	}
	out.Path = strings.Join(paths, " and ")
	validateLinks(out, bad)
	if len(problems) > 0 {
		return nil, &ValidationError{Path: out.Path, Problems: problems}
	}
	return out, nil
}
