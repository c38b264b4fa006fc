package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/python"
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
			// A Python workspace's requirements are part of its code.
			var extra map[string][]byte
			if python.IsWorkspace(t.wc.ws.Root) {
				py, err := f.python(t.wc.ws)
				if err != nil {
					return err
				}
				req, err := py.Requirements(cmd.Context(), t.wc.ws.Root)
				if err != nil {
					return err
				}
				extra = map[string][]byte{python.RequirementsFile: req}
			}
			changed, err := t.syncCode(cmd.Context(), f, extra, dryRun)
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
