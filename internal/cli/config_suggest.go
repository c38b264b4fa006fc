package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/declarative"
	"github.com/dlthub/dlthub/internal/suggest"
	"github.com/dlthub/dlthub/internal/workspace"
)

// dltSections are the top-level sections dlt (and this workspace format)
// read; a pipeline's name is one too (its own values come first).
func dltSections() []string {
	return []string{"runtime", "destination", "sources", "pipelines", "normalize", "load", "extract",
		"data_writer", "schema", "providers", "workspace", "jobs"}
}

// wellKnownKeys are keys dlt reads that a fresh workspace has not set yet.
func wellKnownKeys() []string {
	return []string{
		"runtime.log_level", "runtime.log_format", "runtime.request_timeout", "runtime.request_max_attempts",
		"runtime.dlthub_telemetry", "normalize.workers", "load.workers", "extract.workers",
		"data_writer.buffer_max_items", "data_writer.file_max_items", "data_writer.file_max_bytes",
	}
}

// setKey is a key set in one of the TOML files of .dlt or ~/.dlt.
type setKey struct {
	Key     string
	File    string // as shown: .dlt/config.toml, ~/.dlt/secrets.toml
	Profile string // the profile that reads only this file; "" for every profile
}

// setKeys lists the keys set in every config and secrets file of the
// workspace and of ~/.dlt, any profile's; unreadable files are skipped
// (the command that needs them reports them).
func (f *Factory) setKeys(ws *workspace.Workspace) []setKey {
	var out []setKey
	for _, dir := range []string{ws.ConfigDir(), f.Env.GlobalDir()} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			var profile string
			switch {
			case name == "config.toml" || name == "secrets.toml":
			case strings.HasSuffix(name, ".config.toml"):
				profile = strings.TrimSuffix(name, ".config.toml")
			case strings.HasSuffix(name, ".secrets.toml"):
				profile = strings.TrimSuffix(name, ".secrets.toml")
			default:
				continue
			}
			path := filepath.Join(dir, name)
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			doc, err := config.ParseTOML(path, b)
			if err != nil {
				continue
			}
			shown := filepath.ToSlash(ws.Rel(path))
			if filepath.IsAbs(shown) {
				shown = displayHome(f, path)
			}
			var walk func(prefix []string, m map[string]any)
			walk = func(prefix []string, m map[string]any) {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					p := append(append([]string{}, prefix...), k)
					if sub, ok := m[k].(map[string]any); ok {
						walk(p, sub)
						continue
					}
					out = append(out, setKey{Key: strings.Join(p, "."), File: shown, Profile: profile})
				}
			}
			walk(nil, doc)
		}
	}
	return out
}

// missingKeyHint is what `config get` adds to a missing key's error: the
// key set in another profile's file, or the closest key set anywhere.
func missingKeyHint(keys []setKey, key, profile string) string {
	var names []string
	for _, k := range keys {
		if k.Key == key && k.Profile != "" && k.Profile != profile {
			return fmt.Sprintf("%s is set in %s, which profile %q does not read: add --profile %s", key, k.File, profile, k.Profile)
		}
		if k.Key != key {
			names = append(names, k.Key)
		}
	}
	s := suggest.Closest(key, names)
	if s == "" {
		return ""
	}
	for _, k := range keys {
		if k.Key != s {
			continue
		}
		if k.Profile != "" && k.Profile != profile {
			return fmt.Sprintf("did you mean %s? It is set in %s (profile %s: add --profile %s)", s, k.File, k.Profile, k.Profile)
		}
		return fmt.Sprintf("did you mean %s? It is set in %s", s, k.File)
	}
	return ""
}

// unknownSectionWarning is what `config set` warns of a key whose first
// section neither dlt nor this workspace knows (runtim.log_level): the
// closest key set or well known, else the closest section. "" when the
// section is known or the key has none.
func unknownSectionWarning(keys []setKey, pipelines []string, key, file string) string {
	parts := strings.Split(key, ".")
	if len(parts) < 2 {
		return ""
	}
	sections := append(dltSections(), pipelines...)
	names := wellKnownKeys()
	for _, k := range keys {
		if k.Key == key {
			return "" // it was there already
		}
		names = append(names, k.Key)
		if s, _, _ := strings.Cut(k.Key, "."); s != k.Key && !slices.Contains(sections, s) {
			sections = append(sections, s)
		}
	}
	if slices.Contains(sections, parts[0]) {
		return ""
	}
	msg := fmt.Sprintf("%s is in no section dlt reads (%s), this workspace has, or named after a pipeline", key, strings.Join(dltSections(), ", "))
	switch s := suggest.Closest(key, names); {
	case s != "":
		msg += fmt.Sprintf("; did you mean %s?", s)
	default:
		if sec := suggest.Closest(parts[0], sections); sec != "" {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(append([]string{sec}, parts[1:]...), "."))
		}
	}
	return msg + fmt.Sprintf(" It is set anyway: if that was a typo, remove it from %s.", file)
}

// pipelineNames are the workspace's declarative pipelines, whose names are
// sections too.
func pipelineNames(ws *workspace.Workspace) []string {
	names, _ := declarative.List(ws.Root)
	return names
}
