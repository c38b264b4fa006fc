package cli

import (
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/python"
)

func newWorkspaceConfigurationSyncCmd(f *Factory) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync the configuration only, if it changed",
		Long: `Sync .dlt/config.toml, .dlt/secrets.toml and the files of prod, access and
the profiles jobs require (read from dlthub.toml when it exists) without
deploying code.`,
		Example: `  dlthub workspace configuration sync
  dlthub workspace configuration sync --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			// Profiles named by jobs come from the manifest, when there is one.
			var m *jobs.Manifest
			if wj, err := f.loadJobs(cmd.Context(), t.wc.ws, jobs.DefaultFile); err == nil {
				m = wj.Manifest
			} else if _, statErr := os.Stat(filepath.Join(t.wc.ws.Root, jobs.DefaultFile)); statErr == nil || python.IsWorkspace(t.wc.ws.Root) {
				f.warn(err.Error() + "; syncing the prod and access files only")
			}
			start := time.Now()
			changed, err := t.syncConfig(cmd.Context(), f, syncedProfiles(m), dryRun)
			if err != nil {
				return err
			}
			t.summary(f, start, dryRun, changed)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the files that would be synced, send nothing")
	return cmd
}
