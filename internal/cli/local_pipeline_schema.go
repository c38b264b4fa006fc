package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLocalPipelineSchemaCmd(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "schema NAME",
		Short: "Print a pipeline's schema as YAML or JSON",
		Long: `Print the pipeline's current schema: every table with its columns in order,
data types and hints, in the layout of dlt's own export (dlt pipeline NAME schema).`,
		Example: `  dlthub local pipeline schema github
  dlthub local pipeline schema github --format json`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "yaml" && format != "json" {
				return usagef("--format must be yaml or json, not %q", format)
			}
			_, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			s, err := p.Schema()
			if err != nil {
				return err
			}
			if s == nil {
				return fmt.Errorf("pipeline %q has no schema yet", args[0])
			}
			// The export is what dlt's `dlt pipeline NAME schema` prints;
			// internal/dltcompat compares the two.
			return s.WriteExport(f.IO.Out, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}
