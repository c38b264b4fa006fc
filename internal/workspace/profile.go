package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/dlthub/dlthub/internal/atomicfile"
)

// Built-in profiles.
const (
	ProfileDev    = "dev"
	ProfileTests  = "tests"
	ProfileProd   = "prod"
	ProfileAccess = "access"
)

// PinFile holds the pinned profile name.
const PinFile = "profile-name"

// BuiltinProfiles lists the built-in profiles with what they are for.
func BuiltinProfiles() []ProfileInfo {
	return []ProfileInfo{
		{Name: ProfileDev, Description: "local development (default)", BuiltIn: true},
		{Name: ProfileTests, Description: "local test runs", BuiltIn: true},
		{Name: ProfileProd, Description: "batch jobs on the platform, synced", BuiltIn: true},
		{Name: ProfileAccess, Description: "interactive jobs on the platform, read-only credentials, synced", BuiltIn: true},
	}
}

// Where a profile choice came from.
const (
	SourceFlag    = "--profile flag"
	SourceEnv     = "WORKSPACE__PROFILE"
	SourcePinned  = "pinned in .dlt/profile-name"
	SourceDefault = "default"
)

// Profile is the active profile and why it is active.
type Profile struct {
	Name   string
	Source string
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ValidateProfileName checks a profile name: letters, digits, "-" and "_".
func ValidateProfileName(name string) error {
	if !profileName.MatchString(name) {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '-' and '_'", name)
	}
	return nil
}

// ActiveProfile picks the profile: --profile, then WORKSPACE__PROFILE, then
// the pinned profile, then dev. w may be nil outside a workspace.
func ActiveProfile(w *Workspace, env Env, flag string) (Profile, error) {
	p := Profile{Name: ProfileDev, Source: SourceDefault}
	switch {
	case flag != "":
		p = Profile{Name: flag, Source: SourceFlag}
	case env.Get("WORKSPACE__PROFILE") != "":
		p = Profile{Name: env.Get("WORKSPACE__PROFILE"), Source: SourceEnv}
	case w != nil:
		pinned, err := w.PinnedProfile()
		if err != nil {
			return p, err
		}
		if pinned != "" {
			p = Profile{Name: pinned, Source: SourcePinned}
		}
	}
	if err := ValidateProfileName(p.Name); err != nil {
		return p, fmt.Errorf("%w (from %s)", err, p.Source)
	}
	return p, nil
}

// PinnedProfile reads .dlt/profile-name; "" when not pinned.
func (w *Workspace) PinnedProfile() (string, error) {
	b, err := os.ReadFile(w.Path(PinFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read pinned profile: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Pin writes .dlt/profile-name.
func (w *Workspace) Pin(name string) error {
	if err := ValidateProfileName(name); err != nil {
		return err
	}
	if err := atomicfile.Write(w.Path(PinFile), []byte(name+"\n"), 0o644); err != nil {
		return fmt.Errorf("pin profile %q: %w", name, err)
	}
	return nil
}

// HasProfileFiles reports whether <name>.config.toml or <name>.secrets.toml
// exists in the workspace.
func (w *Workspace) HasProfileFiles(name string) bool {
	return isFile(w.Path(name+".config.toml")) || isFile(w.Path(name+".secrets.toml"))
}

// ProfileInfo describes one profile for listings.
type ProfileInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	BuiltIn     bool     `json:"builtin"`
	Current     bool     `json:"current"`
	Pinned      bool     `json:"pinned"`
	Configured  bool     `json:"configured"`
	Files       []string `json:"files"`
}

// Profiles lists built-in profiles, custom profiles that have files, the
// pinned one and the current one, with their marks.
func (w *Workspace) Profiles(current string) ([]ProfileInfo, error) {
	pinned, err := w.PinnedProfile()
	if err != nil {
		return nil, err
	}
	byName := map[string]*ProfileInfo{}
	var order []string
	add := func(p ProfileInfo) {
		if _, ok := byName[p.Name]; !ok {
			pp := p
			byName[p.Name] = &pp
			order = append(order, p.Name)
		}
	}
	for _, p := range BuiltinProfiles() {
		add(p)
	}
	entries, err := os.ReadDir(w.ConfigDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	var custom []string
	for _, e := range entries {
		n := e.Name()
		for _, suffix := range []string{".config.toml", ".secrets.toml"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && base != "" && !strings.Contains(base, ".") && e.Type().IsRegular() {
				custom = append(custom, base)
			}
		}
	}
	sort.Strings(custom)
	for _, name := range custom {
		add(ProfileInfo{Name: name, Description: "custom profile"})
	}
	for _, name := range []string{pinned, current} {
		if name != "" {
			add(ProfileInfo{Name: name, Description: "custom profile"})
		}
	}
	out := make([]ProfileInfo, 0, len(order))
	for _, name := range order {
		p := byName[name]
		p.Current = name == current
		p.Pinned = name == pinned
		for _, f := range []string{name + ".config.toml", name + ".secrets.toml"} {
			if isFile(w.Path(f)) {
				p.Files = append(p.Files, w.Folder+"/"+f)
			}
		}
		p.Configured = len(p.Files) > 0
		if p.Files == nil {
			p.Files = []string{}
		}
		out = append(out, *p)
	}
	return out, nil
}
