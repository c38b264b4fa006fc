package cli

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/declarative"
	"github.com/dlthub/dlthub/internal/pipeline"
)

type pipelineRunOptions struct {
	Refresh string
	JSON    bool
}

func newLocalPipelineRunCmd(f *Factory) *cobra.Command {
	opts := &pipelineRunOptions{}
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a declarative pipeline (pipelines/NAME.toml) here",
		Long: `Run the declarative pipeline in pipelines/NAME.toml with the active profile's
configuration: finish any pending load packages, extract from the source,
normalize and load into the destination. On a terminal it shows progress; at
the end it prints the rows loaded per table.

--refresh starts over: drop_sources (the default when given without a
value) drops every table and all state of the pipeline, drop_resources the
tables and state of the resources being run, drop_data only their rows and
state.`,
		Example: `  dlthub local pipeline run github_sample
  dlthub --profile prod local pipeline run events --refresh
  dlthub local pipeline run events --refresh=drop_data --json`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context() // always set: Run executes with a context
			return runPipeline(ctx, f, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Refresh, "refresh", "", "start over: drop_sources (default), drop_resources or drop_data")
	cmd.Flags().Lookup("refresh").NoOptDefVal = pipeline.RefreshDropSources
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the load summary as JSON")
	return cmd
}

func runPipeline(ctx context.Context, f *Factory, opts *pipelineRunOptions, name string) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	spec, err := declarative.Load(c.ws.Root, name)
	if err != nil {
		return err
	}
	resources, err := spec.Resources(c.ws.Root, c.resolver)
	if err != nil {
		return err
	}
	// A job's interval (DLT_INTERVAL_START/END) is the incremental window.
	if start, end := f.Env.Get("DLT_INTERVAL_START"), f.Env.Get("DLT_INTERVAL_END"); start != "" && end != "" {
		for _, r := range resources {
			if r.Incremental != nil {
				inc := *r.Incremental
				inc.InitialValue, inc.EndValue = start, end
				r.Incremental = &inc
			}
		}
	}
	po := c.pipelineOptions(f, name)
	po.Destination, po.Dataset, po.Refresh = spec.Destination, spec.Dataset, opts.Refresh
	switch opts.Refresh {
	case "", pipeline.RefreshDropSources, pipeline.RefreshDropResources, pipeline.RefreshDropData:
	default:
		return usagef("--refresh %q: use drop_sources, drop_resources or drop_data", opts.Refresh)
	}
	// On a terminal, progress per stage on stderr; elsewhere only the
	// summary at the end.
	var prog *runProgress
	if f.IO.IsStderrTTY() {
		prog = newRunProgress(ctx, f.IO.ErrOut)
		po.OnProgress = prog.event
	}
	p, err := pipeline.New(po)
	if err != nil {
		if prog != nil {
			prog.wait()
		}
		return err
	}
	info, err := p.Run(ctx, resources...)
	if prog != nil {
		prog.wait()
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, info)
	}
	tables := make([]string, 0, len(info.Rows))
	var total int64
	for t, n := range info.Rows {
		tables = append(tables, t)
		total += n
	}
	sort.Strings(tables)
	tw := newTable(f.IO.Out)
	fmt.Fprintln(tw, "TABLE\tROWS")
	for _, t := range tables {
		fmt.Fprintf(tw, "%s\t%d\n", t, info.Rows[t])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	where := p.DestinationName()
	if db, err := p.DatabasePath(); err == nil && p.DestinationType() == "duckdb" {
		where += " (" + c.display(f, db) + ")"
	}
	fmt.Fprintf(f.IO.ErrOut, "Loaded %d rows in %d table(s) into %s, dataset %s, in %s (load %s).\n",
		total, len(tables), where, p.Dataset(), (info.Extract + info.Normal + info.Load).Round(time.Millisecond), info.LoadID())
	return nil
}
