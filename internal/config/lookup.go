package config

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Key names one value to resolve.
type Key struct {
	// Pipeline, when set, is tried first as the outermost section.
	Pipeline string
	// Sections are optional and popped from the right for less specific
	// lookups: destination.warehouse → destination → (none).
	Sections []string
	// Fixed sections are always present, innermost, and never popped
	// (dlt's config section, e.g. "credentials").
	Fixed []string
	// Name is the key itself.
	Name string
	// Secret values must not come from a provider that cannot hold secrets.
	Secret bool
}

// specSections are the sections of dlt's own configurations that dlt
// resolves as a configuration's __section__, innermost and never popped:
// runtime (RuntimeConfiguration: runtime.log_level is never looked up as
// log_level) and data_writer (BufferedDataWriterConfiguration:
// normalize.data_writer.buffer_max_items falls back to
// data_writer.buffer_max_items, not normalize.buffer_max_items).
func specSections() []string { return []string{"runtime", "data_writer"} }

// ParseKey turns a dotted key from the command line into a Key. A
// "credentials" segment and everything after it up to the name is kept
// fixed, like dlt's embedded credentials section, and so is an innermost
// section that is the __section__ of one of dlt's configurations
// (specSections); secrets are recognised by name (IsSecretKey).
func ParseKey(dotted string) (Key, error) {
	parts := strings.Split(dotted, ".")
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return Key{}, fmt.Errorf("invalid key %q: empty section (write sections separated by single dots, e.g. destination.warehouse.credentials.password)", dotted)
		}
	}
	k := Key{Name: parts[len(parts)-1]}
	secs := parts[:len(parts)-1]
	if i := slices.Index(secs, "credentials"); i >= 0 {
		k.Sections = append([]string{}, secs[:i]...)
		k.Fixed = append([]string{}, secs[i:]...)
	} else if n := len(secs); n > 0 && slices.Contains(specSections(), secs[n-1]) {
		k.Sections = append([]string{}, secs[:n-1]...)
		k.Fixed = []string{secs[n-1]}
	} else {
		k.Sections = append([]string{}, secs...)
	}
	k.Secret = IsSecretKey(k.Name)
	return k, nil
}

// String is the full dotted key without the pipeline.
func (k Key) String() string {
	return strings.Join(append(append(append([]string{}, k.Sections...), k.Fixed...), k.Name), ".")
}

// Paths returns the paths tried in one pass, most specific first. pipeline
// may be empty.
func (k Key) Paths(pipeline string) [][]string {
	var out [][]string
	build := func(ns []string) []string {
		var p []string
		if pipeline != "" {
			p = append(p, pipeline)
		}
		p = append(p, ns...)
		p = append(p, k.Fixed...)
		return append(p, k.Name)
	}
	ns := append([]string{}, k.Sections...)
	// sources.<module>.<source>[.…] and jobs.<section>.<name>[.…] also
	// get the compact form sources.<source> / jobs.<name>, tried third
	// (dlt's COMPACT_LAYOUT_SECTIONS), unless it is the second already
	// (module and source of one name).
	s := k.Sections
	compact := len(s) >= 3 && (s[0] == "sources" || s[0] == "jobs") && s[1] != s[2]
	for {
		out = append(out, build(ns))
		if compact && len(out) == 2 {
			out = append(out, build([]string{s[0], s[2]}))
		}
		if len(ns) == 0 {
			break
		}
		ns = ns[:len(ns)-1]
	}
	return out
}

// Trace is one lookup attempt.
type Trace struct {
	Provider string
	Path     []string
	KeyName  string // as the provider spells it
	Found    bool
	Value    any
	Origin   string // file or env var that held the value
	Pipeline bool   // tried in the pipeline-prefixed pass
	// Refused is set when a secret was found in a provider that may not hold
	// secrets.
	Refused bool

	cantHoldIt bool // a secret looked up in a provider that may not hold it
}

// Resolver looks values up across providers.
type Resolver struct {
	Providers []Provider
	// Profile is the active profile, named in errors.
	Profile string
}

// Result of a lookup.
type Result struct {
	Value  any
	Found  bool
	Winner Trace
	Traces []Trace
}

