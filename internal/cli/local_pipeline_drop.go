package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newLocalPipelineDropCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "drop NAME [RESOURCE...]",
		Short: "Drop resources' tables and state from a pipeline's destination",
		Long: `Drop the tables (with their child tables) of the given resources from the
pipeline's destination and schema, and reset their state (incremental
cursors), so the next run loads them from scratch. Without resources every
table of the pipeline goes. The new state is stored in the destination too.

On a terminal it asks first; elsewhere it needs -y.`,
		Example: `  dlthub local pipeline drop github issues
  dlthub local pipeline drop github -y`,
		Args: rangeArgs(1, -1, "the pipeline NAME and optionally resources"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			s, err := p.Schema()
			if err != nil {
				return err
			}
			if s == nil {
				return fmt.Errorf("pipeline %q has no schema yet: nothing to drop", args[0])
			}
			tables := p.DropTablesOf(s, args[1:])
			what := "every table"
			if len(args) > 1 {
				what = "resources " + strings.Join(args[1:], ", ")
			}
			fmt.Fprintf(f.IO.ErrOut, "Will drop %s of pipeline %q: tables %s in dataset %s, and their state.\n", what, p.Name(), strings.Join(tables, ", "), p.Dataset())
			if err := confirmDestructive(f, "Drop them?", "drop", "dropped"); err != nil {
				return err
			}
			ctx := cmd.Context() // always set: Run executes with a context
			dropped, err := p.DropResources(ctx, args[1:])
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Dropped %s.\n", strings.Join(dropped, ", "))
			return nil
		},
	}
}
