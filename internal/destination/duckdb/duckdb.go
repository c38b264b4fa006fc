// Package duckdb is the DuckDB destination, the embedded default: each load
// package is read by DuckDB's own Parquet (or CSV) reader straight from the
// package's job files and written in one transaction with its _dlt_loads row.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/schema"
)

// MemoryLimit caps DuckDB's buffer memory per database, so that a large
// load spills instead of growing with its input. At 128 MB DuckDB stored
// the 1M-record benchmark's job files 20 % slower (more CPU, not just
// more waiting) than at 160–256 MB, which all measured alike; 192 MB
// costs ~55 MB more peak RSS and stays flat from 1M to 4M records
// (docs/performance.md).
const MemoryLimit = "192MB"

// Client loads into one dataset (a DuckDB schema) of one database file.
type Client struct {
	db      *sql.DB
	dataset string
	Path    string
}

// Open opens (creating when needed) the database at path; "" or ":memory:"
// is an in-memory database.
func Open(path, dataset string) (*Client, error) {
	if path != "" && path != ":memory:" && !strings.HasPrefix(path, "md:") {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("duckdb: create directory for %s: %w", path, err)
		}
	}
	// Bound DuckDB's memory so a large load spills to disk instead of
	// growing with the input.
	c, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		_, err := execer.ExecContext(context.Background(), "SET memory_limit = '"+MemoryLimit+"'; SET preserve_insertion_order = false", nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	return &Client{db: db, dataset: dataset, Path: path}, nil
}

// DB exposes the connection (tests, dataset access).
func (c *Client) DB() *sql.DB { return c.db }

// Close closes the database.
func (c *Client) Close() error { return c.db.Close() }

// Capabilities implements destination.Client.
func (c *Client) Capabilities() destination.Capabilities {
	return destination.Capabilities{MaxIdentifierLength: 0, Transactions: true, JobFormats: []string{string(jobfile.Parquet), string(jobfile.CSV)}}
}

// Quote quotes an identifier.
func Quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// Literal quotes a string literal.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (c *Client) table(name string) string { return Quote(c.dataset) + "." + Quote(name) }

// SQLType maps a dlt type to DuckDB's, as dlt's DuckDB destination does
// (its type mapper's to_db_integer_type and to_db_datetime_type: a bigint's
// precision in bits picks the integer type, a naive timestamp's precision
// its resolution; an aware one is always TIMESTAMP WITH TIME ZONE).
func SQLType(col *schema.Column) string {
	switch col.DataType {
	case schema.Text:
		return "VARCHAR"
	case schema.Double:
		return "DOUBLE"
	case schema.Bool:
		return "BOOLEAN"
	case schema.Timestamp:
		if !schema.Naive(col) {
			return "TIMESTAMP WITH TIME ZONE"
		}
		switch p := schema.PrecisionOr(col, 6); {
		case p == 0:
			return "TIMESTAMP_S"
		case p <= 3:
			return "TIMESTAMP_MS"
		case p <= 6:
			return "TIMESTAMP"
		}
		return "TIMESTAMP_NS"
	case schema.Bigint:
		switch p := schema.PrecisionOr(col, 64); {
		case p <= 8:
			return "TINYINT"
		case p <= 16:
			return "SMALLINT"
		case p <= 32:
			return "INTEGER"
		case p <= 64:
			return "BIGINT"
		}
		return "HUGEINT"
	case schema.Binary:
		return "BLOB"
	case schema.JSON:
		return "JSON"
	case schema.Decimal:
		if p := schema.PrecisionOr(col, 0); p > 0 {
			return fmt.Sprintf("DECIMAL(%d,%d)", p, col.Scale)
		}
		return "DECIMAL(38,9)"
	case schema.Wei:
		return "DECIMAL(38,0)"
	case schema.Date:
		return "DATE"
	case schema.Time:
		return "TIME"
	}
	return "VARCHAR"
}

// readType is the type the JSON reader parses a column as.
func readType(col *schema.Column) string {
	if col.DataType == schema.Binary {
		return "VARCHAR"
	}
	return SQLType(col)
}

func selectExpr(col *schema.Column) string {
	if col.DataType == schema.Binary {
		return "from_base64(" + Quote(col.Name) + ")"
	}
	return Quote(col.Name)
}

