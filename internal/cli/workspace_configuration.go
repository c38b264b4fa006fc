package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newWorkspaceConfigurationCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configuration",
		Short: "List, inspect and sync the configuration synced to the connected workspace",
		Long: `The configuration synced by deploy: .dlt/config.toml, .dlt/secrets.toml and
the files of prod, access and every profile a job requires (never dev or
tests). The server keeps them encrypted and shows file names only.`,
		Example: `  dlthub workspace configuration list
  dlthub workspace configuration info
  dlthub workspace configuration sync --dry-run`,
		Args: noArgs,
	}
	cmd.AddCommand(newWorkspaceConfigurationListCmd(f), newWorkspaceConfigurationInfoCmd(f), newWorkspaceConfigurationSyncCmd(f))
	return cmd
}

func listConfigurations(ctx context.Context, f *Factory) ([]platform.Configuration, error) {
	t, err := f.deployTarget()
	if err != nil {
		return nil, err
	}
	list, err := t.c.Configurations(ctx, t.wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace %s (runtime.workspace_id): %w", t.wsID, apiErr(t.rs, err))
	}
	return list, nil
}
