package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newWorkspaceDeploymentCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deployment",
		Short: "List, inspect and sync the code deployed to the connected workspace",
		Example: `  dlthub workspace deployment list
  dlthub workspace deployment info 3
  dlthub workspace deployment sync --dry-run`,
		Args: noArgs,
	}
	cmd.AddCommand(newWorkspaceDeploymentListCmd(f), newWorkspaceDeploymentInfoCmd(f), newWorkspaceDeploymentSyncCmd(f))
	return cmd
}

func listDeployments(ctx context.Context, f *Factory) ([]platform.Deployment, error) {
	t, err := f.deployTarget()
	if err != nil {
		return nil, err
	}
	list, err := t.c.Deployments(ctx, t.wsID)
	if err != nil {
		return nil, fmt.Errorf("workspace %s (runtime.workspace_id): %w", t.wsID, apiErr(t.rs, err))
	}
	return list, nil
}
