// Package sqldb is the sql_database source: the tables of a PostgreSQL
// schema, streamed row by row (memory does not grow with table size), with
// column types mapped to dlt's, primary keys taken from the tables, and
// incremental cursor columns.
package sqldb

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
)

// Config selects tables.
type Config struct {
	// DSN is the connection string (sources.<name>.credentials).
	DSN string
	// Schema defaults to public.
	Schema string
	// Tables limits the tables (default: every base table of the schema).
	Tables []string
	// PerTable holds hints by table name.
	PerTable map[string]TableHints
}

// TableHints override what the table's own keys suggest.
type TableHints struct {
	WriteDisposition string
	MergeStrategy    string
	SCD2             *schema.SCD2Options
	PrimaryKey       []string
	Incremental      *pipeline.Incremental
}

type column struct {
	name, udt string
	precision int
	scale     int
	array     bool
}

type table struct {
	name string
	cols []column
	pk   []string
}

// Resources connects, reads the catalog and returns one resource per table.
func Resources(ctx context.Context, cfg Config) ([]*pipeline.Resource, error) {
	if cfg.Schema == "" {
		cfg.Schema = "public"
	}
	conn, err := pgx.Connect(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("sql_database: connect: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	tables, err := catalog(ctx, conn, cfg.Schema)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range tables {
		names = append(names, t.name)
	}
	var out []*pipeline.Resource
	for _, want := range cfg.Tables {
		if !slices.Contains(names, want) {
			return nil, fmt.Errorf("sql_database: schema %q has no table %q (tables: %s)", cfg.Schema, want, strings.Join(names, ", "))
		}
	}
	for name := range cfg.PerTable {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("sql_database: hints for table %q, which schema %q does not have", name, cfg.Schema)
		}
	}
	for _, t := range tables {
		if len(cfg.Tables) > 0 && !slices.Contains(cfg.Tables, t.name) {
			continue
		}
		h := cfg.PerTable[t.name]
		r := &pipeline.Resource{Name: t.name, PrimaryKey: t.pk, WriteDisposition: schema.Append, Incremental: h.Incremental}
		if len(t.pk) > 0 {
			r.WriteDisposition = schema.Merge
		}
		if h.WriteDisposition != "" {
			r.WriteDisposition, r.MergeStrategy, r.SCD2 = h.WriteDisposition, h.MergeStrategy, h.SCD2
		}
		if h.PrimaryKey != nil {
			r.PrimaryKey = h.PrimaryKey
		}
		for _, c := range t.cols {
			r.Columns = append(r.Columns, &schema.Column{Name: c.name, DataType: dltType(c), Precision: precision(c), Scale: scaleOf(c), Timezone: timezone(c)})
		}
		r.Records = reader(cfg, t)
		out = append(out, r)
	}
	return out, nil
}

func catalog(ctx context.Context, conn *pgx.Conn, sch string) ([]table, error) {
	rows, err := conn.Query(ctx, `
SELECT c.table_name, c.column_name, c.udt_name, c.data_type, coalesce(c.numeric_precision, 0), coalesce(c.numeric_scale, 0)
FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position`, sch)
	if err != nil {
		return nil, fmt.Errorf("sql_database: read columns of schema %q: %w", sch, err)
	}
	var tables []table
	for rows.Next() {
		var tn, cn, udt, dt string
		var p, s int
		if err := rows.Scan(&tn, &cn, &udt, &dt, &p, &s); err != nil {
			rows.Close()
			return nil, err
		}
		if len(tables) == 0 || tables[len(tables)-1].name != tn {
			tables = append(tables, table{name: tn})
		}
		t := &tables[len(tables)-1]
		t.cols = append(t.cols, column{name: cn, udt: strings.TrimPrefix(udt, "_"), precision: p, scale: s, array: dt == "ARRAY"})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range tables {
		pk, err := primaryKey(ctx, conn, sch, tables[i].name)
		if err != nil {
			return nil, err
		}
		tables[i].pk = pk
	}
	return tables, nil
}

func primaryKey(ctx context.Context, conn *pgx.Conn, sch, name string) ([]string, error) {
	rows, err := conn.Query(ctx, `
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND i.indisprimary
ORDER BY array_position(i.indkey, a.attnum)`, sch, name)
	if err != nil {
		return nil, fmt.Errorf("sql_database: primary key of %s.%s: %w", sch, name, err)
	}
	defer rows.Close()
	var pk []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		pk = append(pk, c)
	}
	return pk, rows.Err()
}

