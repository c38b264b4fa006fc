// Command issues is a small Go SDK example: it loads a page of GitHub issues
// (a JSON array file) into the workspace's DuckDB as resource "issues",
// merging by id, and prints the tables that landed with their row counts.
//
//	go run ./examples/issues internal/samples/github_issues.json
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/dlthub/dlthub/dlt"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/jsonx"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: issues FILE.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	page, err := jsonx.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", os.Args[1], err)
	}
	issues, ok := page.([]any)
	if !ok {
		return fmt.Errorf("%s: want a JSON array of issues", os.Args[1])
	}
	p, err := dlt.NewPipeline(dlt.Options{Name: "github_issues", Destination: "duckdb"})
	if err != nil {
		return err
	}
	info, err := p.Run(context.Background(), &dlt.Resource{
		Name:             "issues",
		WriteDisposition: dlt.Merge,
		PrimaryKey:       []string{"id"},
		Records:          dlt.Static(issues...),
	})
	if err != nil {
		return err
	}
	path, err := p.DatabasePath()
	if err != nil {
		return err
	}
	fmt.Printf("Loaded package %s into %s (dataset %s)\n", info.LoadID(), path, p.Dataset())
	c, err := duckdb.Open(path, p.Dataset())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	rows, err := c.DB().Query(`SELECT table_name, column_count FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name`, p.Dataset())
	if err != nil {
		return err
	}
	type table struct {
		name string
		cols int64
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.cols); err != nil {
			_ = rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fmt.Printf("%-22s %8s %8s\n", "TABLE", "ROWS", "COLUMNS")
	for _, t := range tables {
		var n int64
		if err := c.DB().QueryRow(`SELECT count(*) FROM ` + duckdb.Quote(p.Dataset()) + `.` + duckdb.Quote(t.name)).Scan(&n); err != nil {
			return err
		}
		fmt.Printf("%-22s %8d %8d\n", t.name, n, t.cols)
	}
	return nil
}
