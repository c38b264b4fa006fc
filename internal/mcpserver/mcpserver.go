// Package mcpserver is an MCP server (Model Context Protocol) over a
// workspace's datasets, for coding agents and chat clients (DESIGN §6.7,
// `dlthub mcp`): list the datasets and their tables, describe a table,
// preview rows and run read-only SQL. DuckDB datasets are opened read-only,
// so nothing an agent sends can change data.
package mcpserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dlthub/dlthub/internal/datasets"
)

// Dataset is one pipeline's dataset (datasets.Dataset).
type Dataset = datasets.Dataset

// Catalog finds the workspace's datasets (datasets.Catalog).
type Catalog = datasets.Catalog

// Limits.
const (
	maxPreview = 100
	maxRows    = 1000
	queryTime  = 30 * time.Second
)

// New builds the server.
func New(version string, catalog Catalog) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "dlthub", Version: version}, nil)
	h := &handlers{catalog: catalog}
	mcp.AddTool(s, &mcp.Tool{Name: "list_datasets", Description: "List the workspace's pipelines with their dataset, destination and number of tables."}, h.listDatasets)
	mcp.AddTool(s, &mcp.Tool{Name: "list_tables", Description: "List the tables of a dataset with their row counts (dlt's _dlt_ system tables included)."}, h.listTables)
	mcp.AddTool(s, &mcp.Tool{Name: "describe_table", Description: "Columns of a table with their SQL types and nullability."}, h.describeTable)
	mcp.AddTool(s, &mcp.Tool{Name: "preview_table", Description: "The first rows of a table (at most 100)."}, h.previewTable)
	mcp.AddTool(s, &mcp.Tool{Name: "query", Description: "Run read-only SQL (DuckDB dialect) against a dataset; its tables are on the search path. At most 1000 rows come back."}, h.query)
	return s
}

type handlers struct{ catalog Catalog }

// DatasetsOut is what list_datasets answers.
type DatasetsOut struct {
	Datasets []Dataset `json:"datasets"`
}

func (h *handlers) listDatasets(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, DatasetsOut, error) {
	ds, err := h.catalog()
	if ds == nil {
		ds = []Dataset{}
	}
	return nil, DatasetsOut{Datasets: ds}, err
}

// DatasetIn names a dataset (by its name or its pipeline's).
type DatasetIn struct {
	Dataset string `json:"dataset" jsonschema:"the dataset, or the pipeline that loads it"`
}

// TableIn names a table of a dataset.
type TableIn struct {
	Dataset string `json:"dataset" jsonschema:"the dataset, or the pipeline that loads it"`
	Table   string `json:"table" jsonschema:"the table name"`
	Limit   int    `json:"limit,omitempty" jsonschema:"rows for preview_table, at most 100 (default 10)"`
}

// QueryIn is a query against a dataset.
type QueryIn struct {
	Dataset string `json:"dataset" jsonschema:"the dataset, or the pipeline that loads it"`
	SQL     string `json:"sql" jsonschema:"a read-only SQL statement"`
}

// TablesOut is what list_tables answers.
type TablesOut struct {
	Tables []datasets.Table `json:"tables"`
}

// ColumnsOut is what describe_table answers.
type ColumnsOut struct {
	Columns []datasets.Column `json:"columns"`
}

// RowsOut is what preview_table and query answer.
type RowsOut struct {
	Columns   []string         `json:"columns"`
	Rows      []map[string]any `json:"rows"`
	Truncated bool             `json:"truncated,omitempty"`
}

// open finds a dataset and opens its database read-only.
func (h *handlers) open(name string) (*sql.DB, Dataset, error) {
	d, err := datasets.Find(h.catalog, name)
	if err != nil {
		return nil, d, err
	}
	db, err := datasets.Open(d)
	return db, d, err
}

func (h *handlers) listTables(ctx context.Context, _ *mcp.CallToolRequest, in DatasetIn) (*mcp.CallToolResult, TablesOut, error) {
	db, d, err := h.open(in.Dataset)
	if err != nil {
		return nil, TablesOut{}, err
	}
	defer func() { _ = db.Close() }()
	ts, err := datasets.Tables(ctx, db, d.Name)
	return nil, TablesOut{Tables: ts}, err
}

func (h *handlers) describeTable(ctx context.Context, _ *mcp.CallToolRequest, in TableIn) (*mcp.CallToolResult, ColumnsOut, error) {
	db, d, err := h.open(in.Dataset)
	if err != nil {
		return nil, ColumnsOut{}, err
	}
	defer func() { _ = db.Close() }()
	cols, err := datasets.Columns(ctx, db, d.Name, in.Table)
	if err == nil && len(cols) == 0 {
		err = fmt.Errorf("dataset %s has no table %q; list_tables lists them", d.Name, in.Table)
	}
	return nil, ColumnsOut{Columns: cols}, err
}

func (h *handlers) previewTable(ctx context.Context, _ *mcp.CallToolRequest, in TableIn) (*mcp.CallToolResult, RowsOut, error) {
	limit := in.Limit
	if limit <= 0 {
		limit = 10
	}
	limit = min(limit, maxPreview)
	db, d, err := h.open(in.Dataset)
	if err != nil {
		return nil, RowsOut{}, err
	}
	defer func() { _ = db.Close() }()
	out, err := collect(ctx, db, `SELECT * FROM `+datasets.Ident(d.Name)+`.`+datasets.Ident(in.Table)+fmt.Sprintf(` LIMIT %d`, limit), limit)
	return nil, out, err
}

func (h *handlers) query(ctx context.Context, _ *mcp.CallToolRequest, in QueryIn) (*mcp.CallToolResult, RowsOut, error) {
	if strings.TrimSpace(in.SQL) == "" {
		return nil, RowsOut{}, errors.New("sql is empty")
	}
	db, _, err := h.open(in.Dataset)
	if err != nil {
		return nil, RowsOut{}, err
	}
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(ctx, queryTime)
	defer cancel()
	out, err := collect(ctx, db, in.SQL, maxRows)
	if err != nil {
		return nil, out, fmt.Errorf("query: %w (the dataset is read-only)", err)
	}
	return nil, out, nil
}

// collect reads at most max rows as column → value maps.
func collect(ctx context.Context, db *sql.DB, q string, max int) (RowsOut, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return RowsOut{}, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return RowsOut{}, err
	}
	out := RowsOut{Columns: cols, Rows: []map[string]any{}}
	for rows.Next() {
		if len(out.Rows) == max {
			out.Truncated = true
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			row[c] = jsonValue(vals[i])
		}
		out.Rows = append(out.Rows, row)
	}
	return out, rows.Err()
}

// jsonValue makes a scanned value JSON-friendly.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	}
	return v
}
