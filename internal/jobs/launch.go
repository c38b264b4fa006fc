package jobs

import (
	"encoding/json"
	"fmt"
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
	flattenEnv([]string{"JOBS", l.Job.Section, l.Job.Name}, l.Config, env)
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
	if len(path) >= 3 && path[0] == "jobs" {
		if path[1] != l.Job.Section || path[2] != l.Job.Name {
			return nil // for another job
		}
		path = path[3:]
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
	res, err := r.Lookup(config.Key{Fixed: []string{"jobs", j.Section}, Name: j.Name})
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
