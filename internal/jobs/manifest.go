// Package jobs reads the dlthub.toml job manifest: jobs that run a
// declarative pipeline or a command, with triggers, intervals, freshness
// gates and execution limits. It validates (errors name the job and the
// key), expands (default and implicit triggers, content hashes) and selects
// jobs. It is pure logic: time comes from the caller.
package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/suggest"
)

// DefaultFile is the manifest's name at the workspace root.
const DefaultFile = "dlthub.toml"

// Manifest is a parsed and validated dlthub.toml.
type Manifest struct {
	Path        string
	Description string
	Tags        []string
	Jobs        []*Job
}

// Job is one [jobs.<section>.<name>] table.
type Job struct {
	Ref, Section, Name string
	Description        string
	Type               string // batch or interactive
	Pipeline           string
	Command            []string
	Triggers           []Trigger // as declared
	Interval           *Interval
	Freshness          []string // job refs this job waits for
	Refresh            string   // auto, always, block
	Require            Require
	Execute            Execute
	Expose             Expose
	// EntryPoint is set for jobs declared in Python (__deployment__.py):
	// how dlt's launcher starts them. Jobs of dlthub.toml have none.
	EntryPoint *EntryPoint
	// Deliver names the dlt pipeline a job loads (@run.pipeline), whose
	// trace gives the run's rows per table.
	Deliver string
	// Builtin marks a job nobody declared: the dashboard every Go
	// workspace gets (Dashboard). It is not part of the expanded job, so
	// declaring the same job changes nothing on the control plane.
	Builtin bool
}

// EntryPoint is dlt's TEntryPoint: the module (and function) a Python job
// runs, its job type and the launcher module that starts it.
type EntryPoint struct {
	Module   string  `json:"module"`
	Function *string `json:"function"`
	JobType  string  `json:"job_type"`
	Launcher string  `json:"launcher"`
}

// Interval is the declared window range; End nil means open.
type Interval struct {
	Start time.Time
	End   *time.Time
}

// Require says what a job needs.
type Require struct {
	Profile  string
	Timezone string
	// DependencyGroups are PEP 735 groups a Python job installs on top of
	// the workspace's default groups.
	DependencyGroups []string
}

// Execute holds limits.
type Execute struct {
	Timeout     time.Duration
	GracePeriod time.Duration
	Concurrency int
	// Retries is how many times a failed run is queued again (opt-in,
	// DESIGN §6.5: no automatic retries by default).
	Retries int
}

// MaxRetries bounds execute.retries.
const MaxRetries = 10

// Expose says how a job shows to people.
type Expose struct {
	DisplayName string
	Tags        []string
	Manual      bool
	Interface   string
	Category    string
	Starred     bool
}

// Defaults.
const (
	DefaultTimeout     = 2 * time.Hour
	DefaultGracePeriod = 30 * time.Second
)

// ValidationError lists every problem of a manifest.
type ValidationError struct {
	Path     string
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s is not valid:\n  %s", e.Path, strings.Join(e.Problems, "\n  "))
}

var refPart = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Load reads and validates a manifest file.
func Load(path, display string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no job manifest: %s does not exist (write one with [jobs.<section>.<name>] tables)", display)
		}
		return nil, err
	}
	return Parse(b, display)
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Parse parses and validates manifest text; display names the file in
// errors.
func Parse(b []byte, display string) (*Manifest, error) {
	doc, err := config.ParseTOML(display, b)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Path: display}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	unknown := func(where string, tbl map[string]any, known ...string) {
		for _, k := range keysOf(tbl) {
			if !slices.Contains(known, k) {
				msg := fmt.Sprintf("%s: unknown key %q", where, k)
				if s := suggest.Closest(k, known); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				bad("%s", msg)
			}
		}
	}
	unknown("top level", doc, "description", "tags", "jobs")
	m.Description, _ = doc["description"].(string)
	m.Tags = strList(doc["tags"])
	jobsTbl, _ := doc["jobs"].(map[string]any)
	if jobsTbl == nil {
		bad("no jobs: add a [jobs.<section>.<name>] table")
	}
	for _, section := range keysOf(jobsTbl) {
		sec, ok := jobsTbl[section].(map[string]any)
		if !ok {
			bad("jobs.%s: want a table of jobs ([jobs.%s.<name>])", section, section)
			continue
		}
		for _, name := range keysOf(sec) {
			ref := "jobs." + section + "." + name
			tbl, ok := sec[name].(map[string]any)
			if !ok {
				bad("%s: want a table", ref)
				continue
			}
			if !refPart.MatchString(section) || !refPart.MatchString(name) {
				bad("%s: job references use letters, digits, '-' and '_'", ref)
			}
			j := parseJob(ref, section, name, tbl, bad, unknown)
			m.Jobs = append(m.Jobs, j)
		}
	}
	validateLinks(m, bad)
	if len(problems) > 0 {
		return nil, &ValidationError{Path: display, Problems: problems}
	}
	return m, nil
}

