package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newWorkspaceDeploymentListCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the deployed code versions, the active one first",
		Example: `  dlthub workspace deployment list --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := listDeployments(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []platform.Deployment{}
				}
				return writeJSON(f.IO.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "Nothing deployed yet: run `dlthub deploy`.")
				return nil
			}
			t := newTable(f.IO.Out)
			fmt.Fprintln(t, "VERSION\tCREATED\tFILES\tSIZE\tHASH\t")
			for i, d := range list {
				active := ""
				if i == 0 {
					active = "active"
				}
				fmt.Fprintf(t, "%d\t%s\t%d\t%s\t%s\t%s\n", d.Version, d.CreatedAt.Local().Format("2006-01-02 15:04"), d.Files, humanize.IBytes(uint64(d.Size)), d.ContentHash[:12], active)
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
