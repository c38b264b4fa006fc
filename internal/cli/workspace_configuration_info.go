package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newWorkspaceConfigurationInfoCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [VERSION]",
		Short: "Show one synced configuration version (default: the active one)",
		Example: `  dlthub workspace configuration info
  dlthub workspace configuration info 1 --json`,
		Args: rangeArgs(0, 1, "at most one version"),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := listConfigurations(cmd.Context(), f)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				return fmt.Errorf("no configuration synced yet: run `dlthub deploy`")
			}
			c := list[0]
			if len(args) == 1 {
				v, err := strconv.Atoi(args[0])
				if err != nil {
					return usagef("VERSION must be a number, not %q", args[0])
				}
				if v < 1 || v > list[0].Version {
					return fmt.Errorf("no version %d; versions run from 1 to %d", v, list[0].Version)
				}
				c = list[list[0].Version-v]
			}
			if asJSON {
				return writeJSON(f.IO.Out, map[string]any{"configuration": c, "active": c.Version == list[0].Version})
			}
			t := newTable(f.IO.Out)
			fmt.Fprintf(t, "version\t%d\n", c.Version)
			fmt.Fprintf(t, "active\t%v\n", c.Version == list[0].Version)
			fmt.Fprintf(t, "created\t%s\n", c.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			fmt.Fprintf(t, "files\t%s\n", strings.Join(c.Files, ", "))
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
