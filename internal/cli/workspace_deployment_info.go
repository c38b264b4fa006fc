package cli

import (
	"fmt"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newWorkspaceDeploymentInfoCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [VERSION]",
		Short: "Show one deployed version (default: the active one)",
		Example: `  dlthub workspace deployment info
  dlthub workspace deployment info 2 --json`,
		Args: rangeArgs(0, 1, "at most one version"),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := listDeployments(cmd.Context(), f)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				return fmt.Errorf("nothing deployed yet: run `dlthub deploy`")
			}
			d := list[0]
			if len(args) == 1 {
				v, err := strconv.Atoi(args[0])
				if err != nil {
					return usagef("VERSION must be a number, not %q", args[0])
				}
				found := false
				for _, x := range list {
					if x.Version == v {
						d, found = x, true
					}
				}
				if !found {
					return fmt.Errorf("no version %d; versions run from 1 to %d", v, list[0].Version)
				}
			}
			if asJSON {
				return writeJSON(f.IO.Out, map[string]any{"deployment": d, "active": d.Version == list[0].Version})
			}
			t := newTable(f.IO.Out)
			fmt.Fprintf(t, "version\t%d\n", d.Version)
			fmt.Fprintf(t, "active\t%v\n", d.Version == list[0].Version)
			fmt.Fprintf(t, "created\t%s\n", d.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			fmt.Fprintf(t, "files\t%d (%s)\n", d.Files, humanize.IBytes(uint64(d.Size)))
			fmt.Fprintf(t, "content hash\t%s\n", d.ContentHash)
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
