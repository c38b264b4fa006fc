package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type pipelineSQLOptions struct {
	Limit int
	JSON  bool
}

func newLocalPipelineSQLCmd(f *Factory) *cobra.Command {
	opts := &pipelineSQLOptions{}
	cmd := &cobra.Command{
		Use:   "sql NAME QUERY",
		Short: "Run a read-only SQL query on a pipeline's dataset",
		Long: `Run one SQL query on the dataset a pipeline loaded and print the rows as
aligned columns (values longer than 40 characters cut with "…"), or as one
JSON array of objects with --json. At most --limit rows are printed (default
20; 0 prints all).

The dataset cannot be changed from here: a DuckDB file is opened read-only,
and on PostgreSQL the query runs in a read-only transaction that is rolled
back; an INSERT, CREATE, DROP or the like is refused and changes nothing.
Tables are found without the dataset name: the dataset is the search path.
A local filesystem dataset is queried through DuckDB, a view per table.`,
		Example: `  dlthub local pipeline sql github_sample "SELECT count(*) FROM issues"
  dlthub local pipeline sql github_sample "SELECT i.number, l.name FROM issues i JOIN issues__labels l ON l._dlt_parent_id = i._dlt_id" --limit 50
  dlthub local pipeline sql github_sample "SELECT * FROM _dlt_loads" --json`,
		Args: exactArgs("NAME", "QUERY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(opts.Limit); err != nil {
				return err
			}
			if strings.TrimSpace(args[1]) == "" {
				return usagef("the query is empty")
			}
			return runPipelineSQL(cmd.Context(), f, opts, args[0], args[1])
		},
	}
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", defaultRowLimit, "rows to print (0: all)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the rows as JSON")
	return cmd
}

func runPipelineSQL(ctx context.Context, f *Factory, opts *pipelineSQLOptions, name, query string) error {
	_, r, err := f.openDataset(ctx, name)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	res, err := r.Query(ctx, query, opts.Limit)
	if err != nil {
		return fmt.Errorf("query on dataset %s: %w", r.Dataset(), err)
	}
	if len(res.Columns) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "The query returned no result.")
		return nil
	}
	if opts.JSON {
		err = writeRowsJSON(f.IO.Out, res)
	} else {
		err = writeRowsTable(f.IO.Out, res)
	}
	if err != nil {
		return err
	}
	switch {
	case res.More:
		fmt.Fprintf(f.IO.ErrOut, "First %s; --limit N prints more, --limit 0 all.\n", rowCount(len(res.Rows)))
	case len(res.Rows) == 0:
		fmt.Fprintln(f.IO.ErrOut, "No rows.")
	}
	return nil
}
