package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newJobListCmd(f *Factory) *cobra.Command {
	var asJSON, archived bool
	cmd := &cobra.Command{
		Use:   "list [SELECTOR...]",
		Short: "List the deployed jobs of the connected workspace",
		Example: `  dlthub job list
  dlthub job list schedule:* --json
  dlthub job list --archived`,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, err := f.deployedJobs(cmd.Context(), archived)
			if err != nil {
				return err
			}
			list, err := selectDeployed(all, args)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []deployedJob{}
				}
				return writeJSON(f.IO.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No jobs deployed yet: add them to dlthub.toml and run `dlthub deploy`.")
				return nil
			}
			t := newTable(f.IO.Out)
			fmt.Fprintln(t, "JOB\tTYPE\tTRIGGER\tSTATUS\tUPDATED")
			for _, j := range list {
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", j.JobRef, j.Type, j.DefaultTrigger, j.status(), j.UpdatedAt.Local().Format("2006-01-02 15:04"))
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&archived, "archived", false, "include archived jobs (removed from dlthub.toml)")
	return cmd
}
