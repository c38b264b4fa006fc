package datasets

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dlthub/dlthub/internal/pipeline"
)

// Reader reads one pipeline's dataset and runs queries on it, never
// changing it: DuckDB files are opened with access_mode=READ_ONLY and the
// dataset's schema on the search path; PostgreSQL runs everything in one
// BEGIN READ ONLY transaction with search_path set to the dataset, rolled
// back on Close; a filesystem dataset is read through DuckDB views over
// its files, in a throwaway database file also opened read-only.
type Reader struct {
	dataset  string
	location string
	// DuckDB (also for filesystem datasets).
	db   *sql.DB
	conn *sql.Conn
	tmp  string // the views' database dir (filesystem)
	// files are the bytes of each table's files (filesystem).
	files map[string]int64
	// PostgreSQL.
	pg *pgx.Conn
	tx pgx.Tx
}

// ReadOnlyError is a statement refused because the dataset is read-only
// here.
type ReadOnlyError struct {
	Dataset string
	Err     error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("refused: dataset %s is opened read-only, nothing was changed (%v)", e.Dataset, e.Err)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// OpenReader opens a pipeline's dataset for reading.
func OpenReader(ctx context.Context, a pipeline.DatasetAccess) (*Reader, error) {
	r := &Reader{dataset: a.Dataset, location: a.Location}
	var err error
	switch a.Type {
	case "duckdb":
		if _, serr := os.Stat(a.DuckDBPath); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("no data yet: %s does not exist (run the pipeline first)", a.Location)
		}
		err = r.openDuckDB(ctx, a.DuckDBPath)
	case "filesystem":
		err = r.openFiles(ctx, a.Dir)
	case "postgres":
		err = r.openPostgres(ctx, a.PostgresDSN)
	default:
		err = fmt.Errorf("destination %q has type %s, which cannot be read here (duckdb, postgres and local filesystem datasets can)", a.Destination, a.Type)
	}
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) openDuckDB(ctx context.Context, path string) error {
	c, err := duckdb.NewConnector(path+"?access_mode=READ_ONLY", nil)
	if err != nil {
		return fmt.Errorf("open %s read-only: %w", r.location, err)
	}
	r.db = sql.OpenDB(c)
	// One connection, so the search path set here holds for every query.
	if r.conn, err = r.db.Conn(ctx); err != nil {
		return fmt.Errorf("open %s read-only: %w", r.location, err)
	}
	var n int
	if err := r.conn.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?`, r.dataset).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("dataset %s is not in %s yet (run the pipeline first)", r.dataset, r.location)
	}
	_, err = r.conn.ExecContext(ctx, `SET search_path = `+Literal(r.dataset))
	return err
}

// openFiles makes a view per table folder of a filesystem dataset in a
// throwaway DuckDB file, then opens that file read-only.
func (r *Reader) openFiles(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no data yet: %s has no dataset %s (run the pipeline first)", r.location, r.dataset)
	}
	if err != nil {
		return err
	}
	if r.tmp, err = os.MkdirTemp("", "dlthub-dataset-"); err != nil {
		return err
	}
	path := filepath.Join(r.tmp, "views.duckdb")
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	stmts := []string{`CREATE SCHEMA ` + Ident(r.dataset)}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, reader, err := tableFiles(filepath.Join(dir, e.Name()))
		if err != nil {
			_ = db.Close()
			return err
		}
		if len(files) == 0 {
			continue
		}
		if r.files == nil {
			r.files = map[string]int64{}
		}
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				r.files[e.Name()] += fi.Size()
			}
		}
		lits := make([]string, len(files))
		for i, f := range files {
			lits[i] = Literal(f)
		}
		stmts = append(stmts, fmt.Sprintf(`CREATE VIEW %s.%s AS SELECT * FROM %s([%s], union_by_name = true)`,
			Ident(r.dataset), Ident(e.Name()), reader, strings.Join(lits, ", ")))
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			_ = db.Close()
			return fmt.Errorf("read %s: %w", r.location, err)
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	return r.openDuckDB(ctx, path)
}

// tableFiles lists a table folder's data files and the DuckDB function
// that reads them.
func tableFiles(dir string) ([]string, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, "", err
	}
	var parquet, jsonl []string
	for _, e := range entries {
		switch {
		case e.IsDir():
		case strings.HasSuffix(e.Name(), ".parquet"):
			parquet = append(parquet, filepath.Join(abs, e.Name()))
		case strings.HasSuffix(e.Name(), ".jsonl"):
			jsonl = append(jsonl, filepath.Join(abs, e.Name()))
		}
	}
	if len(parquet) > 0 {
		return parquet, "read_parquet", nil
	}
	return jsonl, "read_json_auto", nil
}

func (r *Reader) openPostgres(ctx context.Context, dsn string) error {
	var err error
	if r.pg, err = pgx.Connect(ctx, dsn); err != nil {
		return fmt.Errorf("connect to %s: %w", r.location, scrub(err, dsn))
	}
	if r.tx, err = r.pg.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}); err != nil {
		return err
	}
	_, err = r.tx.Exec(ctx, `SET LOCAL search_path TO `+Ident(r.dataset))
	return err
}

// scrub keeps a connection string out of an error message.
func scrub(err error, dsn string) error {
	if dsn != "" && strings.Contains(err.Error(), dsn) {
		return errors.New(strings.ReplaceAll(err.Error(), dsn, "(connection string)"))
	}
	return err
}

// Close ends the read: the PostgreSQL transaction is rolled back.
func (r *Reader) Close() error {
	var err error
	if r.tx != nil {
		_ = r.tx.Rollback(context.Background())
	}
	if r.pg != nil {
		err = r.pg.Close(context.Background())
	}
	if r.conn != nil {
		_ = r.conn.Close()
	}
	if r.db != nil {
		err = errors.Join(err, r.db.Close())
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
	return err
}

// Dataset is the name of the dataset read.
func (r *Reader) Dataset() string { return r.dataset }

// Tables lists the dataset's tables with their row counts.
func (r *Reader) Tables(ctx context.Context) ([]Table, error) {
	res, err := r.query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = `+Literal(r.dataset)+` ORDER BY table_name`, 0, false)
	if err != nil {
		return nil, err
	}
	out := []Table{}
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		c, err := r.query(ctx, `SELECT count(*) FROM `+Ident(r.dataset)+`.`+Ident(name), 0, false)
		if err != nil {
			return out, err
		}
		var n int64
		switch v := c.Rows[0][0].(type) {
		case int64:
			n = v
		case json.Number:
			n, _ = v.Int64()
		}
		out = append(out, Table{Name: name, Rows: n})
	}
	return out, nil
}

