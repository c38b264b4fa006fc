package cli

import (
	"time"

	"github.com/spf13/cobra"
)

func newWorkspaceDeploymentSyncCmd(f *Factory) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Upload the code only (no manifest check), if it changed",
		Example: `  dlthub workspace deployment sync
  dlthub workspace deployment sync --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			start := time.Now()
			changed, err := t.syncCode(cmd.Context(), f, dryRun)
			if err != nil {
				return err
			}
			t.summary(f, start, dryRun, changed)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "compare with the active deployment, upload nothing")
	return cmd
}
