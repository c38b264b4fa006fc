package cli

import "github.com/spf13/cobra"

func newLocalCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Work with the workspace on this machine",
		Args:  noArgs,
	}
	cmd.AddCommand(newLocalInfoCmd(f), newLocalCleanCmd(f), newLocalProfileCmd(f), newLocalPipelineCmd(f), newLocalRunCmd(f), newLocalServeCmd(f), newLocalShowCmd(f))
	return cmd
}

func newLocalProfileCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Pin a profile (same as `dlthub profile`)",
		Args:  noArgs,
	}
	cmd.AddCommand(newProfileUseCmd(f))
	return cmd
}