// attempts yields every lookup in dlt's order: the pipeline pass (when k
// has a pipeline) then the plain pass; within a pass, provider by provider,
// every path from most to least specific.
func (r *Resolver) attempts(k Key) iter.Seq[Trace] {
	return func(yield func(Trace) bool) {
		passes := []string{""}
		if k.Pipeline != "" {
			passes = []string{k.Pipeline, ""}
		}
		for _, pipeline := range passes {
			for _, p := range r.Providers {
				for _, path := range k.Paths(pipeline) {
					v, origin, ok := p.Get(path, k.Secret)
					t := Trace{
						Provider: p.Name(), Path: path, KeyName: p.KeyName(path),
						Found: ok, Value: v, Origin: origin, Pipeline: pipeline != "",
						Refused:    ok && k.Secret && !p.SupportsSecrets(),
						cantHoldIt: k.Secret && !p.SupportsSecrets(),
					}
					if !yield(t) {
						return
					}
				}
			}
		}
	}
}

// Lookup resolves k following dlt's order, stopping at the first value.
func (r *Resolver) Lookup(k Key) (Result, error) {
	var res Result
	for t := range r.attempts(k) {
		if t.Refused {
			res.Traces = append(res.Traces, t)
			return res, &NotSecretError{Key: k, Provider: t.Provider, File: t.Origin, KeyName: t.KeyName}
		}
		if t.cantHoldIt {
			continue // dlt does not trace providers that cannot hold the value
		}
		res.Traces = append(res.Traces, t)
		if t.Found {
			res.Value, res.Found, res.Winner = t.Value, true, t
			return res, nil
		}
	}
	return res, nil
}

// Require is Lookup that fails with a *MissingError when nothing is found.
func (r *Resolver) Require(k Key) (Result, error) {
	res, err := r.Lookup(k)
	if err != nil {
		return res, err
	}
	if !res.Found {
		return res, &MissingError{Keys: []Key{k}, Profile: r.Profile, Traces: [][]Trace{res.Traces}, Providers: r.Providers}
	}
	return res, nil
}

// Explain tries every path in every provider without stopping, so a user
// can see what was shadowed. The winner (as Lookup would pick it) is marked
// by Result.Winner; the error is the one Lookup would return.
func (r *Resolver) Explain(k Key) (Result, error) {
	res, err := r.Lookup(k)
	res.Traces = slices.Collect(r.attempts(k))
	return res, err
}

// NotSecretError is a secret found in config.toml (or another provider that
// must not hold secrets).
type NotSecretError struct {
	Key      Key
	Provider string
	File     string
	KeyName  string
}

func (e *NotSecretError) Error() string {
	where := e.Provider
	if e.File != "" {
		where = e.File
	}
	return fmt.Sprintf("%s: %q is a secret and must not be stored in %s; move it to the matching secrets.toml (or an environment variable %s)",
		where, e.KeyName, e.Provider, EnvName(append(append(append([]string{}, e.Key.Sections...), e.Key.Fixed...), e.Key.Name)))
}

// MissingError lists every key tried in every provider for one or more
// values that were required and not found.
type MissingError struct {
	Keys      []Key
	Profile   string
	Traces    [][]Trace
	Providers []Provider
}

func (e *MissingError) Error() string {
	var b strings.Builder
	for i, k := range e.Keys {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "missing value for %s (profile %q); looked up, in order:\n", k, e.Profile)
		var lastProv string
		var names []string
		flush := func() {
			if lastProv != "" {
				fmt.Fprintf(&b, "  %s%s: %s\n", lastProv, e.filesOf(lastProv), strings.Join(names, ", "))
			}
		}
		for _, t := range e.Traces[i] {
			label := t.Provider
			if t.Pipeline {
				label += " [pipeline " + t.Path[0] + "]"
			}
			if label != lastProv {
				flush()
				lastProv, names = label, nil
			}
			names = append(names, t.KeyName)
		}
		flush()
		full := append(append(append([]string{}, k.Sections...), k.Fixed...), k.Name)
		file := "config.toml"
		if k.Secret {
			file = "secrets.toml"
			b.WriteString("  (a secret: config.toml may not hold it)\n")
		}
		if len(full) > 1 {
			fmt.Fprintf(&b, "set it in .dlt/%s as\n  [%s]\n  %s = ...\nor in the environment as %s", file, strings.Join(full[:len(full)-1], "."), k.Name, EnvName(full))
		} else {
			fmt.Fprintf(&b, "set %s in .dlt/%s or in the environment as %s", k.Name, file, EnvName(full))
		}
	}
	return b.String()
}

func (e *MissingError) filesOf(provider string) string {
	for _, p := range e.Providers {
		if tp, ok := p.(*TomlProvider); ok && strings.HasPrefix(provider, tp.Name()) {
			var fs []string
			for _, f := range tp.Files() {
				fs = append(fs, f.Path)
			}
			return " (" + strings.Join(fs, ", ") + ")"
		}
	}
	return ""
}
