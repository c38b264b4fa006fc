// Package datasets reads what pipelines loaded, read-only: the tables of
// a dataset with their row counts and columns, and its recent loads. The
// MCP server and the dashboard share it.
package datasets

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/pipeline"
)

// Dataset is one pipeline's dataset.
type Dataset struct {
	Pipeline    string `json:"pipeline"`
	Name        string `json:"dataset"`
	Destination string `json:"destination"`
	// Database is the DuckDB file; "" for destinations that cannot be read
	// here.
	Database string `json:"-"`
	Tables   int    `json:"tables"`
	// LastRun and LastError describe the pipeline's last run, when known.
	LastRun   *time.Time `json:"last_run,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	// Access says how OpenReader reads the dataset back (DuckDB,
	// PostgreSQL or a local folder); AccessErr why it cannot be, when it
	// cannot. Access may carry a password: never print it.
	Access    pipeline.DatasetAccess `json:"-"`
	AccessErr error                  `json:"-"`
}

// Catalog finds the workspace's datasets (fresh on each call: pipelines
// may have run since).
type Catalog func() ([]Dataset, error)

// Find is the dataset named name (or loaded by the pipeline name).
func Find(c Catalog, name string) (Dataset, error) {
	ds, err := c()
	if err != nil {
		return Dataset{}, err
	}
	var names []string
	for _, d := range ds {
		if d.Name == name || d.Pipeline == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return Dataset{}, fmt.Errorf("no dataset %q (datasets: %s)", name, strings.Join(names, ", "))
}

// Open opens a dataset's database read-only, its schema on the search
// path of every connection of the pool (set when each one opens: a SET on
// the pool would reach only the connection it happened to run on).
func Open(d Dataset) (*sql.DB, error) {
	if d.Database == "" {
		return nil, fmt.Errorf("dataset %s is on %s, which cannot be read here yet (DuckDB datasets only)", d.Name, d.Destination)
	}
	setPath := `SET search_path = ` + Literal(d.Name)
	c, err := duckdb.NewConnector(d.Database+"?access_mode=READ_ONLY", func(ex driver.ExecerContext) error {
		_, err := ex.ExecContext(context.Background(), setPath, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", d.Name, err)
	}
	db := sql.OpenDB(c)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open dataset %s: %w", d.Name, err)
	}
	return db, nil
}

// Literal quotes a SQL string; Ident an identifier.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Ident quotes a SQL identifier.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Table is a table with its row count.
type Table struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Tables lists a dataset's tables with their row counts.
func Tables(ctx context.Context, db *sql.DB, dataset string) ([]Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`, dataset)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			_ = rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	_ = rows.Close()
	out := []Table{}
	for _, n := range names {
		var c int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+Ident(dataset)+`.`+Ident(n)).Scan(&c); err != nil {
			return out, err
		}
		out = append(out, Table{Name: n, Rows: c})
	}
	return out, nil
}

// Column is one column of a table.
type Column struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// Columns lists a table's columns in order (none: no such table).
func Columns(ctx context.Context, db *sql.DB, dataset, table string) ([]Column, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, dataset, table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := []Column{}
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type, &c.Nullable); err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Load is one row of dlt's _dlt_loads.
type Load struct {
	LoadID     string    `json:"load_id"`
	SchemaName string    `json:"schema_name"`
	Status     int       `json:"status"`
	InsertedAt time.Time `json:"inserted_at"`
}

// RecentLoads are the dataset's latest loads, newest first (none when it
// has no _dlt_loads table yet).
func RecentLoads(ctx context.Context, db *sql.DB, dataset string, n int) ([]Load, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT load_id, schema_name, status, inserted_at FROM %s._dlt_loads ORDER BY inserted_at DESC LIMIT %d`, Ident(dataset), n))
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, nil
		}
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []Load
	for rows.Next() {
		var l Load
		if err := rows.Scan(&l.LoadID, &l.SchemaName, &l.Status, &l.InsertedAt); err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
