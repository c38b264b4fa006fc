package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/pipeline"
)

type pipelineSummary struct {
	Name        string `json:"name"`
	Destination string `json:"destination"`
	Dataset     string `json:"dataset"`
	LastRun     string `json:"last_run,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	Tables      int    `json:"tables"`
}

func newLocalPipelineListCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the pipelines of the active profile",
		Example: `  dlthub local pipeline list
  dlthub --profile prod local pipeline list --json`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			c, err := f.Open()
			if err != nil {
				return err
			}
			dir := filepath.Join(c.ws.Dirs(f.Env, c.resolver, c.profile.Name).Data, "pipelines")
			names, err := pipeline.List(dir)
			if err != nil {
				return err
			}
			out := []pipelineSummary{}
			for _, name := range names {
				p, err := pipeline.Attach(c.pipelineOptions(f, name))
				if err != nil {
					continue // a working dir without state: nothing ran yet
				}
				s := pipelineSummary{Name: name, Destination: p.DestinationName(), Dataset: p.Dataset()}
				if tr, err := p.LastTrace(); err == nil && tr != nil {
					s.LastRun, s.LastError = tr.FinishedAt.Format("2006-01-02 15:04:05Z"), tr.Error
				}
				if sc, err := p.Schema(); err == nil && sc != nil {
					s.Tables = len(sc.DataTables())
				}
				out = append(out, s)
			}
			if asJSON {
				return writeJSON(f.IO.Out, out)
			}
			if len(out) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No pipelines in %s yet (profile %q).\n", c.display(f, dir), c.profile.Name)
				return nil
			}
			tw := newTable(f.IO.Out)
			fmt.Fprintln(tw, "PIPELINE\tDESTINATION\tDATASET\tTABLES\tLAST RUN")
			for _, s := range out {
				last := s.LastRun
				if s.LastError != "" {
					last += " (failed)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.Name, s.Destination, s.Dataset, s.Tables, last)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
