package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/pipeline"
)

func newLocalPipelineLoadPackageCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "load-package NAME [LOAD_ID]",
		Short: "Show a load package: stage, job files, sizes and rows",
		Long:  `Show one load package of the pipeline (the newest without LOAD_ID).`,
		Example: `  dlthub local pipeline load-package github
  dlthub local pipeline load-package github 1733050000.123456 --json`,
		Args: rangeArgs(1, 2, "NAME and optionally LOAD_ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			pkgs, err := p.Packages()
			if err != nil {
				return err
			}
			if len(pkgs) == 0 {
				return fmt.Errorf("pipeline %q has no load packages", args[0])
			}
			pk := pkgs[len(pkgs)-1]
			if len(args) == 2 {
				found := false
				for _, x := range pkgs {
					if x.LoadID == args[1] {
						pk, found = x, true
					}
				}
				if !found {
					return fmt.Errorf("pipeline %q has no load package %s", args[0], args[1])
				}
			}
			pk.Dir = c.display(f, pk.Dir)
			jobs := make([]pipeline.JobInfo, len(pk.Jobs))
			for i, j := range pk.Jobs {
				j.File = c.display(f, j.File)
				jobs[i] = j
			}
			pk.Jobs = jobs
			if asJSON {
				return writeJSON(f.IO.Out, pk)
			}
			tw := newTable(f.IO.Out)
			fmt.Fprintf(tw, "Load id:\t%s\n", pk.LoadID)
			fmt.Fprintf(tw, "Stage:\t%s\n", pk.Stage)
			fmt.Fprintf(tw, "Dir:\t%s\n", pk.Dir)
			if pk.Error != "" {
				fmt.Fprintf(tw, "Error:\t%s\n", pk.Error)
			}
			fmt.Fprintln(tw, "Jobs:")
			for _, j := range pk.Jobs {
				fmt.Fprintf(tw, "  %s\t%s\t%d bytes\t%d rows\t%s\n", j.Table, j.State, j.Bytes, pk.Rows[j.Table], j.File)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
