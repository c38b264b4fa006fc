package cli

import "github.com/spf13/cobra"

func newPipelineCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Create and run declarative pipelines",
		Long: `Declarative pipelines live in pipelines/<name>.toml: a source with its
settings, a destination and per-resource hints. Secrets never go in that file;
they resolve from the configuration at sources.<name>.<key>.`,
		Args: noArgs,
	}
	cmd.AddCommand(newPipelineInitCmd(f), newLocalPipelineRunCmd(f))
	return cmd
}