// Sizes are the bytes each table takes, where the destination tells
// cheaply: PostgreSQL's pg_total_relation_size (indexes and TOAST
// included) and a filesystem dataset's files. DuckDB keeps no per-table
// size short of walking its storage, so it gives none (nil).
func (r *Reader) Sizes(ctx context.Context) (map[string]int64, error) {
	if r.files != nil {
		return r.files, nil
	}
	if r.tx == nil {
		return nil, nil
	}
	res, err := r.query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = `+
		Literal(r.dataset)+` AND c.relkind IN ('r', 'p')`, 0, false)
	if err != nil {
		return nil, fmt.Errorf("table sizes of %s: %w", r.dataset, err)
	}
	out := make(map[string]int64, len(res.Rows))
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		out[name] = whole(row[1])
	}
	return out, nil
}

// whole is an integer a query returned (DuckDB and PostgreSQL give
// counts and sizes in different types); 0 for anything else.
func whole(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

// RecentLoads are the dataset's latest n loads from dlt's _dlt_loads,
// newest first (none when it has no such table yet).
func (r *Reader) RecentLoads(ctx context.Context, n int) ([]Load, error) {
	res, err := r.query(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = `+Literal(r.dataset)+` AND table_name = '_dlt_loads'`, 0, false)
	if err != nil {
		return nil, fmt.Errorf("recent loads of %s: %w", r.dataset, err)
	}
	if whole(res.Rows[0][0]) == 0 {
		return nil, nil
	}
	res, err = r.query(ctx, fmt.Sprintf(`SELECT load_id, schema_name, status, inserted_at FROM %s._dlt_loads ORDER BY inserted_at DESC LIMIT %d`, Ident(r.dataset), n), 0, false)
	if err != nil {
		return nil, fmt.Errorf("recent loads of %s: %w", r.dataset, err)
	}
	out := make([]Load, 0, len(res.Rows))
	for _, row := range res.Rows {
		var l Load
		l.LoadID, _ = row[0].(string)
		l.SchemaName, _ = row[1].(string)
		l.Status = int(whole(row[2]))
		l.InsertedAt, _ = row[3].(time.Time)
		out = append(out, l)
	}
	return out, nil
}

// Columns lists a table's columns in order (none: no such table).
func (r *Reader) Columns(ctx context.Context, table string) ([]Column, error) {
	res, err := r.query(ctx, `SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = `+
		Literal(r.dataset)+` AND table_name = `+Literal(table)+` ORDER BY ordinal_position`, 0, false)
	if err != nil {
		return nil, err
	}
	out := []Column{}
	for _, row := range res.Rows {
		c := Column{}
		c.Name, _ = row[0].(string)
		c.Type, _ = row[1].(string)
		c.Nullable, _ = row[2].(bool)
		out = append(out, c)
	}
	return out, nil
}

// Result is what a query returned: its columns (with their database
// types) and at most the rows asked for, as plain Go values (nil, bool,
// int64, float64, json.Number for decimals, string, time.Time, []byte,
// []any, map[string]any).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
	// More: the query returned more rows than were read.
	More bool
}

