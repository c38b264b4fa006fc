package cli

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
)

func newLocalPipelineTraceCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trace NAME",
		Short: "Show the last run of a pipeline: steps, timings, rows per table, error",
		Example: `  dlthub local pipeline trace github
  dlthub local pipeline trace github --json`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			_, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			tr, err := p.LastTrace()
			if err != nil {
				return err
			}
			if tr == nil {
				return fmt.Errorf("pipeline %q has no trace yet: it has not run", args[0])
			}
			if asJSON {
				return writeJSON(f.IO.Out, tr)
			}
			tw := newTable(f.IO.Out)
			fmt.Fprintf(tw, "Pipeline:\t%s\n", tr.Pipeline)
			fmt.Fprintf(tw, "Started:\t%s\n", tr.StartedAt.Format(time.RFC3339))
			fmt.Fprintf(tw, "Took:\t%s\n", tr.FinishedAt.Sub(tr.StartedAt).Round(time.Millisecond))
			for _, s := range tr.Steps {
				fmt.Fprintf(tw, "  %s\t%s\n", s.Step, s.Duration.Round(time.Millisecond))
			}
			fmt.Fprintf(tw, "Load ids:\t%v\n", tr.LoadIDs)
			tables := make([]string, 0, len(tr.Rows))
			for t := range tr.Rows {
				tables = append(tables, t)
			}
			sort.Strings(tables)
			fmt.Fprintln(tw, "Rows:")
			for _, t := range tables {
				fmt.Fprintf(tw, "  %s\t%d\n", t, tr.Rows[t])
			}
			if tr.Error != "" {
				fmt.Fprintf(tw, "Error:\t%s\n", tr.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