const systemDDL = `
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_loads" (load_id VARCHAR NOT NULL, schema_name VARCHAR, status BIGINT NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR);
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_version" (version BIGINT NOT NULL, engine_version BIGINT NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_name VARCHAR NOT NULL, version_hash VARCHAR NOT NULL, schema VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_pipeline_state" (version BIGINT NOT NULL, engine_version BIGINT NOT NULL, pipeline_name VARCHAR NOT NULL, state VARCHAR NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, version_hash VARCHAR, _dlt_load_id VARCHAR NOT NULL, _dlt_id VARCHAR);
ALTER TABLE %[1]s."_dlt_pipeline_state" ADD COLUMN IF NOT EXISTS _dlt_id VARCHAR;
`

// IsLoaded implements destination.Client.
func (c *Client) IsLoaded(ctx context.Context, loadID string) (bool, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM `+c.table(schema.LoadsTable)+` WHERE load_id = ?`, loadID).Scan(&n)
	if err != nil {
		if isMissingTable(err) {
			return false, nil
		}
		return false, fmt.Errorf("duckdb: check load %s: %w", loadID, err)
	}
	return n > 0, nil
}

func isMissingTable(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "Catalog Error"))
}

// Load implements destination.Client.
func (c *Client) Load(ctx context.Context, p *destination.Package) (err error) {
	var tx *sql.Tx
	if e, ok := p.Early.(*early); ok && e.c == c {
		tx = e.tx
	} else {
		if p.Early != nil {
			_ = p.Early.Rollback()
			p.Loaded = nil
		}
		if done, err := c.IsLoaded(ctx, p.LoadID); err != nil || done {
			return err
		}
		if tx, err = c.begin(ctx); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("duckdb: %w", destination.QueryError(err, q))
		}
		return nil
	}
	for _, t := range p.Schema.DataTables() {
		if len(t.Columns) == 0 {
			continue
		}
		if err := c.ensureTable(ctx, tx, t); err != nil {
			return err
		}
	}
	for _, root := range p.Replace {
		for _, t := range append([]*schema.Table{p.Schema.Table(root)}, p.Schema.Children(root)...) {
			if t == nil || len(t.Columns) == 0 {
				continue
			}
			if err := exec(`DELETE FROM ` + c.table(t.Name)); err != nil {
				return err
			}
		}
	}
	// Roots first, so merge can find the root ids of its child rows.
	for _, t := range p.Schema.DataTables() {
		files := p.Pending(t.Name)
		if len(files) == 0 || t.Parent != "" {
			continue
		}
		if err := c.loadRoot(ctx, tx, p, t, files); err != nil {
			return fmt.Errorf("load table %q: %w", t.Name, err)
		}
	}
	for _, t := range p.Schema.DataTables() {
		files := p.Pending(t.Name)
		if len(files) == 0 || t.Parent == "" {
			continue
		}
		root := p.Schema.Root(t)
		if root.WriteDisposition == schema.Merge && (root.HasMergeKeys() || root.MergeStrategy == schema.SCD2) {
			continue // loaded with its root
		}
		src, err := Source(files, t, false)
		if err != nil {
			return err
		}
		if err := exec(`INSERT INTO ` + c.table(t.Name) + ` BY NAME SELECT * FROM ` + src); err != nil {
			return fmt.Errorf("load table %q: %w", t.Name, err)
		}
	}
	if err := c.storeSchema(ctx, tx, p.Schema); err != nil {
		return err
	}
	if s := p.State; s != nil {
		if err := exec(`INSERT INTO `+c.table(schema.StateTable)+` (version, engine_version, pipeline_name, state, created_at, version_hash, _dlt_load_id, _dlt_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.Version, s.EngineVersion, s.PipelineName, s.State, s.CreatedAt, s.VersionHash, p.LoadID, stateRowID(s)); err != nil {
			return err
		}
	}
	if err := exec(`INSERT INTO `+c.table(schema.LoadsTable)+` VALUES (?, ?, 0, ?, ?)`, p.LoadID, p.Schema.Name, time.Now().UTC(), p.Schema.VersionHash); err != nil {
		return err
	}
	if p.BeforeCommit != nil {
		p.BeforeCommit()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("duckdb: commit load %s: %w", p.LoadID, err)
	}
	return nil
}

