package cli

import "github.com/spf13/cobra"

func newProfileCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "List, inspect and pin profiles",
		Long: `Profiles select which configuration files are read: dev (local default),
tests, prod and access are built in; any other name is a custom profile.

The active profile is the first that is set of: --profile, the
WORKSPACE__PROFILE environment variable, the profile pinned in
.dlt/profile-name, and dev.`,
		Args: noArgs,
	}
	cmd.AddCommand(newProfileListCmd(f), newProfileInfoCmd(f), newProfileUseCmd(f))
	return cmd
}
