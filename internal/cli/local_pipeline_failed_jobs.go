package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type failedPackage struct {
	LoadID string   `json:"load_id"`
	Error  string   `json:"error"`
	Jobs   []string `json:"jobs"`
}

func newLocalPipelineFailedJobsCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "failed-jobs NAME",
		Short: "List load packages whose load failed, with the error",
		Long: `List the pending load packages whose last load attempt failed, with the
destination's error and their job files. The next run retries them before it
extracts anything new.`,
		Example: `  dlthub local pipeline failed-jobs github`,
		Args:    exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			pkgs, err := p.Packages()
			if err != nil {
				return err
			}
			out := []failedPackage{}
			for _, pk := range pkgs {
				if pk.Error == "" {
					continue
				}
				fp := failedPackage{LoadID: pk.LoadID, Error: pk.Error, Jobs: []string{}}
				for _, j := range pk.Jobs {
					fp.Jobs = append(fp.Jobs, c.display(f, j.File))
				}
				out = append(out, fp)
			}
			if asJSON {
				return writeJSON(f.IO.Out, out)
			}
			if len(out) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No failed jobs in pipeline %q.\n", args[0])
				return nil
			}
			for _, fp := range out {
				fmt.Fprintf(f.IO.Out, "Package %s failed:\n  %s\n", fp.LoadID, fp.Error)
				for _, j := range fp.Jobs {
					fmt.Fprintf(f.IO.Out, "  job %s\n", j)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
