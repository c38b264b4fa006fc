package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newWorkspaceConfigurationListCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the synced configuration versions, the active one first",
		Example: `  dlthub workspace configuration list --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := listConfigurations(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []platform.Configuration{}
				}
				return writeJSON(f.IO.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No configuration synced yet: run `dlthub deploy`.")
				return nil
			}
			t := newTable(f.IO.Out)
			fmt.Fprintln(t, "VERSION\tCREATED\tFILES\t")
			for i, c := range list {
				active := ""
				if i == 0 {
					active = "active"
				}
				fmt.Fprintf(t, "%d\t%s\t%s\t%s\n", c.Version, c.CreatedAt.Local().Format("2006-01-02 15:04"), strings.Join(c.Files, ", "), active)
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
