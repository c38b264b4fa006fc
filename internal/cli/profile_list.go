package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/workspace"
)

type profileListOptions struct{ JSON bool }

func newProfileListCmd(f *Factory) *cobra.Command {
	opts := &profileListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List profiles, marking the current, pinned and configured ones",
		Long: `List the built-in profiles, custom profiles that have files in .dlt/, and the
pinned one. "current" is the active profile, "pinned" the one in
.dlt/profile-name, "configured" a profile with its own
<profile>.config.toml or <profile>.secrets.toml.`,
		Example: `  dlthub profile list
  dlthub profile list --json`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runProfileList(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

func runProfileList(f *Factory, opts *profileListOptions) error {
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	p, err := workspace.ActiveProfile(ws, f.Env, f.ProfileFlag)
	if err != nil {
		return usageErr(err)
	}
	profiles, err := ws.Profiles(p.Name)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, profiles)
	}
	tw := newTable(f.IO.Out)
	fmt.Fprintln(tw, "PROFILE\tMARKS\tDESCRIPTION")
	for _, pi := range profiles {
		var marks []string
		if pi.Current {
			marks = append(marks, "current")
		}
		if pi.Pinned {
			marks = append(marks, "pinned")
		}
		if pi.Configured {
			marks = append(marks, "configured")
		} else {
			marks = append(marks, "not configured")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", pi.Name, strings.Join(marks, ", "), pi.Description)
	}
	return tw.Flush()
}
