package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newLocalPipelineDropPendingCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "drop-pending-packages NAME",
		Short: "Delete load packages that were extracted or normalized but not loaded",
		Long: `Delete the pipeline's pending load packages: extracted or normalized but not
loaded, such as a package the destination keeps refusing (see failed-jobs),
which every run otherwise retries before it extracts anything new. Their
records are not loaded and the state they carry (incremental cursors) is not
kept, so the next run extracts those records again where the source still
has them. As dlt's "dlt pipeline NAME drop-pending-packages".

On a terminal it asks first; elsewhere it needs -y.`,
		Example: `  dlthub local pipeline failed-jobs github
  dlthub local pipeline drop-pending-packages github -y`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			_, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			pkgs, err := p.Packages()
			if err != nil {
				return err
			}
			var pending []string
			for _, pk := range pkgs {
				if pk.Stage != "loaded" {
					pending = append(pending, pk.LoadID)
				}
			}
			if len(pending) == 0 {
				if asJSON {
					return writeJSON(f.IO.Out, []string{})
				}
				fmt.Fprintf(f.IO.ErrOut, "Pipeline %q has no pending packages.\n", args[0])
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "Will delete %d pending package(s) of pipeline %q: %s; their records will not be loaded.\n", len(pending), args[0], strings.Join(pending, ", "))
			if err := confirmDestructive(f, "Delete them?", "delete", "deleted"); err != nil {
				return err
			}
			dropped, err := p.DropPendingPackages()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(f.IO.Out, dropped)
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted %s.\n", strings.Join(dropped, ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the deleted load ids as JSON")
	return cmd
}
