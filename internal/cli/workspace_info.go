package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/server"
)

type workspaceInfoOptions struct {
	JSON bool
}

func newWorkspaceInfoCmd(f *Factory) *cobra.Command {
	opts := &workspaceInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the remote workspace this folder is connected to",
		Example: `  dlthub workspace info
  dlthub workspace info --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorkspaceInfo(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runWorkspaceInfo(ctx context.Context, f *Factory, opts *workspaceInfoOptions) error {
	wc, err := f.Open()
	if err != nil {
		return err
	}
	id, err := connectedWorkspaceID(wc)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%s is not connected to a remote workspace: run `dlthub workspace connect`", wc.ws.Root)
	}
	c, rs, err := f.apiClient()
	if err != nil {
		return err
	}
	w, err := c.Workspace(ctx, id)
	if err != nil {
		return fmt.Errorf("workspace %s (runtime.workspace_id): %w", id, apiErr(rs, err))
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, map[string]any{"workspace": w, "api_base_url": rs.BaseURL})
	}
	t := newTable(f.IO.Out)
	fmt.Fprintf(t, "workspace\t%s\n", w.Name)
	fmt.Fprintf(t, "id\t%s\n", w.ID)
	fmt.Fprintf(t, "organization\t%s (%s)\n", w.Organization, w.OrganizationID)
	fmt.Fprintf(t, "your role\t%s\n", w.Role)
	fmt.Fprintf(t, "repository\t%s\n", w.Repository)
	fmt.Fprintf(t, "server\t%s\n", rs.BaseURL)
	fmt.Fprintf(t, "page\t%s%s\n", strings.TrimSuffix(rs.BaseURL, "/"), server.WorkspacePagePath(w.ID))
	return t.Flush()
}
