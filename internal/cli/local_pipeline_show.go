package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/datasets"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/suggest"
)

type pipelineShowOptions struct {
	Limit      int
	JSON       bool
	DltColumns bool
	Columns    []string
}

// shownTable is one line of `local pipeline show NAME`.
type shownTable struct {
	Name     string   `json:"name"`
	Rows     int64    `json:"rows"`
	Parent   string   `json:"parent,omitempty"`
	Children []string `json:"children,omitempty"`
	System   bool     `json:"dlt_system_table,omitempty"`
}

func newLocalPipelineShowCmd(f *Factory) *cobra.Command {
	opts := &pipelineShowOptions{}
	cmd := &cobra.Command{
		Use:   "show NAME [TABLE]",
		Short: "Print a pipeline's tables with row counts, or the first rows of one",
		Long: `Read the dataset a pipeline loaded, read-only. Without TABLE, list its tables
with their row counts: nested (child) tables such as issues__labels name their
parent, and a parent lists its child tables; dlt's own tables (_dlt_loads,
_dlt_version, _dlt_pipeline_state) come last. With TABLE, print its first
rows (--limit, default 20; 0 prints all) as aligned columns, values longer
than 40 characters cut with "…". dlt's bookkeeping columns (_dlt_id,
_dlt_load_id, _dlt_parent_id, …) are left out unless --dlt-columns is given;
then they come last. --columns picks the columns to print, in its order.
--json prints the rows as one JSON array of objects, values whole.

Works on DuckDB, PostgreSQL and local filesystem destinations. For any
query, see dlthub local pipeline sql.`,
		Example: `  dlthub local pipeline show github_sample
  dlthub local pipeline show github_sample issues
  dlthub local pipeline show github_sample issues --columns number,title,state
  dlthub local pipeline show github_sample issues__labels --limit 5 --dlt-columns
  dlthub local pipeline show github_sample issues --limit 0 --json > issues.json`,
		Args: rangeArgs(1, 2, "a pipeline NAME and optionally a TABLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(opts.Limit); err != nil {
				return err
			}
			table := ""
			if len(args) == 2 {
				table = args[1]
			}
			return runPipelineShow(cmd.Context(), f, opts, args[0], table)
		},
	}
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", defaultRowLimit, "rows to print (0: all)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&opts.DltColumns, "dlt-columns", false, "also print dlt's _dlt_* columns (last)")
	cmd.Flags().StringSliceVar(&opts.Columns, "columns", nil, "columns to print, comma-separated (default: all but _dlt_*)")
	return cmd
}

func runPipelineShow(ctx context.Context, f *Factory, opts *pipelineShowOptions, name, table string) error {
	p, r, err := f.openDataset(ctx, name)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	tables, err := r.Tables(ctx)
	if err != nil {
		return err
	}
	if table == "" {
		return printTables(f, opts, p, r, tables)
	}
	var names []string
	var rows int64 = -1
	for _, t := range tables {
		names = append(names, t.Name)
		if t.Name == table {
			rows = t.Rows
		}
	}
	if rows < 0 {
		return unknownTable(r.Dataset(), table, names)
	}
	cols, err := r.Columns(ctx, table)
	if err != nil {
		return err
	}
	var data, dlt []string
	for _, c := range cols {
		if strings.HasPrefix(c.Name, "_dlt_") && !strings.HasPrefix(table, "_dlt_") {
			dlt = append(dlt, c.Name)
		} else {
			data = append(data, c.Name)
		}
	}
	if opts.DltColumns || len(data) == 0 {
		data = append(data, dlt...)
	}
	if len(opts.Columns) > 0 {
		all := make([]string, len(cols))
		for i, c := range cols {
			all[i] = c.Name
		}
		for _, c := range opts.Columns {
			if !slices.Contains(all, c) {
				hint := ""
				if s := suggest.Closest(c, all); s != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", s)
				}
				return usagef("table %s has no column %q%s", table, c, hint)
			}
		}
		data = opts.Columns
	}
	res, err := r.Preview(ctx, table, data, opts.Limit)
	if err != nil {
		return err
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
	case rows == 0:
		fmt.Fprintf(f.IO.ErrOut, "Table %s has no rows.\n", table)
	case res.More:
		fmt.Fprintf(f.IO.ErrOut, "%d of %d rows of %s; --limit N prints more, --limit 0 all.\n", len(res.Rows), rows, table)
	}
	return nil
}

// unknownTable is the error for a table the dataset does not have, with
// the closest name when one is near.
func unknownTable(dataset, table string, names []string) error {
	if s := suggest.Closest(table, names); s != "" {
		return usagef("dataset %s has no table %q (did you mean %q?)", dataset, table, s)
	}
	if len(names) == 0 {
		return usagef("dataset %s has no table %q: it has no tables yet", dataset, table)
	}
	return usagef("dataset %s has no table %q (tables: %s)", dataset, table, strings.Join(names, ", "))
}

// printTables lists the dataset's tables: data tables by name (a child
// table sorts after its parent), dlt's system tables last.
func printTables(f *Factory, opts *pipelineShowOptions, p *pipeline.Pipeline, r *datasets.Reader, tables []datasets.Table) error {
	parents := map[string]string{}
	if s, err := p.Schema(); err == nil && s != nil {
		for _, t := range s.Tables {
			if t.Parent != "" {
				parents[t.Name] = t.Parent
			}
		}
	}
	present := map[string]bool{}
	for _, t := range tables {
		present[t.Name] = true
	}
	children := map[string][]string{}
	for child, parent := range parents {
		if present[child] {
			children[parent] = append(children[parent], child)
		}
	}
	out := make([]shownTable, 0, len(tables))
	for _, t := range tables {
		st := shownTable{Name: t.Name, Rows: t.Rows, Parent: parents[t.Name], Children: children[t.Name], System: strings.HasPrefix(t.Name, "_dlt_")}
		sort.Strings(st.Children)
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].System != out[j].System {
			return !out[i].System
		}
		return out[i].Name < out[j].Name
	})
	if opts.JSON {
		return writeJSON(f.IO.Out, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "Dataset %s has no tables yet.\n", r.Dataset())
		return nil
	}
	tw := newTable(f.IO.Out)
	fmt.Fprintln(tw, "TABLE\tROWS\tPARENT\tCHILD TABLES")
	for _, t := range out {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.Name, t.Rows, t.Parent, strings.Join(t.Children, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Dataset %s of pipeline %s on %s. Rows of a table: dlthub local pipeline show %s TABLE\n", r.Dataset(), p.Name(), p.DestinationName(), p.Name())
	return nil
}