// begin opens a load transaction with the dataset and dlt's system tables
// in place.
func (c *Client) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: begin: %w", err)
	}
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS ` + Quote(c.dataset), fmt.Sprintf(systemDDL, Quote(c.dataset))} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("duckdb: %w", destination.QueryError(err, q))
		}
	}
	return tx, nil
}

// early is a load transaction that takes job files while the package is
// still being normalized (destination.Early).
type early struct {
	c  *Client
	tx *sql.Tx
}

// BeginEarly implements destination.EarlyLoader.
func (c *Client) BeginEarly(ctx context.Context, loadID string) (destination.Early, bool, error) {
	if done, err := c.IsLoaded(ctx, loadID); err != nil || done {
		return nil, false, err
	}
	tx, err := c.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	return &early{c: c, tx: tx}, true, nil
}

// Append implements destination.Early: the file's rows are inserted as an
// append table's are at the end of Load.
func (e *early) Append(ctx context.Context, t *schema.Table, path string) error {
	if err := e.c.ensureTable(ctx, e.tx, t); err != nil {
		return err
	}
	src, err := Source([]string{path}, t, false)
	if err != nil {
		return err
	}
	q := `INSERT INTO ` + e.c.table(t.Name) + ` BY NAME SELECT * FROM ` + src
	if _, err := e.tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("duckdb: load table %q: %w", t.Name, destination.QueryError(err, q))
	}
	return nil
}

// Rollback implements destination.Early.
func (e *early) Rollback() error { return e.tx.Rollback() }

// Source is a relation over a table's job files: each file read with its
// own columns, typed after the table's, glued with UNION ALL BY NAME
// (columns a file lacks are NULL), plus, withPos, a _dlt_pos column that
// keeps file and row order for dedup. Parquet files are read by DuckDB's
// parallel Parquet reader; CSV files (PostgreSQL's format, and packages
// normalized by earlier versions) by its CSV reader with declared types.
func Source(files []string, t *schema.Table, withPos bool) (string, error) {
	var parts []string
	var run []string // Parquet files in a row with the same columns
	var runNames []string
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		part, err := parquetSource(run, runNames, t, len(parts), withPos)
		if err != nil {
			return err
		}
		parts, run = append(parts, part), nil
		return nil
	}
	for _, f := range files {
		names, err := jobfile.Columns(f)
		if err != nil {
			return "", err
		}
		if jobfile.FormatOf(f) == jobfile.Parquet {
			// Files with the same columns are read by one read_parquet:
			// DuckDB then reads them all in parallel into full row
			// groups; a UNION ALL of one read per file stored 7 files a
			// table 80 % slower than one. With _dlt_pos each file keeps
			// its own read (its number orders its rows).
			if len(run) > 0 && (withPos || !slices.Equal(names, runNames)) {
				if err := flush(); err != nil {
					return "", err
				}
			}
			run, runNames = append(run, f), names
			continue
		}
		if err := flush(); err != nil {
			return "", err
		}
		part, err := csvSource(f, names, t, len(parts), withPos)
		if err != nil {
			return "", err
		}
		parts = append(parts, part)
	}
	if err := flush(); err != nil {
		return "", err
	}
	return "(" + strings.Join(parts, " UNION ALL BY NAME ") + ")", nil
}

// posBase spaces the _dlt_pos of one file from the next.
const posBase = "1000000000000"

func csvSource(f string, header []string, t *schema.Table, i int, withPos bool) (string, error) {
	cols := make([]string, len(header))
	sel := make([]string, len(header))
	for j, name := range header {
		col := t.Column(name)
		if col == nil {
			return "", fmt.Errorf("%s: column %q is not in the schema of %q", f, name, t.Name)
		}
		cols[j] = Literal(name) + ": " + Literal(readType(col))
		sel[j] = selectExpr(col) + " AS " + Quote(name)
	}
	pos := ""
	if withPos {
		pos = fmt.Sprintf(`, %d::BIGINT * %s + row_number() OVER () AS "_dlt_pos"`, i, posBase)
	}
	return fmt.Sprintf("SELECT %s%s FROM read_csv(%s, header=true, auto_detect=false, delim=',', quote='\"', escape='\"', nullstr='', allow_quoted_nulls=false, columns={%s})",
		strings.Join(sel, ", "), pos, Literal(f), strings.Join(cols, ", ")), nil
}

// parquetSource selects a Parquet job file's columns in the table's order.
// Most are stored as their DuckDB type; decimals and wei are stored as text
// and cast here, json marked as such.
func parquetSource(files []string, names []string, t *schema.Table, i int, withPos bool) (string, error) {
	in := make(map[string]bool, len(names))
	for _, name := range names {
		if t.Column(name) == nil {
			return "", fmt.Errorf("%s: column %q is not in the schema of %q", files[0], name, t.Name)
		}
		in[name] = true
	}
	sel := make([]string, 0, len(names)+1)
	for _, col := range t.Columns {
		if !in[col.Name] {
			continue
		}
		expr := Quote(col.Name)
		switch col.DataType {
		case schema.Decimal, schema.Wei, schema.JSON:
			expr = "CAST(" + expr + " AS " + SQLType(col) + ")"
		case schema.Timestamp:
			if schema.Naive(col) {
				// The file holds instants; a naive column holds their
				// UTC wall time, whatever the session's time zone.
				expr = "CAST(timezone('UTC', " + expr + ") AS " + SQLType(col) + ")"
			}
		}
		sel = append(sel, expr+" AS "+Quote(col.Name))
	}
	args := ""
	if withPos {
		sel = append(sel, fmt.Sprintf(`%d::BIGINT * %s + file_row_number AS "_dlt_pos"`, i, posBase))
		args = ", file_row_number=true"
	}
	lits := make([]string, len(files))
	for j, f := range files {
		lits[j] = Literal(f)
	}
	return fmt.Sprintf("SELECT %s FROM read_parquet([%s]%s)", strings.Join(sel, ", "), strings.Join(lits, ", "), args), nil
}

func (c *Client) ensureTable(ctx context.Context, tx *sql.Tx, t *schema.Table) error {
	rows, err := tx.QueryContext(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?`, c.dataset, t.Name)
	if err != nil {
		return fmt.Errorf("duckdb: read columns of %q: %w", t.Name, err)
	}
	existing := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			_ = rows.Close()
			return err
		}
		existing[name] = true
	}
	if err := rows.Close(); err != nil {
		return err
	}
	cols := t.Stored()
	if len(existing) == 0 {
		defs := make([]string, len(cols))
		for i, col := range cols {
			defs[i] = Quote(col.Name) + " " + SQLType(col)
			if col.Name == "_dlt_id" && !strings.HasPrefix(c.Path, "md:") {
				// dlt's row ids are random: DuckDB's string compression
				// finds next to nothing in them and spends about a seventh
				// of a load's time looking (1M issues: load 4.6 → 3.9 s,
				// file 7 % larger; docs/performance.md).
				defs[i] += " USING COMPRESSION uncompressed"
			}
			if !col.Nullable {
				defs[i] += " NOT NULL"
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE `+c.table(t.Name)+` (`+strings.Join(defs, ", ")+`)`)
		if err != nil {
			return fmt.Errorf("duckdb: create table %q: %w", t.Name, err)
		}
		return nil
	}
	for _, col := range cols {
		if existing[col.Name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+c.table(t.Name)+` ADD COLUMN `+Quote(col.Name)+` `+SQLType(col)); err != nil {
			return fmt.Errorf("duckdb: add column %q to %q: %w", col.Name, t.Name, err)
		}
	}
	return nil
}

func (c *Client) storeSchema(ctx context.Context, tx *sql.Tx, s *schema.Schema) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+c.table(schema.VersionTable)+` WHERE version_hash = ?`, s.VersionHash).Scan(&n); err != nil {
		return fmt.Errorf("duckdb: read %s: %w", schema.VersionTable, err)
	}
	if n > 0 {
		return nil
	}
	b, err := s.StoredJSON()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO `+c.table(schema.VersionTable)+` VALUES (?, ?, ?, ?, ?, ?)`,
		s.Version, s.EngineVersion, time.Now().UTC(), s.Name, s.VersionHash, string(b))
	if err != nil {
		return fmt.Errorf("duckdb: store schema: %w", err)
	}
	return nil
}

// LatestState implements destination.Client: the newest state of a
// completed load, as dlt's get_stored_state joins _dlt_loads. A state row
// whose load never completed (dlt writes it as one of the load's jobs) is
// not one to continue from: its records may not all be stored.
func (c *Client) LatestState(ctx context.Context, pipelineName string) (*destination.StateRow, error) {
	r := &destination.StateRow{}
	var vh sql.NullString
	err := c.db.QueryRowContext(ctx, `SELECT s.version, s.engine_version, s.pipeline_name, s.state, s.created_at, s.version_hash, s._dlt_load_id FROM `+
		c.table(schema.StateTable)+` AS s JOIN `+c.table(schema.LoadsTable)+` AS l ON l.load_id = s._dlt_load_id WHERE s.pipeline_name = ? AND l.status = 0 ORDER BY l.load_id DESC, s.version DESC LIMIT 1`, pipelineName).
		Scan(&r.Version, &r.EngineVersion, &r.PipelineName, &r.State, &r.CreatedAt, &vh, &r.LoadID)
	if errors.Is(err, sql.ErrNoRows) || isMissingTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("duckdb: read pipeline state: %w", err)
	}
	r.VersionHash = vh.String
	return r, nil
}

