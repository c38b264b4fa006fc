package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/workspace"
)

// syncedProfiles are the profiles whose files deploy sends: prod, access
// and every profile a job requires; never dev or tests, which are local.
func syncedProfiles(m *jobs.Manifest) []string {
	set := map[string]bool{"prod": true, "access": true}
	if m != nil {
		for _, j := range m.Jobs {
			if p := j.Require.Profile; p != "" {
				set[p] = true
			}
		}
	}
	delete(set, workspace.ProfileDev)
	delete(set, "tests")
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// configFiles reads the configuration files to sync, checking each parses
// so a broken file stops the deploy with its line and column.
func (t *deployTarget) configFiles(profiles []string) ([]platform.ConfigFile, error) {
	names := []string{"config.toml", "secrets.toml"}
	for _, p := range profiles {
		names = append(names, p+".config.toml", p+".secrets.toml")
	}
	var out []platform.ConfigFile
	for _, n := range names {
		path := t.wc.ws.Path(n)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if _, err := config.ParseTOML(path, b); err != nil {
			return nil, fmt.Errorf("%w; fix it and deploy again (nothing was changed on the server)", err)
		}
		out = append(out, platform.ConfigFile{Name: n, Content: string(b)})
	}
	return out, nil
}

// syncConfig sends the configuration; the server keeps it encrypted and
// makes a new version only when something changed.
func (t *deployTarget) syncConfig(ctx context.Context, f *Factory, profiles []string, dryRun bool) (changed bool, err error) {
	files, err := t.configFiles(profiles)
	if err != nil {
		return false, err
	}
	names := make([]string, 0, len(files))
	for _, cf := range files {
		names = append(names, filepath.ToSlash(filepath.Join(t.wc.ws.Folder, cf.Name)))
	}
	if dryRun {
		fmt.Fprintf(f.IO.ErrOut, "  configuration  would sync %d files: %v\n", len(files), names)
		if f.Verbose {
			diffs, err := t.c.DiffConfiguration(ctx, t.wsID, files)
			if err != nil {
				return true, apiErr(t.rs, err)
			}
			printConfigDiff(f, diffs)
		}
		return true, nil
	}
	c, unchanged, err := t.c.SyncConfiguration(ctx, t.wsID, files)
	if err != nil {
		return false, fmt.Errorf("sync configuration to %s: %w", t.wsID, apiErr(t.rs, err))
	}
	state := "new"
	if unchanged {
		state = "unchanged"
	}
	fmt.Fprintf(f.IO.ErrOut, "  configuration  %-9s  version %d (%d files)\n", state, c.Version, len(c.Files))
	return !unchanged, nil
}

// printConfigDiff shows key names only: + added, ~ changed, - removed.
func printConfigDiff(f *Factory, diffs []platform.ConfigDiff) {
	for _, d := range diffs {
		fmt.Fprintf(f.IO.ErrOut, "      %s: %s\n", d.Name, d.State)
		for _, k := range d.Added {
			fmt.Fprintf(f.IO.ErrOut, "        + %s\n", k)
		}
		for _, k := range d.Changed {
			fmt.Fprintf(f.IO.ErrOut, "        ~ %s\n", k)
		}
		for _, k := range d.Removed {
			fmt.Fprintf(f.IO.ErrOut, "        - %s\n", k)
		}
	}
}
