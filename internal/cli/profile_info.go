package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type profileInfoOptions struct{ JSON bool }

type profileInfo struct {
	Name        string   `json:"name"`
	Source      string   `json:"source"`
	Description string   `json:"description"`
	BuiltIn     bool     `json:"builtin"`
	Pinned      bool     `json:"pinned"`
	Configured  bool     `json:"configured"`
	Files       []string `json:"files"`
	DataDir     string   `json:"data_dir"`
	LocalDir    string   `json:"local_dir"`
}

func newProfileInfoCmd(f *Factory) *cobra.Command {
	opts := &profileInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the active profile, why it is active, and its files and directories",
		Example: `  dlthub profile info
  dlthub --profile prod profile info --json`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runProfileInfo(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

func runProfileInfo(f *Factory, opts *profileInfoOptions) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	profiles, err := c.ws.Profiles(c.profile.Name)
	if err != nil {
		return err
	}
	dirs := c.ws.Dirs(f.Env, c.resolver, c.profile.Name)
	info := profileInfo{Name: c.profile.Name, Source: c.profile.Source, DataDir: c.display(f, dirs.Data), LocalDir: c.display(f, dirs.Local)}
	for _, p := range profiles {
		if p.Name == c.profile.Name {
			info.Description, info.BuiltIn, info.Pinned, info.Configured, info.Files = p.Description, p.BuiltIn, p.Pinned, p.Configured, p.Files
		}
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, info)
	}
	files := "(none: only the workspace-wide files apply)"
	if len(info.Files) > 0 {
		files = strings.Join(info.Files, ", ")
	}
	tw := newTable(f.IO.Out)
	fmt.Fprintf(tw, "Profile:\t%s\n", profileLabel(c.profile))
	fmt.Fprintf(tw, "Description:\t%s\n", info.Description)
	fmt.Fprintf(tw, "Built-in:\t%s\n", yesNo(info.BuiltIn))
	fmt.Fprintf(tw, "Pinned:\t%s\n", yesNo(info.Pinned))
	fmt.Fprintf(tw, "Configured:\t%s\n", yesNo(info.Configured))
	fmt.Fprintf(tw, "Files:\t%s\n", files)
	fmt.Fprintf(tw, "Data dir:\t%s\n", info.DataDir)
	fmt.Fprintf(tw, "Local dir:\t%s\n", info.LocalDir)
	return tw.Flush()
}
