package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/server"
)

func newWorkspaceShowCmd(f *Factory) *cobra.Command {
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Open the connected workspace's page in your browser",
		Long: `Print the address of the connected remote workspace's page (deployed code,
configuration, jobs and members) and, on a terminal, open it in your
browser. The page asks you to sign in if this browser has no session.`,
		Example: `  dlthub workspace show
  dlthub workspace show --no-browser`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			wc, err := f.Open()
			if err != nil {
				return err
			}
			id, err := connectedWorkspaceID(wc)
			if err != nil {
				return err
			}
			if id == "" {
				return errNotConnected
			}
			rs, err := f.runtimeSettings()
			if err != nil {
				return err
			}
			u := strings.TrimSuffix(rs.BaseURL, "/") + server.WorkspacePagePath(id)
			fmt.Fprintln(f.IO.Out, u)
			if !noBrowser && f.IO.CanPrompt() && f.OpenBrowser != nil {
				if err := f.OpenBrowser(u); err != nil {
					f.warn(browserFailure(err))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the address")
	return cmd
}
