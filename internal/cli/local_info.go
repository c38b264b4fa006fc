package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/config"
)

type localInfoOptions struct{ JSON bool }

type location struct {
	Provider string `json:"provider"`
	Path     string `json:"path"`
	Present  bool   `json:"present"`
}

type localInfo struct {
	Name               string     `json:"name"`
	Root               string     `json:"root"`
	Profile            string     `json:"profile"`
	ProfileSource      string     `json:"profile_source"`
	DataDir            string     `json:"data_dir"`
	DataDirSource      string     `json:"data_dir_source"`
	LocalDir           string     `json:"local_dir"`
	LocalDirSource     string     `json:"local_dir_source"`
	ConfiguredProfiles []string   `json:"configured_profiles"`
	Locations          []location `json:"config_locations"`
}

func newLocalInfoCmd(f *Factory) *cobra.Command {
	opts := &localInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the workspace: name, root, profile, directories and config files",
		Long: `Show the workspace name and root, the active profile and why, the profile's
data directory (pipeline working dirs) and local directory (locally loaded
data), the configured profiles, and the configuration locations in the order
they are searched. With -v, locations that do not exist are listed too.`,
		Example: `  dlthub local info
  dlthub local info -v
  dlthub --profile prod local info --json`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runLocalInfo(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON (always lists every location)")
	return cmd
}

func runLocalInfo(f *Factory, opts *localInfoOptions) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	dirs := c.ws.Dirs(f.Env, c.resolver, c.profile.Name)
	profiles, err := c.ws.Profiles(c.profile.Name)
	if err != nil {
		return err
	}
	info := localInfo{
		Name: c.ws.Name(c.resolver), Root: c.ws.Root,
		Profile: c.profile.Name, ProfileSource: c.profile.Source,
		DataDir: c.display(f, dirs.Data), DataDirSource: dirs.DataSource,
		LocalDir: c.display(f, dirs.Local), LocalDirSource: dirs.LocalSource,
		ConfiguredProfiles: []string{},
	}
	for _, p := range profiles {
		if p.Configured {
			info.ConfiguredProfiles = append(info.ConfiguredProfiles, p.Name)
		}
	}
	info.Locations = append(info.Locations, location{Provider: config.EnvProviderName, Path: "environment variables, " + config.DefaultSecretsDir + " for secrets", Present: true})
	for _, p := range c.resolver.Providers {
		tp, ok := p.(*config.TomlProvider)
		if !ok {
			continue
		}
		for _, fs := range tp.Files() {
			info.Locations = append(info.Locations, location{Provider: tp.Name(), Path: c.display(f, fs.Path), Present: fs.Exists})
		}
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, info)
	}
	tw := newTable(f.IO.Out)
	fmt.Fprintf(tw, "Workspace:\t%s\n", info.Name)
	fmt.Fprintf(tw, "Root:\t%s\n", info.Root)
	fmt.Fprintf(tw, "Profile:\t%s\n", profileLabel(c.profile))
	fmt.Fprintf(tw, "Data dir:\t%s\t(%s)\n", info.DataDir, dirs.DataSource)
	fmt.Fprintf(tw, "Local dir:\t%s\t(%s)\n", info.LocalDir, dirs.LocalSource)
	configured := "(none)"
	if len(info.ConfiguredProfiles) > 0 {
		configured = strings.Join(info.ConfiguredProfiles, ", ")
	}
	fmt.Fprintf(tw, "Configured profiles:\t%s\n", configured)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, "Config locations, first wins:")
	tw = newTable(f.IO.Out)
	for _, l := range info.Locations {
		if !l.Present && !f.Verbose {
			continue
		}
		state := "present"
		if !l.Present {
			state = "missing"
		}
		if l.Provider == config.EnvProviderName {
			state = ""
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Provider, state, l.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !f.Verbose {
		fmt.Fprintln(f.IO.ErrOut, "(-v lists missing locations too)")
	}
	return nil
}