func strList(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int64:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case string:
		if d, err := parseEvery(x); err == nil {
			return d, nil
		}
		return time.ParseDuration(x)
	}
	return 0, fmt.Errorf("want a duration such as 30s, 5m, 2h or a number of seconds")
}

func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		t, err := time.Parse(time.RFC3339, x)
		if err != nil {
			if d, err2 := time.Parse(time.DateOnly, x); err2 == nil {
				return d, nil
			}
			return t, fmt.Errorf("want an ISO 8601 time such as 2024-01-01T00:00:00Z")
		}
		return t.UTC(), nil
	}
	if s, ok := v.(fmt.Stringer); ok { // TOML local dates and times
		return parseTime(s.String())
	}
	return time.Time{}, fmt.Errorf("want an ISO 8601 time")
}

func parseJob(ref, section, name string, tbl map[string]any, bad func(string, ...any), unknown func(string, map[string]any, ...string)) *Job {
	j := &Job{Ref: ref, Section: section, Name: name, Type: "batch", Refresh: "auto",
		Execute: Execute{Timeout: DefaultTimeout, GracePeriod: DefaultGracePeriod, Concurrency: 1}, Expose: Expose{Manual: true}}
	unknown(ref, tbl, "description", "type", "pipeline", "command", "trigger", "interval", "freshness", "refresh", "require", "execute", "expose")
	j.Description, _ = tbl["description"].(string)
	if t, ok := tbl["type"].(string); ok {
		j.Type = t
	}
	if j.Type != "batch" && j.Type != "interactive" {
		bad("%s: type %q: use batch or interactive", ref, j.Type)
	}
	j.Pipeline, _ = tbl["pipeline"].(string)
	switch c := tbl["command"].(type) {
	case nil:
	case string:
		j.Command = strings.Fields(c)
	case []any:
		j.Command = strList(c)
	default:
		bad("%s: command: want a list such as [\"python\", \"load.py\"]", ref)
	}
	switch {
	case j.Pipeline == "" && len(j.Command) == 0:
		bad("%s: set pipeline = \"<name>\" or command = [...]", ref)
	case j.Pipeline != "" && len(j.Command) > 0:
		bad("%s: set either pipeline or command, not both", ref)
	}
	timed := 0
	for i, s := range strList(tbl["trigger"]) {
		t, err := ParseTrigger(s)
		if err != nil {
			bad("%s: trigger[%d]: %v", ref, i, err)
			continue
		}
		if t.IsTimed() {
			timed++
		}
		if t.Kind == KindHTTP && j.Type != "interactive" {
			bad("%s: trigger[%d] %q: http triggers are for interactive jobs (type = \"interactive\")", ref, i, s)
		}
		j.Triggers = append(j.Triggers, t)
	}
	if timed > 1 {
		bad("%s: trigger: at most one schedule or every per job", ref)
	}
	if iv, ok := tbl["interval"].(map[string]any); ok {
		unknown(ref+".interval", iv, "start", "end")
		j.Interval = &Interval{}
		start, err := parseTime(iv["start"])
		if err != nil {
			bad("%s: interval.start: %v", ref, err)
		}
		j.Interval.Start = start
		if e, ok := iv["end"]; ok {
			end, err := parseTime(e)
			if err != nil {
				bad("%s: interval.end: %v", ref, err)
			} else if !end.After(start) {
				bad("%s: interval.end must be after interval.start", ref)
			}
			j.Interval.End = &end
		}
		if timed == 0 {
			bad("%s: interval needs a schedule or every trigger to cut it into windows", ref)
		}
	} else if _, ok := tbl["interval"]; ok {
		bad("%s: interval: want a table { start = ..., end = ... }", ref)
	}
	for i, f := range strList(tbl["freshness"]) {
		r, ok := strings.CutPrefix(f, KindIsFresh+":")
		if !ok {
			bad("%s: freshness[%d] %q: want job.is_fresh:<job_ref>", ref, i, f)
			continue
		}
		j.Freshness = append(j.Freshness, r)
	}
	if r, ok := tbl["refresh"].(string); ok {
		j.Refresh = r
	}
	if j.Refresh != "auto" && j.Refresh != "always" && j.Refresh != "block" {
		bad("%s: refresh %q: use auto, always or block", ref, j.Refresh)
	}
	if rq, ok := tbl["require"].(map[string]any); ok {
		unknown(ref+".require", rq, "profile", "timezone")
		j.Require.Profile, _ = rq["profile"].(string)
		j.Require.Timezone, _ = rq["timezone"].(string)
		if j.Require.Timezone != "" {
			if _, err := time.LoadLocation(j.Require.Timezone); err != nil {
				bad("%s: require.timezone %q: not an IANA time zone such as Europe/Berlin", ref, j.Require.Timezone)
			}
		}
	}
	if ex, ok := tbl["execute"].(map[string]any); ok {
		unknown(ref+".execute", ex, "timeout", "grace_period", "concurrency", "retries")
		for key, dst := range map[string]*time.Duration{"timeout": &j.Execute.Timeout, "grace_period": &j.Execute.GracePeriod} {
			if v, ok := ex[key]; ok {
				d, err := parseDuration(v)
				if err != nil || d <= 0 {
					bad("%s: execute.%s: want a positive duration such as 30s, 5m, 2h", ref, key)
					continue
				}
				*dst = d
			}
		}
		if v, ok := ex["concurrency"]; ok {
			n, ok := v.(int64)
			if !ok || n < 1 {
				bad("%s: execute.concurrency: want a whole number of at least 1", ref)
			} else {
				j.Execute.Concurrency = int(n)
			}
		}
		if v, ok := ex["retries"]; ok {
			n, ok := v.(int64)
			if !ok || n < 0 || n > MaxRetries {
				bad("%s: execute.retries: want a whole number from 0 to %d", ref, MaxRetries)
			} else {
				j.Execute.Retries = int(n)
			}
		}
	}
	if exp, ok := tbl["expose"].(map[string]any); ok {
		unknown(ref+".expose", exp, "display_name", "tags", "manual", "interface", "category")
		j.readExpose(exp, bad)
	}
	return j
}

