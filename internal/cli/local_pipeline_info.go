package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type pipelineInfo struct {
	Name          string         `json:"name"`
	WorkingDir    string         `json:"working_dir"`
	Destination   string         `json:"destination"`
	Type          string         `json:"destination_type"`
	Database      string         `json:"database"`
	Dataset       string         `json:"dataset"`
	SchemaName    string         `json:"schema_name"`
	SchemaVersion int            `json:"schema_version"`
	Tables        []string       `json:"tables"`
	StateVersion  int64          `json:"state_version"`
	Packages      map[string]int `json:"packages"`
}

func newLocalPipelineInfoCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info NAME",
		Short: "Show a pipeline: destination, dataset, schema, state and packages",
		Example: `  dlthub local pipeline info github
  dlthub local pipeline info github --json`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			// Where the data lives, never with a password or token.
			db := p.Location()
			if p.DestinationType() == "duckdb" {
				db = c.display(f, db)
			}
			info := pipelineInfo{Name: p.Name(), WorkingDir: c.display(f, p.WorkDir()), Destination: p.DestinationName(), Type: p.DestinationType(),
				Database: db, Dataset: p.Dataset(), SchemaName: p.SchemaName(), Tables: []string{}, Packages: map[string]int{}}
			if s, err := p.Schema(); err == nil && s != nil {
				info.SchemaVersion = s.Version
				for _, t := range s.DataTables() {
					info.Tables = append(info.Tables, t.Name)
				}
			}
			if st, err := p.State(); err == nil && st != nil {
				info.StateVersion = st.StateVersion
			}
			pkgs, err := p.Packages()
			if err != nil {
				return err
			}
			for _, pk := range pkgs {
				info.Packages[pk.Stage]++
			}
			if asJSON {
				return writeJSON(f.IO.Out, info)
			}
			tw := newTable(f.IO.Out)
			fmt.Fprintf(tw, "Pipeline:\t%s\n", info.Name)
			fmt.Fprintf(tw, "Working dir:\t%s\n", info.WorkingDir)
			fmt.Fprintf(tw, "Destination:\t%s (%s)\n", info.Destination, info.Type)
			fmt.Fprintf(tw, "Database:\t%s\n", info.Database)
			fmt.Fprintf(tw, "Dataset:\t%s\n", info.Dataset)
			fmt.Fprintf(tw, "Schema:\t%s, version %d\n", info.SchemaName, info.SchemaVersion)
			if len(info.Tables) > 0 {
				fmt.Fprintf(tw, "Tables:\t%d (%s)\n", len(info.Tables), strings.Join(info.Tables, ", "))
			} else {
				fmt.Fprintf(tw, "Tables:\t0\n")
			}
			fmt.Fprintf(tw, "State version:\t%d\n", info.StateVersion)
			fmt.Fprintf(tw, "Packages:\t%d loaded, %d pending\n", info.Packages["loaded"], info.Packages["extracted"]+info.Packages["normalized"])
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