// Query runs one statement and reads at most limit rows (0: all). A
// statement that would change the dataset fails with a *ReadOnlyError.
// On PostgreSQL, a query cut short by limit ends the read: call it last.
func (r *Reader) Query(ctx context.Context, q string, limit int) (*Result, error) {
	res, err := r.query(ctx, q, limit, true)
	// A write to a view (filesystem) fails before DuckDB gets to say the
	// database is read-only.
	if err != nil && (readOnlyRefusal(err) || (r.tmp != "" && isWrite(q))) {
		return nil, &ReadOnlyError{Dataset: r.dataset, Err: err}
	}
	return res, err
}

// Preview reads the first limit rows (0: all) of a table, the columns in
// the order given.
func (r *Reader) Preview(ctx context.Context, table string, columns []string, limit int) (*Result, error) {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = Ident(c)
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + Ident(r.dataset) + `.` + Ident(table)
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit+1)
	}
	return r.query(ctx, q, limit, false)
}

// isWrite: the statement starts with a keyword that changes data.
func isWrite(q string) bool {
	f := strings.Fields(strings.ToUpper(q))
	return len(f) > 0 && slices.Contains([]string{"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY"}, strings.TrimSuffix(f[0], ";"))
}

func readOnlyRefusal(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "25006" // read_only_sql_transaction
	}
	return strings.Contains(err.Error(), "read-only mode")
}

// query reads at most limit rows (0: all). cutShort, on PostgreSQL, stops
// the server sending rows past them, which costs the connection: only for
// the last query of a read.
func (r *Reader) query(ctx context.Context, q string, limit int, cutShort bool) (*Result, error) {
	if r.tx != nil {
		return r.queryPostgres(ctx, q, limit, cutShort)
	}
	rows, err := r.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	res := &Result{}
	if res.Columns, err = rows.Columns(); err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		res.Types = append(res.Types, strings.ToLower(t.DatabaseTypeName()))
	}
	for rows.Next() {
		if limit > 0 && len(res.Rows) == limit {
			res.More = true
			break
		}
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok && len(b) == 16 && res.Types[i] == "uuid" {
				v = [16]byte(b)
			}
			vals[i] = Plain(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

// queryPostgres runs q inside the read-only transaction, under a
// savepoint so a failed statement leaves the transaction usable.
func (r *Reader) queryPostgres(ctx context.Context, q string, limit int, cutShort bool) (*Result, error) {
	sp, err := r.tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sp.Rollback(ctx) }()
	// Cancelled once enough rows are read (cutShort), so the server stops
	// sending the rest: the connection is then given up, and the
	// transaction with it.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := sp.Query(qctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := &Result{}
	tm := r.pg.TypeMap()
	for _, fd := range rows.FieldDescriptions() {
		res.Columns = append(res.Columns, fd.Name)
		name := ""
		if t, ok := tm.TypeForOID(fd.DataTypeOID); ok {
			name = t.Name
		}
		res.Types = append(res.Types, name)
	}
	for rows.Next() {
		if limit > 0 && len(res.Rows) == limit {
			res.More = true
			if cutShort {
				cancel()
			}
			return res, nil
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = Plain(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

// Plain turns a value scanned from DuckDB or PostgreSQL into a plain Go
// value: nil, bool, an integer, float64, json.Number (decimals, big
// integers), string, time.Time, []byte, []any or map[string]any.
func Plain(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, int32, int16, int8, int, uint64, uint32, uint16, uint8, float64, []byte, time.Time:
		return x
	case float32:
		return float64(x)
	case duckdb.Decimal:
		return json.Number(x.String())
	case *big.Int:
		if x == nil {
			return nil
		}
		return json.Number(x.String())
	case duckdb.UUID:
		return x.String()
	case *duckdb.UUID:
		if x == nil {
			return nil
		}
		return x.String()
	case [16]byte:
		u := duckdb.UUID(x)
		return u.String()
	case duckdb.Union:
		return Plain(x.Value)
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case duckdb.OrderedMap:
		m := map[string]any{}
		vals := x.Values()
		for i, k := range x.Keys() {
			m[fmt.Sprint(Plain(k))] = Plain(vals[i])
		}
		return m
	case duckdb.Map:
		m := map[string]any{}
		for k, val := range x {
			m[fmt.Sprint(Plain(k))] = Plain(val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	case driver.Valuer:
		// pgtype's numeric, interval, time and the like.
		val, err := x.Value()
		if err != nil {
			return fmt.Sprint(v)
		}
		if s, ok := val.(string); ok && isNumber(s) {
			return json.Number(s)
		}
		if _, ok := val.(driver.Valuer); ok {
			return fmt.Sprint(val)
		}
		return Plain(val)
	case fmt.Stringer:
		return x.String()
	}
	return v
}

var number = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// isNumber: s is a JSON number (not NaN or Infinity).
func isNumber(s string) bool { return number.MatchString(s) }