// dltType maps a PostgreSQL type to dlt's.
func dltType(c column) schema.DataType {
	if c.array {
		return schema.JSON
	}
	switch c.udt {
	case "int2", "int4", "int8", "oid":
		return schema.Bigint
	case "float4", "float8":
		return schema.Double
	case "numeric":
		return schema.Decimal
	case "bool":
		return schema.Bool
	case "timestamp", "timestamptz":
		return schema.Timestamp
	case "date":
		return schema.Date
	case "time", "timetz":
		return schema.Time
	case "json", "jsonb":
		return schema.JSON
	case "bytea":
		return schema.Binary
	}
	return schema.Text
}

func precision(c column) *int {
	if c.udt == "numeric" && c.precision > 0 {
		return &c.precision
	}
	return nil
}

// timezone is the timezone hint dlt's sql_database reflects for a
// timestamp column: false without time zone (the destination's column is
// naive then), true with one.
func timezone(c column) *bool {
	if c.array {
		return nil
	}
	switch c.udt {
	case "timestamp":
		return new(false)
	case "timestamptz":
		return new(true)
	}
	return nil
}

func scaleOf(c column) int {
	if c.udt == "numeric" && c.precision > 0 {
		return c.scale
	}
	return 0
}

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// selectExpr reads a column in a form that keeps its value exactly: text
// for numerics (no float rounding), times, uuids and other types.
func selectExpr(c column) string {
	switch dltType(c) {
	case schema.Bigint, schema.Double, schema.Bool, schema.Timestamp, schema.Binary:
		return quote(c.name)
	case schema.JSON:
		if c.array {
			return "to_jsonb(" + quote(c.name) + ")"
		}
		return quote(c.name)
	case schema.Date:
		return quote(c.name) + "::text"
	}
	return quote(c.name) + "::text"
}

// reader streams a table's rows; with an incremental cursor only rows at or
// past its start value are asked for, in cursor order.
func reader(cfg Config, t table) func(ctx context.Context, rc *pipeline.ResourceContext) iter.Seq2[any, error] {
	return func(ctx context.Context, rc *pipeline.ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			conn, err := pgx.Connect(ctx, cfg.DSN)
			if err != nil {
				yield(nil, fmt.Errorf("sql_database: connect: %w", err))
				return
			}
			defer func() { _ = conn.Close(context.Background()) }()
			sel := make([]string, len(t.cols))
			names := make([]string, len(t.cols))
			for i, c := range t.cols {
				sel[i] = selectExpr(c) + " AS " + quote(c.name)
				names[i] = c.name
			}
			q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quote(cfg.Schema) + `.` + quote(t.name)
			var args []any
			if rc != nil && rc.Incremental != nil {
				cur := cursorColumn(rc)
				if !slices.Contains(names, cur) {
					yield(nil, fmt.Errorf("sql_database: table %q has no cursor column %q", t.name, cur))
					return
				}
				if start := rc.Incremental.StartValue(); start != nil {
					q += ` WHERE ` + quote(cur) + ` >= $1`
					args = append(args, start)
				}
				q += ` ORDER BY ` + quote(cur)
			}
			rows, err := conn.Query(ctx, q, args...)
			if err != nil {
				yield(nil, fmt.Errorf("sql_database: read %s.%s: %w", cfg.Schema, t.name, err))
				return
			}
			defer rows.Close()
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					yield(nil, fmt.Errorf("sql_database: read %s.%s: %w", cfg.Schema, t.name, err))
					return
				}
				o := &jsonx.Object{Keys: names, Values: make([]any, len(vals))}
				for i, v := range vals {
					o.Values[i] = plain(v)
				}
				if !yield(o, nil) {
					return
				}
			}
			if err := rows.Err(); err != nil {
				yield(nil, fmt.Errorf("sql_database: read %s.%s: %w", cfg.Schema, t.name, err))
			}
		}
	}
}

// cursorColumn is the table column of an incremental cursor path.
func cursorColumn(rc *pipeline.ResourceContext) string {
	return rc.Incremental.Path()
}

// plain narrows pgx's values to record values.
func plain(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case uint32:
		return int64(x)
	}
	return v
}