func validateLinks(m *Manifest, bad func(string, ...any)) {
	refs := map[string]bool{}
	var all []string
	for _, j := range m.Jobs {
		refs[j.Ref] = true
		all = append(all, j.Ref)
	}
	check := func(j *Job, what, target string) {
		if refs[target] {
			return
		}
		msg := fmt.Sprintf("%s: %s refers to %s, which is not a job of this manifest", j.Ref, what, target)
		if s := suggest.Closest(target, all); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		bad("%s", msg)
	}
	for _, j := range m.Jobs {
		for _, t := range j.Triggers {
			if t.Kind == KindJobSuccess || t.Kind == KindJobFail || t.Kind == KindManual {
				check(j, "trigger "+t.String(), t.Value)
			}
		}
		for _, f := range j.Freshness {
			check(j, "freshness", f)
		}
	}
}

// ExpandedJob is a job with its implicit triggers and hash, as printed by
// `deploy --show-manifest` and stored by the control plane.
type ExpandedJob struct {
	JobRef         string            `json:"job_ref"`
	Description    string            `json:"description,omitempty"`
	Type           string            `json:"type"`
	Pipeline       string            `json:"pipeline,omitempty"`
	Command        []string          `json:"command,omitempty"`
	Triggers       []string          `json:"triggers"`
	DefaultTrigger string            `json:"default_trigger"`
	Describe       map[string]string `json:"trigger_descriptions"`
	Interval       map[string]string `json:"interval,omitempty"`
	Freshness      []string          `json:"freshness,omitempty"`
	Refresh        string            `json:"refresh"`
	Require        *RequireSpec      `json:"require,omitempty"`
	Execute        map[string]any    `json:"execute"`
	Expose         map[string]any    `json:"expose"`
	EntryPoint     *EntryPoint       `json:"entry_point,omitempty"`
	Deliver        map[string]string `json:"deliver,omitempty"`
	Hash           string            `json:"hash"`
}

// RequireSpec is an expanded job's require table. Its JSON is the same as
// the map it replaced for profile and timezone, so hashes of manifests
// deployed before stay as they were.
type RequireSpec struct {
	Profile          string   `json:"profile,omitempty"`
	Timezone         string   `json:"timezone,omitempty"`
	DependencyGroups []string `json:"dependency_groups,omitempty"`
}

// RequiredProfile is the profile the job asks for ("" when none).
func (x *ExpandedJob) RequiredProfile() string {
	if x.Require == nil {
		return ""
	}
	return x.Require.Profile
}

