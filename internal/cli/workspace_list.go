package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

type workspaceListOptions struct {
	JSON bool
}

func newWorkspaceListCmd(f *Factory) *cobra.Command {
	opts := &workspaceListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the remote workspaces you can use, by organization",
		Example: `  dlthub workspace list
  dlthub workspace list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorkspaceList(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runWorkspaceList(ctx context.Context, f *Factory, opts *workspaceListOptions) error {
	c, rs, err := f.apiClient()
	if err != nil {
		return err
	}
	list, err := c.Workspaces(ctx)
	if err != nil {
		return apiErr(rs, err)
	}
	if opts.JSON {
		if list == nil {
			list = []platform.Workspace{}
		}
		return writeJSON(f.IO.Out, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "No workspaces on %s yet: create one with `dlthub workspace connect NAME --create`.\n", rs.BaseURL)
		return nil
	}
	fmt.Fprint(f.IO.Out, groupByOrg(list, func(_ int, w platform.Workspace) string {
		s := fmt.Sprintf("%-24s %s  %s", w.Name, w.ID, w.Role)
		if w.Repository != "" {
			s += "  ← " + w.Repository
		}
		return s
	}))
	return nil
}
