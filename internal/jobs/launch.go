package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/config"
)

// Launch is everything a job's process is started with (DESIGN §5.4).
type Launch struct {
	Job     *Job
	Profile string
	RunID   string
	// Trigger is the full trigger string that started the run.
	Trigger string
	Refresh bool
	// Window is the run's interval (nil for jobs without one).
	Window *Window
	// Config is the job's configuration: its [jobs.<section>.<name>]
	// tables merged with -c overrides, as nested values.
	Config map[string]any
	// Port and BasePath are set for interactive jobs.
	Port     int
	BasePath string
}

// Env returns the variables the job's process gets on top of the
// inherited environment, sorted by name.
func (l Launch) Env() []string {
	env := map[string]string{
		"WORKSPACE__PROFILE": l.Profile,
		"DLTHUB_RUN_ID":      l.RunID,
		"DLTHUB_TRIGGER":     l.Trigger,
		"DLTHUB_REFRESH":     strconv.FormatBool(l.Refresh),
		"DLTHUB_JOB_REF":     l.Job.Ref,
	}
	if l.Window != nil {
		env["DLT_INTERVAL_START"] = l.Window.Start.UTC().Format(time.RFC3339)
		env["DLT_INTERVAL_END"] = l.Window.End.UTC().Format(time.RFC3339)
		env["DLT_INTERVAL_TIMEZONE"] = l.Job.Location().String()
	}
	if l.Job.Type == "interactive" {
		env["PORT"] = strconv.Itoa(l.Port)
		env["DLTHUB_BASE_PATH"] = l.BasePath
	}
	flattenEnv(l.Job.Sections(), l.Config, env)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + env[k]
	}
	return out
}

// flattenEnv turns nested configuration into SECTION__KEY variables:
// scalars as text, lists as JSON.
func flattenEnv(prefix []string, v any, env map[string]string) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, e := range x {
			flattenEnv(append(append([]string{}, prefix...), k), e, env)
		}
	default:
		name := strings.ToUpper(strings.Join(prefix, "__"))
		switch s := x.(type) {
		case string:
			env[name] = s
		case []any:
			b, _ := json.Marshal(s)
			env[name] = string(b)
		case time.Time:
			env[name] = s.Format(time.RFC3339)
		default:
			env[name] = fmt.Sprint(s)
		}
	}
}

// SetConfig applies a -c KEY=VALUE override: KEY is relative to the job
// ("limit", "api.page_size") or a full path ("jobs.ingest.github.limit").
func (l *Launch) SetConfig(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("-c %q: want KEY=VALUE", kv)
	}
	path := strings.Split(strings.TrimSpace(k), ".")
	if own := l.Job.Sections(); len(path) >= len(own) && path[0] == "jobs" {
		if !slices.Equal(path[:len(own)], own) {
			return nil // for another job
		}
		path = path[len(own):]
	}
	if len(path) == 0 {
		return fmt.Errorf("-c %q: name a key of the job", kv)
	}
	if l.Config == nil {
		l.Config = map[string]any{}
	}
	cur := l.Config
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
	return nil
}

// ConfigOf is the job's [jobs.<section>.<name>] table from configuration,
// for the JOBS__… variables of its launch (empty when there is none).
func ConfigOf(r *config.Resolver, j *Job) map[string]any {
	secs := j.Sections()
	res, err := r.Lookup(config.Key{Fixed: secs[:len(secs)-1], Name: j.Name})
	if err != nil || !res.Found {
		return map[string]any{}
	}
	if m, ok := res.Value.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// AppBasePath is the stable path under which the control plane serves an
// interactive job of a workspace (its DLTHUB_BASE_PATH).
func AppBasePath(workspaceID, jobRef string) string {
	return "/workspaces/" + workspaceID + "/apps/" + jobRef + "/"
}

// RuntimeEntryPoint is dlt's TRuntimeEntryPoint: the job's entry point
// with what the runtime adds for one run. dlt's launchers read it from
// --entry-point.
type RuntimeEntryPoint struct {
	EntryPoint
	JobRef           string         `json:"job_ref"`
	RunArgs          map[string]any `json:"run_args,omitempty"`
	IntervalStart    string         `json:"interval_start,omitempty"`
	IntervalEnd      string         `json:"interval_end,omitempty"`
	IntervalTimezone string         `json:"interval_timezone,omitempty"`
	Profile          string         `json:"profile,omitempty"`
	Config           map[string]any `json:"config,omitempty"`
	Refresh          bool           `json:"refresh"`
}

// RuntimeEntryPoint is what a Python job's launcher gets for this run
// (DESIGN §10): run_args for interactive jobs, the interval in ISO UTC and
// its timezone, the profile, the job's config section and the refresh
// signal.
func (l Launch) RuntimeEntryPoint() RuntimeEntryPoint {
	ep := RuntimeEntryPoint{JobRef: l.Job.Ref, Profile: l.Profile, Config: l.Config, Refresh: l.Refresh,
		IntervalTimezone: l.Job.Location().String()}
	if l.Job.EntryPoint != nil {
		ep.EntryPoint = *l.Job.EntryPoint
	}
	if l.Window != nil {
		ep.IntervalStart = l.Window.Start.UTC().Format(time.RFC3339)
		ep.IntervalEnd = l.Window.End.UTC().Format(time.RFC3339)
	}
	if l.Job.Type == "interactive" {
		// dlt's base_path has no trailing slash ("/workspace/123/notebook";
		// marimo refuses one); the root is "".
		ep.RunArgs = map[string]any{"port": l.Port, "base_path": strings.TrimSuffix(l.BasePath, "/")}
	}
	if len(ep.Config) == 0 {
		ep.Config = nil
	}
	return ep
}

// PythonArgv is how a Python job starts, as dltHub starts it:
// python -m <launcher> --run-id ID --trigger TRIGGER --entry-point JSON,
// where python is the interpreter's command (a path, or `uv run … python`).
func (l Launch) PythonArgv(python ...string) []string {
	b, _ := json.Marshal(l.RuntimeEntryPoint())
	return append(append([]string{}, python...), "-m", l.Job.EntryPoint.Launcher, "--run-id", l.RunID, "--trigger", l.Trigger, "--entry-point", string(b))
}
