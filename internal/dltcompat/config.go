package dltcompat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/workspace"
)

// This file is the configuration half of the harness (issue 12, part 3):
// a matrix of .dlt/*.toml files (workspace, profile and global),
// environment variables and /run/secrets-style files is resolved by dlt's
// resolver (config_driver.py) and by internal/config with the options
// `dlthub config get` uses, and the two are compared key by key.

// ConfigCase is one matrix: the files of a workspace, of ~/.dlt and of a
// secrets directory, an environment, an active profile, and the keys to
// look up in it.
type ConfigCase struct {
	Name    string `json:"name"`
	Profile string `json:"profile"`
	// Files maps a path under the case's directory to its content:
	// ws/.dlt/<file> (the workspace), home/.dlt/<file> (the global
	// folder, HOME being home/) and secrets/<name> or
	// secrets/<name>/<name> (the Kubernetes layout).
	Files   map[string]string `json:"files"`
	Env     map[string]string `json:"env"`
	Lookups []ConfigLookup    `json:"lookups"`
	// Dir is where WriteConfigCase put the files; the driver reads them
	// there.
	Dir string `json:"dir,omitempty"`
}

// ConfigLookup is one key to resolve. Key is what a user gives `dlthub
// config get`; Explicit, Section and Name are the same key the way a dlt
// configuration spec would resolve it (the sections dlt pops from the
// right, the spec's __section__ it never pops, the field), so the harness
// also checks that ParseKey splits a dotted key the way dlt's specs do.
type ConfigLookup struct {
	Key      string   `json:"key"`
	Explicit []string `json:"explicit"`
	Section  string   `json:"section"`
	Name     string   `json:"name"`
	// Secret is dlt's secret hint: only secrets are read from secret
	// files, and a secret found in config.toml is an error.
	Secret   bool   `json:"secret"`
	Pipeline string `json:"pipeline"`
}

// ConfigResult is what one resolver made of one lookup. Value is in the
// tagged canonical form of CanonValue (and config_driver.py's canon).
// Location is the file as dlt names it: its base name, "global:" in front
// for ~/.dlt; empty for the environment, where dlt does not say.
type ConfigResult struct {
	Key      string `json:"key"`
	Pipeline string `json:"pipeline"`
	Found    bool   `json:"found"`
	Value    any    `json:"value,omitempty"`
	Provider string `json:"provider,omitempty"`
	Lookup   string `json:"lookup,omitempty"`
	Location string `json:"location,omitempty"`
	// Error is "not_secret" when a secret was found where secrets may not
	// be (config.toml), with the provider and key that held it; "read"
	// when the files could not be read, Message saying why.
	Error         string `json:"error,omitempty"`
	Message       string `json:"message,omitempty"`
	ErrorProvider string `json:"error_provider,omitempty"`
	ErrorKey      string `json:"error_key,omitempty"`
	// Traces are the lookups made, in order, as [provider, key].
	Traces [][2]string `json:"traces,omitempty"`
	// SecretFile is set (by the Go side only) when the value came from a
	// file in the secrets directory.
	SecretFile bool `json:"-"`
}

// WriteConfigCase writes the case's files under dir (and the workspace
// marker) and records dir in the case.
func WriteConfigCase(c *ConfigCase, dir string) error {
	files := map[string]string{"ws/.dlt/" + workspace.MarkerFile: ""}
	for p, body := range c.Files {
		files[p] = body
	}
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	// A secrets directory always exists, so a lookup never falls back to
	// the machine's own /run/secrets.
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o755); err != nil {
		return fmt.Errorf("case %s: %w", c.Name, err)
	}
	c.Dir = dir
	return nil
}

// ResolveConfig resolves every lookup of a written case through
// internal/config, with what `dlthub config get` uses: the workspace found
// from its root, the global folder under HOME, the profile's files, the
// case's environment, ParseKey and Lookup. Only the secrets directory
// differs: the case's own instead of /run/secrets.
func ResolveConfig(c ConfigCase) ([]ConfigResult, error) {
	return resolveConfigWith(c, nil)
}