// Expanded is the whole expanded manifest.
type Expanded struct {
	Description string         `json:"description,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Jobs        []*ExpandedJob `json:"jobs"`
	Hash        string         `json:"hash"`
}

// checkTags refuses expose tags that do not make a tag:<t> trigger which
// reads back as itself (an empty tag, or one with spaces around it): the
// control plane could not read such a job back.
// readExpose reads an expose table (dlthub.toml's or dlt's TExposeSpec):
// tags must make readable tag: triggers; starred is dlt's.
func (j *Job) readExpose(exp map[string]any, bad func(string, ...any)) {
	j.Expose.DisplayName, _ = exp["display_name"].(string)
	j.Expose.Tags = strList(exp["tags"])
	checkTags(j.Ref, j.Expose.Tags, bad)
	if v, ok := exp["manual"].(bool); ok {
		j.Expose.Manual = v
	}
	j.Expose.Interface, _ = exp["interface"].(string)
	j.Expose.Category, _ = exp["category"].(string)
	j.Expose.Starred, _ = exp["starred"].(bool)
}

func checkTags(ref string, tags []string, bad func(string, ...any)) {
	for _, tag := range tags {
		if t, err := ParseTrigger(KindTag + ":" + tag); err != nil || t.Value != tag {
			bad("%s: expose.tags: %q is not a tag (want a non-empty word without spaces around it)", ref, tag)
		}
	}
}

// AllTriggers are the declared triggers plus the implicit manual:<ref>
// (unless expose.manual = false) and tag:<t> for each expose tag.
func (j *Job) AllTriggers() []Trigger {
	out := slices.Clone(j.Triggers)
	has := func(s string) bool {
		for _, t := range out {
			if t.String() == s {
				return true
			}
		}
		return false
	}
	if j.Expose.Manual && !has(KindManual+":"+j.Ref) {
		out = append(out, Trigger{Kind: KindManual, Value: j.Ref})
	}
	for _, tag := range j.Expose.Tags {
		if !has(KindTag + ":" + tag) {
			out = append(out, Trigger{Kind: KindTag, Value: tag})
		}
	}
	return out
}

// DefaultTrigger is the first schedule or every, else the first trigger
// that is not manual, else manual.
func (j *Job) DefaultTrigger() Trigger {
	for _, t := range j.Triggers {
		if t.IsTimed() {
			return t
		}
	}
	for _, t := range j.Triggers {
		if t.Kind != KindManual {
			return t
		}
	}
	return Trigger{Kind: KindManual, Value: j.Ref}
}

// Expand builds the expanded manifest with content hashes.
func (m *Manifest) Expand() *Expanded {
	e := &Expanded{Description: m.Description, Tags: m.Tags}
	h := sha256.New()
	for _, j := range m.Jobs {
		x := &ExpandedJob{JobRef: j.Ref, Description: j.Description, Type: j.Type, Pipeline: j.Pipeline, Command: j.Command,
			DefaultTrigger: j.DefaultTrigger().String(), Describe: map[string]string{}, Freshness: j.Freshness, Refresh: j.Refresh,
			Execute: map[string]any{"timeout": j.Execute.Timeout.String(), "grace_period": j.Execute.GracePeriod.String(), "concurrency": j.Execute.Concurrency},
			Expose:  map[string]any{"display_name": j.Expose.DisplayName, "tags": nonNil(j.Expose.Tags), "manual": j.Expose.Manual, "interface": j.Expose.Interface, "category": j.Expose.Category},
		}
		if j.Execute.Retries > 0 {
			// Only when set: manifests without it keep their hashes.
			x.Execute["retries"] = j.Execute.Retries
		}
		for _, t := range j.AllTriggers() {
			x.Triggers = append(x.Triggers, t.String())
			x.Describe[t.String()] = t.Describe()
		}
		if j.Interval != nil {
			x.Interval = map[string]string{"start": j.Interval.Start.Format(time.RFC3339)}
			if j.Interval.End != nil {
				x.Interval["end"] = j.Interval.End.Format(time.RFC3339)
			}
		}
		if j.Require.Profile != "" || j.Require.Timezone != "" || len(j.Require.DependencyGroups) > 0 {
			x.Require = &RequireSpec{Profile: j.Require.Profile, Timezone: j.Require.Timezone, DependencyGroups: j.Require.DependencyGroups}
		}
		if j.EntryPoint != nil {
			ep := *j.EntryPoint
			x.EntryPoint = &ep
			if j.Expose.Starred {
				x.Expose["starred"] = true
			}
		}
		if j.Deliver != "" {
			x.Deliver = map[string]string{"pipeline_name": j.Deliver}
		}
		b, _ := json.Marshal(x)
		sum := sha256.Sum256(b)
		x.Hash = hex.EncodeToString(sum[:8])
		h.Write(sum[:])
		e.Jobs = append(e.Jobs, x)
	}
	b, _ := json.Marshal(struct {
		D string   `json:"d"`
		T []string `json:"t"`
	}{m.Description, m.Tags})
	h.Write(b)
	e.Hash = hex.EncodeToString(h.Sum(nil)[:8])
	return e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