// LatestSchema implements destination.Client.
func (c *Client) LatestSchema(ctx context.Context, schemaName string) (*schema.Schema, error) {
	var body string
	err := c.db.QueryRowContext(ctx, `SELECT schema FROM `+c.table(schema.VersionTable)+` WHERE schema_name = ? ORDER BY inserted_at DESC, version DESC LIMIT 1`, schemaName).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) || isMissingTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("duckdb: read stored schema: %w", err)
	}
	s := &schema.Schema{}
	if err := json.Unmarshal([]byte(body), s); err != nil {
		return nil, fmt.Errorf("duckdb: stored schema %q: %w", schemaName, err)
	}
	return s, nil
}

// DropTables implements destination.Client.
func (c *Client) DropTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if _, err := c.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+c.table(t)); err != nil {
			return fmt.Errorf("duckdb: drop %q: %w", t, err)
		}
	}
	return nil
}

// TruncateTables implements destination.Client.
func (c *Client) TruncateTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if _, err := c.db.ExecContext(ctx, `DELETE FROM `+c.table(t)); err != nil {
			if isMissingTable(err) {
				continue
			}
			return fmt.Errorf("duckdb: truncate %q: %w", t, err)
		}
	}
	return nil
}

// loadRoot loads a root table's files: appended, or merged with its child
// tables by primary/merge key (delete-insert with dedup by primary key).
func (c *Client) loadRoot(ctx context.Context, tx *sql.Tx, p *destination.Package, t *schema.Table, files []string) error {
	if t.WriteDisposition == schema.Merge && t.MergeStrategy == schema.SCD2 {
		return c.loadSCD2(ctx, tx, p, t, files)
	}
	if t.WriteDisposition == schema.Merge && t.MergeStrategy == schema.InsertOnly && t.HasMergeKeys() {
		return c.loadInsertOnly(ctx, tx, p, t, files)
	}
	merge := t.WriteDisposition == schema.Merge && t.HasMergeKeys()
	src, err := Source(files, t, merge)
	if err != nil {
		return err
	}
	if !merge {
		_, err := tx.ExecContext(ctx, `INSERT INTO `+c.table(t.Name)+` BY NAME SELECT * FROM `+src)
		return err
	}
	var pk, mk []string
	for _, col := range t.Columns {
		if col.PrimaryKey {
			pk = append(pk, col.Name)
		}
		if col.MergeKey {
			mk = append(mk, col.Name)
		}
	}
	stg := Quote("_dlt_stage_" + t.Name)
	run := func(q string) error {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return destination.QueryError(err, q)
		}
		return nil
	}
	// Stage the new rows; with a primary key keep the last row per key,
	// which needs rows in file order while staging.
	if err := run(`SET preserve_insertion_order = true`); err != nil {
		return err
	}
	defer func() { _, _ = tx.ExecContext(ctx, `SET preserve_insertion_order = false`) }()
	// Stage everything first (this streams and spills), then dedup only
	// when keys repeat: the window that picks the last row per key needs
	// memory, and most loads have unique keys.
	if err := run(`CREATE OR REPLACE TEMP TABLE ` + stg + ` AS SELECT * FROM ` + src); err != nil {
		return err
	}
	if len(pk) > 0 {
		var dups int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) - count(DISTINCT (`+quoteAll(pk)+`)) FROM `+stg).Scan(&dups); err != nil {
			return fmt.Errorf("duckdb: count duplicate keys: %w", err)
		}
		if dups > 0 {
			order := `"_dlt_pos" DESC`
			if sort := destination.DedupSort(t); sort != nil {
				order = Quote(sort.Name) + " " + strings.ToUpper(sort.DedupSort) + ", " + order
			}
			if err := run(`CREATE OR REPLACE TEMP TABLE ` + stg + ` AS SELECT * EXCLUDE ("_dlt_rn") FROM (SELECT *, row_number() OVER (PARTITION BY ` +
				quoteAll(pk) + ` ORDER BY ` + order + `) AS "_dlt_rn" FROM ` + stg + `) WHERE "_dlt_rn" = 1`); err != nil {
				return err
			}
		}
	}
	if err := run(`ALTER TABLE ` + stg + ` DROP COLUMN "_dlt_pos"`); err != nil {
		return err
	}
	match := func(keys []string) string {
		return `EXISTS (SELECT 1 FROM ` + stg + ` s WHERE ` + keyMatch(keys, "s", "d") + `)`
	}
	var where []string
	if len(pk) > 0 {
		where = append(where, match(pk))
	}
	if len(mk) > 0 {
		where = append(where, match(mk))
	}
	cond := strings.Join(where, " OR ")
	newKeys := "" // upsert: flagged records' keys that are new (destination.NewFlaggedKeys)
	if q := destination.NewFlaggedKeys(t, Quote, pk, stg, c.table(t.Name)); q != "" {
		newKeys = Quote("_dlt_new_" + t.Name)
		if err := run(`CREATE OR REPLACE TEMP TABLE ` + newKeys + ` AS ` + q); err != nil {
			return err
		}
		defer func() { _, _ = tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+newKeys) }()
	}
	children := p.Schema.Children(t.Name)
	for _, ch := range children {
		if len(ch.Columns) == 0 || ch.Column(schema.ColRootID) == nil {
			continue
		}
		if err := run(`DELETE FROM ` + c.table(ch.Name) + ` WHERE ` + Quote(schema.ColRootID) + ` IN (SELECT d.` + Quote(schema.ColID) + ` FROM ` + c.table(t.Name) + ` d WHERE ` + cond + `)`); err != nil {
			return err
		}
	}
	if err := run(`DELETE FROM ` + c.table(t.Name) + ` d WHERE ` + cond); err != nil {
		return err
	}
	hard, rootHard := destination.HardDeleteFilters(t, Quote, pk, newKeys)
	if err := run(`INSERT INTO ` + c.table(t.Name) + ` BY NAME SELECT * FROM ` + stg + ` s` + rootHard); err != nil {
		return err
	}
	for _, ch := range children {
		chFiles := p.Files[ch.Name]
		if len(chFiles) == 0 {
			continue
		}
		chSrc, err := Source(chFiles, ch, false)
		if err != nil {
			return err
		}
		if err := run(`INSERT INTO ` + c.table(ch.Name) + ` BY NAME SELECT * FROM ` + chSrc +
			` WHERE ` + Quote(schema.ColRootID) + ` IN (SELECT ` + Quote(schema.ColID) + ` FROM ` + stg + hard + `)`); err != nil {
			return err
		}
	}
	return run(`DROP TABLE ` + stg)
}

// loadInsertOnly inserts the records whose primary key is not stored, as
// dlt's insert-only MERGE (WHEN NOT MATCHED THEN INSERT) does: records
// flagged by a hard_delete column are not inserted, records of one load
// that share a new key all are, and nested rows are inserted by row key
// (those of a stored record's longer list too, as dlt's nested MERGE).
func (c *Client) loadInsertOnly(ctx context.Context, tx *sql.Tx, p *destination.Package, t *schema.Table, files []string) error {
	src, err := Source(files, t, false)
	if err != nil {
		return err
	}
	run := func(q string) error {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return destination.QueryError(err, q)
		}
		return nil
	}
	if err := run(`INSERT INTO ` + c.table(t.Name) + ` BY NAME SELECT * FROM ` + src + ` s` + destination.InsertOnlyFilter(t, Quote, c.table(t.Name))); err != nil {
		return err
	}
	return c.insertNewNested(p, t, run)
}

// insertNewNested inserts the nested rows of root t's files whose row key
// is not stored yet, as dlt's scd2 and insert-only merges do: row keys
// derive from the parent's key, so rows already stored are recognised.
func (c *Client) insertNewNested(p *destination.Package, t *schema.Table, run func(string) error) error {
	id := Quote(schema.ColID)
	for _, ch := range p.Schema.Children(t.Name) {
		chFiles := p.Files[ch.Name]
		if len(chFiles) == 0 {
			continue
		}
		chSrc, err := Source(chFiles, ch, false)
		if err != nil {
			return err
		}
		if err := run(`INSERT INTO ` + c.table(ch.Name) + ` BY NAME SELECT * FROM ` + chSrc + ` WHERE ` + id + ` NOT IN (SELECT ` + id + ` FROM ` + c.table(ch.Name) + `)`); err != nil {
			return err
		}
	}
	return nil
}

// loadSCD2 keeps history: current rows (valid-to NULL, or the table's active
// record timestamp) that are not in the new load are closed at the load's
// timestamp or the table's boundary (with a merge key, only
// those whose key is in the load), and new versions are inserted open-ended
// with their nested rows. Row keys are dlt's content hashes, so an
// unchanged record is recognised and left alone, also when dlt loaded it.
func (c *Client) loadSCD2(ctx context.Context, tx *sql.Tx, p *destination.Package, t *schema.Table, files []string) error {
	src, err := Source(files, t, false)
	if err != nil {
		return err
	}
	run := func(q string) error {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return destination.QueryError(err, q)
		}
		return nil
	}
	stg := Quote("_dlt_stage_" + t.Name)
	id, v := Quote(schema.ColID), destination.NewSCD2(t, Quote)
	// As dlt, a load's identical records are all inserted (one version
	// each, the same row key): its scd2 SQL does not deduplicate.
	if err := run(`CREATE OR REPLACE TEMP TABLE ` + stg + ` AS SELECT * FROM ` + src); err != nil {
		return err
	}
	scope := ""
	var mk []string
	for _, col := range t.Columns {
		if col.MergeKey {
			mk = append(mk, col.Name)
		}
	}
	if len(mk) > 0 {
		scope = ` AND EXISTS (SELECT 1 FROM ` + stg + ` s WHERE ` + keyMatch(mk, "s", "d") + `)`
	}
	if err := run(`UPDATE ` + c.table(t.Name) + ` d SET ` + v.To + ` = (SELECT max(` + v.From + `) FROM ` + stg + `) WHERE ` + v.Active("d") + ` AND d.` + id +
		` NOT IN (SELECT ` + id + ` FROM ` + stg + `)` + scope); err != nil {
		return err
	}
	if err := run(`DELETE FROM ` + stg + ` WHERE ` + id + ` IN (SELECT ` + id + ` FROM ` + c.table(t.Name) + ` WHERE ` + v.Active("") + `)`); err != nil {
		return err
	}
	if err := run(`INSERT INTO ` + c.table(t.Name) + ` BY NAME SELECT * FROM ` + stg); err != nil {
		return err
	}
	// As dlt: nested rows whose key is not stored yet. Their keys derive
	// from the version's row hash, so an unchanged version's rows are
	// there already and a new version's are new.
	if err := c.insertNewNested(p, t, run); err != nil {
		return err
	}
	return run(`DROP TABLE ` + stg)
}

func quoteAll(names []string) string { return destination.QuoteAll(Quote, names) }

func keyMatch(keys []string, a, b string) string { return destination.KeyMatch(Quote, keys, a, b) }

// stateRowID is the state row's _dlt_id.
func stateRowID(s *destination.StateRow) string {
	if s.ID != "" {
		return s.ID
	}
	return destination.NewRowID()
}