// resolveConfigWith is ResolveConfig with a hook that may change the
// resolver and each key before the lookup: the harness' own test breaks a
// rule with it to see the comparison catch it.
func resolveConfigWith(c ConfigCase, breakRule func(*config.Resolver, *config.Key)) ([]ConfigResult, error) {
	lookupEnv := func(k string) (string, bool) { v, ok := c.Env[k]; return v, ok }
	env := workspace.Env{LookupEnv: lookupEnv, Cwd: filepath.Join(c.Dir, "ws"), Home: filepath.Join(c.Dir, "home")}
	ws, err := workspace.Find(env)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	secretsDir := filepath.Join(c.Dir, "secrets")
	r, err := config.New(config.Options{
		ConfigDir: ws.ConfigDir(), GlobalDir: env.GlobalDir(), Profile: c.Profile,
		LookupEnv: lookupEnv, SecretsDir: secretsDir,
	})
	var fe *config.FileError
	if errors.As(err, &fe) { // every lookup fails, as `config get` would
		out := make([]ConfigResult, 0, len(c.Lookups))
		for _, lk := range c.Lookups {
			out = append(out, ConfigResult{Key: lk.Key, Pipeline: lk.Pipeline, Error: "read", Message: fe.Error()})
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	// dlt does not ask (nor trace) a provider that holds nothing.
	empty := map[string]bool{}
	for _, p := range r.Providers {
		if tp, ok := p.(*config.TomlProvider); ok && tp.Empty() {
			empty[tp.Name()] = true
		}
	}
	out := make([]ConfigResult, 0, len(c.Lookups))
	for _, lk := range c.Lookups {
		k, err := config.ParseKey(lk.Key)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		k.Pipeline = lk.Pipeline
		if breakRule != nil {
			breakRule(r, &k)
		}
		res := ConfigResult{Key: lk.Key, Pipeline: lk.Pipeline}
		if k.Secret != lk.Secret {
			res.Error = fmt.Sprintf("ParseKey says secret=%v", k.Secret)
			out = append(out, res)
			continue
		}
		got, err := r.Lookup(k)
		var nse *config.NotSecretError
		switch {
		case errors.As(err, &nse):
			res.Error, res.ErrorProvider, res.ErrorKey = "not_secret", nse.Provider, nse.KeyName
			out = append(out, res)
			continue
		case err != nil:
			return nil, fmt.Errorf("case %s: key %s: %w", c.Name, lk.Key, err)
		}
		for _, t := range got.Traces {
			if !empty[t.Provider] {
				res.Traces = append(res.Traces, [2]string{t.Provider, t.KeyName})
			}
		}
		if got.Found {
			res.Found = true
			if res.Value, err = CanonValue(got.Value); err != nil {
				return nil, fmt.Errorf("case %s: key %s: %w", c.Name, lk.Key, err)
			}
			res.Provider, res.Lookup = got.Winner.Provider, got.Winner.KeyName
			switch {
			case got.Winner.Provider != config.EnvProviderName:
				res.Location = dltLocation(got.Winner.Origin, env.GlobalDir())
			case strings.HasPrefix(got.Winner.Origin, secretsDir+string(filepath.Separator)):
				res.SecretFile = true
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// dltLocation names a TOML file the way dlt's providers do: its base name,
// with "global:" in front when it is in the global folder.
func dltLocation(path, globalDir string) string {
	if globalDir != "" && strings.HasPrefix(path, globalDir+string(filepath.Separator)) {
		return "global:" + filepath.Base(path)
	}
	return filepath.Base(path)
}

// CanonValue turns a resolved value into the tagged form both sides
// compare: every scalar says its TOML type, floats are printed with 17
// significant digits (as C's %.17g, which Python uses), datetimes with an
// offset are compared as the UTC instant plus the offset.
func CanonValue(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return map[string]any{"str": x}, nil
	case bool:
		return map[string]any{"bool": x}, nil
	case int64:
		return map[string]any{"int": strconv.FormatInt(x, 10)}, nil
	case float64:
		return map[string]any{"float": formatG17(x)}, nil
	case time.Time:
		_, off := x.Zone()
		return map[string]any{"datetime": x.UTC().Format("2006-01-02T15:04:05.000000"), "offset": off}, nil
	case toml.LocalDate:
		return map[string]any{"date": fmt.Sprintf("%04d-%02d-%02d", x.Year, x.Month, x.Day)}, nil
	case toml.LocalDateTime:
		return map[string]any{"local_datetime": fmt.Sprintf("%04d-%02d-%02dT%s", x.Year, x.Month, x.Day, clock(x.LocalTime))}, nil
	case toml.LocalTime:
		return map[string]any{"time": clock(x)}, nil
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			c, err := CanonValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = c
		}
		return map[string]any{"list": l}, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := CanonValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return map[string]any{"table": m}, nil
	}
	return nil, fmt.Errorf("no canonical form for %T %v", v, v)
}

// clock prints a time of day to the microsecond, as Python's datetime keeps it.
func clock(t toml.LocalTime) string {
	return fmt.Sprintf("%02d:%02d:%02d.%06d", t.Hour, t.Minute, t.Second, t.Nanosecond/1000)
}

// formatG17 is C's %.17g, spelling NaN and the infinities as Python does.
func formatG17(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// ConfigDifference is one deliberate difference rule of
// testdata/config-differences.json: Rule names a check in
// CompareConfigResult that lets the difference pass, Why says why it is
// deliberate.
type ConfigDifference struct {
	Rule string `json:"rule"`
	Why  string `json:"why"`
}

// secretFileNewlineRule is the deliberate difference on secret files:
// this resolver drops the line breaks a secret file ends with, dlt hands
// them on.
const secretFileNewlineRule = "secret-file-trailing-newline"

// inlineTableMergeRule is the deliberate difference on merging files:
// dlt fails to read the files when a file of lower precedence has an
// inline table where one of higher precedence has a [table] below it.
const inlineTableMergeRule = "dlt-cannot-merge-into-inline-table"

// CompareConfigResult says how ours differs from dlt's for one lookup,
// one line per difference (none when they match). allowed are the
// deliberate difference rules; used reports each rule that made a
// difference pass.
func CompareConfigResult(dlt, ours ConfigResult, allowed map[string]bool, used func(rule string)) []string {
	var d []string
	if dlt.Error == "read" && ours.Error != "read" && strings.Contains(dlt.Message, "Inline tables cannot contain a table") && allowed[inlineTableMergeRule] {
		used(inlineTableMergeRule)
		return nil
	}
	if dlt.Error == "read" && ours.Error == "read" {
		return nil // both refuse the files; the messages are each their own
	}
	if dlt.Error != ours.Error || dlt.ErrorProvider != ours.ErrorProvider || dlt.ErrorKey != ours.ErrorKey {
		d = append(d, fmt.Sprintf("error:\n    dlt:  %s\n    ours: %s", describeError(dlt), describeError(ours)))
		return d
	}
	if dlt.Error != "" {
		return nil
	}
	if dlt.Found != ours.Found || dlt.Provider != ours.Provider || dlt.Lookup != ours.Lookup || dlt.Location != ours.Location {
		d = append(d, fmt.Sprintf("source:\n    dlt:  %s\n    ours: %s", describeSource(dlt), describeSource(ours)))
	}
	dv, ov := canonJSON(dlt.Value), canonJSON(ours.Value)
	if dv != ov {
		rule := ""
		dltStr, ok1 := strOf(dlt.Value)
		ourStr, ok2 := strOf(ours.Value)
		if ours.SecretFile && ok1 && ok2 && dltStr != ourStr && strings.TrimRight(dltStr, "\r\n") == ourStr {
			rule = secretFileNewlineRule
		}
		if rule != "" && allowed[rule] {
			used(rule)
		} else {
			d = append(d, fmt.Sprintf("value:\n    dlt:  %s\n    ours: %s", dv, ov))
		}
	}
	if fmt.Sprint(dlt.Traces) != fmt.Sprint(ours.Traces) {
		d = append(d, "lookups, in order:\n    dlt:  "+describeTraces(dlt.Traces)+"\n    ours: "+describeTraces(ours.Traces))
	}
	return d
}

// strOf is the string of a canonical string value.
func strOf(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m["str"].(string)
	return s, ok
}

func canonJSON(v any) string {
	if v == nil {
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

func describeError(r ConfigResult) string {
	if r.Error == "" {
		return "no error"
	}
	if r.Message != "" {
		return r.Error + ": " + r.Message
	}
	if r.ErrorKey == "" {
		return r.Error
	}
	return fmt.Sprintf("%s (%s in %s)", r.Error, r.ErrorKey, r.ErrorProvider)
}

func describeSource(r ConfigResult) string {
	if !r.Found {
		return "not found"
	}
	s := r.Provider + " " + r.Lookup
	if r.Location != "" {
		s += " (" + r.Location + ")"
	}
	return s
}

func describeTraces(ts [][2]string) string {
	if len(ts) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t[0] + ":" + t[1]
	}
	return strings.Join(parts, ", ")
}

// DescribeConfigCase prints a case's profile, files and environment, so a
// difference can be reproduced by hand.
func DescribeConfigCase(c ConfigCase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s\n", c.Profile)
	paths := make([]string, 0, len(c.Files))
	for p := range c.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&b, "--- %s\n%s", p, c.Files[p])
		if !strings.HasSuffix(c.Files[p], "\n") {
			b.WriteString("⏎ (no newline at end)\n")
		}
	}
	names := make([]string, 0, len(c.Env))
	for n := range c.Env {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "env %s=%q\n", n, c.Env[n])
	}
	return b.String()
}
