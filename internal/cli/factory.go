// Package cli is the dlthub command tree: one file per command, all output
// through injected streams, and one place (Run) that turns errors into exit
// codes.
package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// Factory holds what commands share: streams, environment, version and the
// global flags. Expensive things (the workspace, the config resolver) are
// built lazily by the commands that need them, so `--help` stays instant.
type Factory struct {
	IO      *iostreams.IOStreams
	Env     workspace.Env
	Version string
	// OpenBrowser shows a URL in the user's browser (login on a terminal);
	// nil when this process has none to open, as in tests.
	OpenBrowser func(url string) error

	// Global flags.
	ProfileFlag    string
	Verbose        bool
	Yes            bool
	NonInteractive bool

	// profileChecked: an unknown --profile was warned about already.
	profileChecked bool
}

// Workspace finds the workspace from the current directory.
func (f *Factory) Workspace() (*workspace.Workspace, error) { return workspace.Find(f.Env) }

// wsContext is an opened workspace with its active profile and resolver.
type wsContext struct {
	ws       *workspace.Workspace
	profile  workspace.Profile
	resolver *config.Resolver
}

// Open finds the workspace, picks the active profile and loads its
// configuration.
func (f *Factory) Open() (*wsContext, error) {
	ws, err := f.Workspace()
	if err != nil {
		return nil, err
	}
	p, err := workspace.ActiveProfile(ws, f.Env, f.ProfileFlag)
	if err != nil {
		return nil, usageErr(err)
	}
	f.checkProfileFlag(ws, p)
	r, err := ws.Resolver(f.Env, p, f.warn)
	if err != nil {
		return nil, err
	}
	return &wsContext{ws: ws, profile: p, resolver: r}, nil
}

func (f *Factory) warn(msg string) { fmt.Fprintln(f.IO.ErrOut, "Warning: "+msg) }

// display shows a path relative to the workspace root, or with ~ for the
// home directory.
func (c *wsContext) display(f *Factory, p string) string {
	if r, err := filepath.Rel(c.ws.Root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return displayHome(f, p)
}

// displayHome shows a path under the home directory with ~.
func displayHome(f *Factory, p string) string {
	if f.Env.Home != "" {
		if r, err := filepath.Rel(f.Env.Home, p); err == nil && !strings.HasPrefix(r, "..") {
			return "~/" + filepath.ToSlash(r)
		}
	}
	return p
}

// profileLabel is "dev (default)".
func profileLabel(p workspace.Profile) string { return p.Name + " (" + p.Source + ")" }
