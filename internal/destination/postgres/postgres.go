// Package postgres is the PostgreSQL destination: a dataset is a schema,
// each load package is written with COPY from the package's job files
// (binary COPY, or CSV) in one transaction together with its _dlt_loads row, and merges go through a
// <dataset>_staging schema inside that transaction. Identifiers are limited to
// 63 characters; the naming convention shortens longer ones.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// MaxIdentifierLength is PostgreSQL's limit.
const MaxIdentifierLength = 63

// Client loads into one dataset of one database.
type Client struct {
	conn    *pgx.Conn
	dataset string
}

// Open connects to dsn ("postgresql://user:pw@host:5432/db").
func Open(ctx context.Context, dsn, dataset string) (*Client, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", redact(dsn), err)
	}
	return &Client{conn: conn, dataset: dataset}, nil
}

// redact hides the password of a connection string for messages.
func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable connection string)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Conn exposes the connection (tests, inspection).
func (c *Client) Conn() *pgx.Conn { return c.conn }

// Close implements destination.Client.
func (c *Client) Close() error { return c.conn.Close(context.Background()) }

// FileMaxItems is the rows per CSV job file by default: finished files are
// COPied while later rows are normalized (1M GitHub-issue-like records
// loaded 10 % faster on two cores, docs/performance.md), and a file of
// this size is a few seconds of COPY at most.
const FileMaxItems = 250_000

// Capabilities implements destination.Client.
func (c *Client) Capabilities() destination.Capabilities {
	return destination.Capabilities{MaxIdentifierLength: MaxIdentifierLength, Transactions: true, JobFormats: []string{string(jobfile.PGCopy), string(jobfile.CSV)},
		FileMaxItems: FileMaxItems}
}

// Quote quotes an identifier.
func Quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func (c *Client) table(name string) string   { return Quote(c.dataset) + "." + Quote(name) }
func (c *Client) staging(name string) string { return Quote(c.dataset+"_staging") + "." + Quote(name) }
func (c *Client) stagingSchema() string      { return Quote(c.dataset + "_staging") }

// SQLType maps a dlt type to PostgreSQL's, as dlt's postgres destination does.
func SQLType(col *schema.Column) string {
	switch col.DataType {
	case schema.Text:
		if p := schema.PrecisionOr(col, 0); p > 0 {
			return fmt.Sprintf("varchar(%d)", p)
		}
		return "varchar"
	case schema.Double:
		return "double precision"
	case schema.Bool:
		return "boolean"
	case schema.Timestamp:
		t := "timestamp"
		if col.Precision != nil {
			t += fmt.Sprintf(" (%d)", min(max(*col.Precision, 0), 6))
		}
		if schema.Naive(col) {
			return t + " without time zone"
		}
		return t + " with time zone"
	case schema.Bigint:
		switch p := schema.PrecisionOr(col, 64); {
		case p <= 16:
			return "smallint"
		case p <= 32:
			return "integer"
		}
		return "bigint"
	case schema.Binary:
		return "bytea"
	case schema.JSON:
		return "jsonb"
	case schema.Decimal:
		if p := schema.PrecisionOr(col, 0); p > 0 {
			return fmt.Sprintf("numeric(%d,%d)", p, col.Scale)
		}
		return "numeric(38,9)"
	case schema.Wei:
		return "numeric"
	case schema.Date:
		return "date"
	case schema.Time:
		if col.Precision != nil {
			return fmt.Sprintf("time (%d) without time zone", min(max(*col.Precision, 0), 6))
		}
		return "time without time zone"
	}
	return "varchar"
}

const systemDDL = `
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_loads" (load_id varchar NOT NULL, schema_name varchar, status bigint NOT NULL, inserted_at timestamp with time zone NOT NULL, schema_version_hash varchar);
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_version" (version bigint NOT NULL, engine_version bigint NOT NULL, inserted_at timestamp with time zone NOT NULL, schema_name varchar NOT NULL, version_hash varchar NOT NULL, schema varchar NOT NULL);
CREATE TABLE IF NOT EXISTS %[1]s."_dlt_pipeline_state" (version bigint NOT NULL, engine_version bigint NOT NULL, pipeline_name varchar NOT NULL, state varchar NOT NULL, created_at timestamp with time zone NOT NULL, version_hash varchar, _dlt_load_id varchar NOT NULL, _dlt_id varchar);
ALTER TABLE %[1]s."_dlt_pipeline_state" ADD COLUMN IF NOT EXISTS _dlt_id varchar;
`

func isMissing(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "SQLSTATE 42P01") || strings.Contains(err.Error(), "SQLSTATE 3F000"))
}

// IsLoaded implements destination.Client.
func (c *Client) IsLoaded(ctx context.Context, loadID string) (bool, error) {
	var n int
	err := c.conn.QueryRow(ctx, `SELECT count(*) FROM `+c.table(schema.LoadsTable)+` WHERE load_id = $1`, loadID).Scan(&n)
	if isMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: check load %s: %w", loadID, err)
	}
	return n > 0, nil
}

// Load implements destination.Client.
func (c *Client) Load(ctx context.Context, p *destination.Package) (err error) {
	var tx pgx.Tx
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
			_ = tx.Rollback(ctx)
		}
	}()
	exec := func(q string, args ...any) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("postgres: %w", destination.QueryError(err, q))
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
	for _, t := range p.Schema.DataTables() {
		if files := p.Pending(t.Name); len(files) > 0 && t.Parent == "" {
			if err := c.loadRoot(ctx, tx, p, t, files); err != nil {
				return fmt.Errorf("load table %q: %w", t.Name, err)
			}
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
		if err := c.copyInto(ctx, tx, t, c.table(t.Name), files); err != nil {
			return fmt.Errorf("load table %q: %w", t.Name, err)
		}
	}
	if err := c.storeSchema(ctx, tx, p.Schema); err != nil {
		return err
	}
	if s := p.State; s != nil {
		id := s.ID
		if id == "" {
			id = destination.NewRowID()
		}
		if err := exec(`INSERT INTO `+c.table(schema.StateTable)+` (version, engine_version, pipeline_name, state, created_at, version_hash, _dlt_load_id, _dlt_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			s.Version, s.EngineVersion, s.PipelineName, s.State, s.CreatedAt, s.VersionHash, p.LoadID, id); err != nil {
			return err
		}
	}
	if err := exec(`INSERT INTO `+c.table(schema.LoadsTable)+` VALUES ($1, $2, 0, $3, $4)`, p.LoadID, p.Schema.Name, time.Now().UTC(), p.Schema.VersionHash); err != nil {
		return err
	}
	if p.BeforeCommit != nil {
		p.BeforeCommit()
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit load %s: %w", p.LoadID, err)
	}
	return nil
}

// begin opens a load transaction with the dataset and dlt's system tables
// in place.
func (c *Client) begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := c.conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	// Timestamps without a zone are UTC, as in dlt (and as the pgcopy
	// files hold them), whatever the server's or role's TimeZone.
	if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'`); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: set the load's time zone: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+Quote(c.dataset)); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: create schema %s: %w", c.dataset, err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(systemDDL, Quote(c.dataset))); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("postgres: create system tables: %w", err)
	}
	return tx, nil
}

// early is a load transaction that takes job files while the package is
// still being normalized (destination.Early).
type early struct {
	c  *Client
	tx pgx.Tx
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

// Append implements destination.Early: the file is COPied as an append
// table's files are at the end of Load.
func (e *early) Append(ctx context.Context, t *schema.Table, path string) error {
	if err := e.c.ensureTable(ctx, e.tx, t); err != nil {
		return err
	}
	if err := e.c.copyInto(ctx, e.tx, t, e.c.table(t.Name), []string{path}); err != nil {
		return fmt.Errorf("load table %q: %w", t.Name, err)
	}
	return nil
}

// Rollback implements destination.Early.
func (e *early) Rollback() error { return e.tx.Rollback(context.Background()) }

func (c *Client) ensureTable(ctx context.Context, tx pgx.Tx, t *schema.Table) error {
	rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, c.dataset, t.Name)
	if err != nil {
		return fmt.Errorf("postgres: read columns of %q: %w", t.Name, err)
	}
	existing := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		existing[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	cols := t.Stored()
	if len(existing) == 0 {
		defs := make([]string, len(cols))
		for i, col := range cols {
			defs[i] = Quote(col.Name) + " " + SQLType(col)
			if !col.Nullable {
				defs[i] += " NOT NULL"
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE `+c.table(t.Name)+` (`+strings.Join(defs, ", ")+`)`); err != nil {
			return fmt.Errorf("postgres: create table %q: %w", t.Name, err)
		}
		return nil
	}
	for _, col := range cols {
		if existing[col.Name] {
			continue
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE `+c.table(t.Name)+` ADD COLUMN `+Quote(col.Name)+` `+SQLType(col)); err != nil {
			return fmt.Errorf("postgres: add column %q to %q: %w", col.Name, t.Name, err)
		}
	}
	return nil
}

// copyInto COPYs job files into target: pgcopy files as binary COPY, CSV
// files as CSV. Binary columns in CSV arrive as base64 text, so such files
// go through a text-typed temp table and decode.
func (c *Client) copyInto(ctx context.Context, tx pgx.Tx, t *schema.Table, target string, files []string) error {
	var types map[string]string // the target's column types, read once
	for _, f := range files {
		switch jobfile.FormatOf(f) {
		case jobfile.PGCopy:
			if types == nil {
				var err error
				if types, err = columnTypes(ctx, tx, target); err != nil {
					return err
				}
			}
			if err := copyBinary(ctx, tx, target, types, f); err != nil {
				return err
			}
			continue
		case jobfile.CSV:
		default:
			return fmt.Errorf("%s: PostgreSQL loads pgcopy and CSV job files; this package was normalized for another destination: delete its load package folder to drop it", f)
		}
		header, err := loadpackage.ReadHeader(f)
		if err != nil {
			return err
		}
		cols := make([]string, len(header))
		// Staged: binary columns (base64 text in CSV) and naive timestamps
		// (PostgreSQL ignores an offset in text for a column without time
		// zone; staged as instants, they are turned into UTC wall times).
		binary := false
		for i, h := range header {
			cols[i] = Quote(h)
			if col := t.Column(h); col != nil && (col.DataType == schema.Binary || naiveTimestamp(col)) {
				binary = true
			}
		}
		dest := target
		if binary {
			defs := make([]string, len(header))
			for i, h := range header {
				typ := "text"
				if col := t.Column(h); col != nil && naiveTimestamp(col) {
					typ = "timestamp with time zone"
				} else if col != nil && col.DataType != schema.Binary {
					typ = SQLType(col)
				}
				defs[i] = Quote(h) + " " + typ
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS "_dlt_binary_stage" (`+strings.Join(defs, ", ")+`) ON COMMIT DROP; TRUNCATE "_dlt_binary_stage"`); err != nil {
				return err
			}
			dest = `"_dlt_binary_stage"`
		}
		if err := copyFile(ctx, tx, f, `COPY `+dest+` (`+strings.Join(cols, ", ")+`) FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')`); err != nil {
			return err
		}
		if binary {
			sel := make([]string, len(header))
			for i, h := range header {
				sel[i] = Quote(h)
				if col := t.Column(h); col != nil && col.DataType == schema.Binary {
					sel[i] = "decode(" + Quote(h) + ", 'base64')"
				} else if col != nil && naiveTimestamp(col) {
					sel[i] = "(" + Quote(h) + " AT TIME ZONE 'UTC')"
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+target+` (`+strings.Join(cols, ", ")+`) SELECT `+strings.Join(sel, ", ")+` FROM "_dlt_binary_stage"; DROP TABLE "_dlt_binary_stage"`); err != nil {
				return err
			}
		}
	}
	return nil
}

// naiveTimestamp reports a timestamp column hinted timezone = false.
func naiveTimestamp(c *schema.Column) bool {
	return c.DataType == schema.Timestamp && schema.Naive(c)
}

// columnTypes reads the types of target's columns: format_type() without
// the type modifier (what a binary value must be encoded for), and with
// it after a tab (what a cast makes).
func columnTypes(ctx context.Context, tx pgx.Tx, target string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, NULL) || chr(9) || format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, target)
	if err != nil {
		return nil, fmt.Errorf("postgres: read column types of %s: %w", target, err)
	}
	types, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var nt [2]string
		err := r.Scan(&nt[0], &nt[1])
		return nt, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read column types of %s: %w", target, err)
	}
	out := make(map[string]string, len(types))
	for _, nt := range types {
		out[nt[0]] = nt[1]
	}
	return out, nil
}

// copyBinary COPYs a pgcopy job file into target. Binary input is not
// converted, so when one of target's columns has another type than the
// file's values were encoded for (a table made by other tools, or altered
// since), the file goes into a temp table of its own types first and its
// values are cast to the target's, as INSERT ... SELECT casts.
func copyBinary(ctx context.Context, tx pgx.Tx, target string, types map[string]string, path string) error {
	cols, err := jobfile.PGCopyColumns(path)
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	same := true
	for i, col := range cols {
		names[i] = Quote(col.Name)
		have, _, _ := strings.Cut(types[col.Name], "\t")
		if have != col.Type && (col.Type != "character varying" || have != "text") {
			same = false
		}
	}
	list := strings.Join(names, ", ")
	if same {
		return copyFile(ctx, tx, path, `COPY `+target+` (`+list+`) FROM STDIN WITH (FORMAT binary)`)
	}
	defs := make([]string, len(cols))
	sel := make([]string, len(cols))
	for i, col := range cols {
		defs[i] = names[i] + " " + col.Type
		sel[i] = names[i]
		if _, full, ok := strings.Cut(types[col.Name], "\t"); ok {
			sel[i] = names[i] + "::" + full // a naive timestamp in the load's UTC (begin)
		}
	}
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS "_dlt_pgcopy_stage"; CREATE TEMP TABLE "_dlt_pgcopy_stage" (`+strings.Join(defs, ", ")+`) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("postgres: stage %s: %w", path, err)
	}
	if err := copyFile(ctx, tx, path, `COPY "_dlt_pgcopy_stage" (`+list+`) FROM STDIN WITH (FORMAT binary)`); err != nil {
		return err
	}
	q := `INSERT INTO ` + target + ` (` + list + `) SELECT ` + strings.Join(sel, ", ") + ` FROM "_dlt_pgcopy_stage"; DROP TABLE "_dlt_pgcopy_stage"`
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("postgres: %s into columns of other types: %w", path, destination.QueryError(err, q))
	}
	return nil
}

func copyFile(ctx context.Context, tx pgx.Tx, path, sql string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, io.Reader(f), sql); err != nil {
		return fmt.Errorf("postgres: COPY %s: %w", path, err)
	}
	return nil
}

func (c *Client) storeSchema(ctx context.Context, tx pgx.Tx, s *schema.Schema) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+c.table(schema.VersionTable)+` WHERE version_hash = $1`, s.VersionHash).Scan(&n); err != nil {
		return fmt.Errorf("postgres: read %s: %w", schema.VersionTable, err)
	}
	if n > 0 {
		return nil
	}
	b, err := s.StoredJSON()
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+c.table(schema.VersionTable)+` VALUES ($1, $2, $3, $4, $5, $6)`,
		s.Version, s.EngineVersion, time.Now().UTC(), s.Name, s.VersionHash, string(b))
	if err != nil {
		return fmt.Errorf("postgres: store schema: %w", err)
	}
	return nil
}

// LatestState implements destination.Client: the newest state of a
// completed load, as dlt's get_stored_state joins _dlt_loads (a state row
// of a load that never completed is not one to continue from).
func (c *Client) LatestState(ctx context.Context, pipelineName string) (*destination.StateRow, error) {
	r := &destination.StateRow{}
	var vh *string
	err := c.conn.QueryRow(ctx, `SELECT s.version, s.engine_version, s.pipeline_name, s.state, s.created_at, s.version_hash, s._dlt_load_id FROM `+
		c.table(schema.StateTable)+` AS s JOIN `+c.table(schema.LoadsTable)+` AS l ON l.load_id = s._dlt_load_id WHERE s.pipeline_name = $1 AND l.status = 0 ORDER BY l.load_id DESC, s.version DESC LIMIT 1`, pipelineName).
		Scan(&r.Version, &r.EngineVersion, &r.PipelineName, &r.State, &r.CreatedAt, &vh, &r.LoadID)
	if errors.Is(err, pgx.ErrNoRows) || isMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read pipeline state: %w", err)
	}
	if vh != nil {
		r.VersionHash = *vh
	}
	return r, nil
}

// LatestSchema implements destination.Client.
func (c *Client) LatestSchema(ctx context.Context, schemaName string) (*schema.Schema, error) {
	var body string
	err := c.conn.QueryRow(ctx, `SELECT schema FROM `+c.table(schema.VersionTable)+` WHERE schema_name = $1 ORDER BY inserted_at DESC, version DESC LIMIT 1`, schemaName).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) || isMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read stored schema: %w", err)
	}
	s := &schema.Schema{}
	if err := json.Unmarshal([]byte(body), s); err != nil {
		return nil, fmt.Errorf("postgres: stored schema %q: %w", schemaName, err)
	}
	return s, nil
}

// DropTables implements destination.Client.
func (c *Client) DropTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if _, err := c.conn.Exec(ctx, `DROP TABLE IF EXISTS `+c.table(t)+` CASCADE`); err != nil {
			return fmt.Errorf("postgres: drop %q: %w", t, err)
		}
	}
	return nil
}

// TruncateTables implements destination.Client.
func (c *Client) TruncateTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if _, err := c.conn.Exec(ctx, `DELETE FROM `+c.table(t)); err != nil && !isMissing(err) {
			return fmt.Errorf("postgres: truncate %q: %w", t, err)
		}
	}
	return nil
}

// loadRoot loads a root table: appended, merged (delete-insert with dedup
// by primary key, upsert) through a staging table, or kept as history
// (scd2).
func (c *Client) loadRoot(ctx context.Context, tx pgx.Tx, p *destination.Package, t *schema.Table, files []string) error {
	if t.WriteDisposition != schema.Merge || (!t.HasMergeKeys() && t.MergeStrategy != schema.SCD2) {
		return c.copyInto(ctx, tx, t, c.table(t.Name), files)
	}
	run := func(q string) error {
		if _, err := tx.Exec(ctx, q); err != nil {
			return destination.QueryError(err, q)
		}
		return nil
	}
	stg := c.staging(t.Name)
	// The staging table is the target's shape plus the file position, so
	// the last record of a key wins.
	if err := run(`CREATE SCHEMA IF NOT EXISTS ` + c.stagingSchema() + `; DROP TABLE IF EXISTS ` + stg + `; CREATE TABLE ` + stg + ` (LIKE ` + c.table(t.Name) + `); ALTER TABLE ` + stg + ` ADD COLUMN "_dlt_pos" bigserial`); err != nil {
		return err
	}
	if err := c.copyInto(ctx, tx, t, stg, files); err != nil {
		return err
	}
	id := Quote(schema.ColID)
	stored := t.Stored()
	cols := make([]string, len(stored))
	for i, col := range stored {
		cols[i] = Quote(col.Name)
	}
	colList := strings.Join(cols, ", ")
	children := p.Schema.Children(t.Name)
	if t.MergeStrategy == schema.InsertOnly && t.HasMergeKeys() {
		// As dlt's insert-only MERGE: records whose primary key is not
		// stored and not flagged by a hard_delete column, all of a
		// load's records of a new key; nested rows by row key.
		where := destination.InsertOnlyFilter(t, Quote, c.table(t.Name))
		if err := run(`INSERT INTO ` + c.table(t.Name) + ` (` + colList + `) SELECT ` + colList + ` FROM ` + stg + ` s` + where + ` ORDER BY "_dlt_pos"`); err != nil {
			return err
		}
		return c.loadChildren(ctx, tx, p, children, stg, true, "", run)
	}
	if t.MergeStrategy == schema.SCD2 {
		v := destination.NewSCD2(t, Quote)
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
		steps := []string{
			`UPDATE ` + c.table(t.Name) + ` d SET ` + v.To + ` = (SELECT max(` + v.From + `) FROM ` + stg + `) WHERE ` + v.Active("d") + ` AND NOT EXISTS (SELECT 1 FROM ` + stg + ` n WHERE n.` + id + ` = d.` + id + `)` + scope,
			`DELETE FROM ` + stg + ` WHERE ` + id + ` IN (SELECT ` + id + ` FROM ` + c.table(t.Name) + ` WHERE ` + v.Active("") + `)`,
			// As dlt, a load's identical records are all inserted: its
			// scd2 SQL does not deduplicate.
			`INSERT INTO ` + c.table(t.Name) + ` (` + colList + `) SELECT ` + colList + ` FROM ` + stg + ` ORDER BY "_dlt_pos"`,
		}
		for _, q := range steps {
			if err := run(q); err != nil {
				return err
			}
		}
		return c.loadChildren(ctx, tx, p, children, stg, true, "", run)
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
		newKeys = c.staging("_dlt_new_" + t.Name)
		if err := run(`DROP TABLE IF EXISTS ` + newKeys + `; CREATE TABLE ` + newKeys + ` AS ` + q); err != nil {
			return err
		}
	}
	for _, ch := range children {
		if len(ch.Columns) == 0 || ch.Column(schema.ColRootID) == nil {
			continue
		}
		if err := run(`DELETE FROM ` + c.table(ch.Name) + ` WHERE ` + Quote(schema.ColRootID) + ` IN (SELECT d.` + id + ` FROM ` + c.table(t.Name) + ` d WHERE ` + cond + `)`); err != nil {
			return err
		}
	}
	if err := run(`DELETE FROM ` + c.table(t.Name) + ` d WHERE ` + cond); err != nil {
		return err
	}
	// Keep one row per primary key: the first by the dedup_sort column,
	// else the last.
	if len(pk) > 0 {
		keys := quoteAll(pk)
		order := keys + `, "_dlt_pos" DESC`
		if sort := destination.DedupSort(t); sort != nil {
			order = keys + `, ` + Quote(sort.Name) + ` ` + strings.ToUpper(sort.DedupSort) + `, "_dlt_pos" DESC`
		}
		if err := run(`DELETE FROM ` + stg + ` WHERE "_dlt_pos" NOT IN (SELECT DISTINCT ON (` + keys + `) "_dlt_pos" FROM ` + stg + ` ORDER BY ` + order + `)`); err != nil {
			return err
		}
	}
	hard, rootHard := destination.HardDeleteFilters(t, Quote, pk, newKeys)
	if err := run(`INSERT INTO ` + c.table(t.Name) + ` (` + colList + `) SELECT ` + colList + ` FROM ` + stg + ` s` + rootHard); err != nil {
		return err
	}
	if newKeys != "" {
		if err := run(`DROP TABLE ` + newKeys); err != nil {
			return err
		}
	}
	return c.loadChildren(ctx, tx, p, children, stg, false, hard, run)
}

// loadChildren loads the nested tables of a merged root: the rows of the
// root's staged records, or for scd2 (byKey) the rows whose key is not
// stored yet, as dlt does (their keys derive from the version's row hash,
// so an unchanged version's rows are there already).
//
// keep (" WHERE …" or "") selects the staged records whose nested rows
// are loaded: not those a hard_delete column flags.
func (c *Client) loadChildren(ctx context.Context, tx pgx.Tx, p *destination.Package, children []*schema.Table, stg string, byKey bool, keep string, run func(string) error) error {
	for _, ch := range children {
		files := p.Files[ch.Name]
		if len(files) == 0 {
			continue
		}
		cst := c.staging(ch.Name)
		if err := run(`DROP TABLE IF EXISTS ` + cst + `; CREATE TABLE ` + cst + ` (LIKE ` + c.table(ch.Name) + `)`); err != nil {
			return err
		}
		if err := c.copyInto(ctx, tx, ch, cst, files); err != nil {
			return err
		}
		cond := `s.` + Quote(schema.ColRootID) + ` IN (SELECT ` + Quote(schema.ColID) + ` FROM ` + stg + keep + `)`
		if byKey {
			// NOT EXISTS, not NOT IN: PostgreSQL makes it an anti join,
			// where NOT IN over more keys than work_mem holds is
			// evaluated row by row against the whole table.
			cond = `NOT EXISTS (SELECT 1 FROM ` + c.table(ch.Name) + ` d WHERE d.` + Quote(schema.ColID) + ` = s.` + Quote(schema.ColID) + `)`
		}
		if err := run(`INSERT INTO ` + c.table(ch.Name) + ` SELECT s.* FROM ` + cst + ` s WHERE ` + cond + `; DROP TABLE ` + cst); err != nil {
			return err
		}
	}
	return run(`DROP TABLE ` + stg)
}

func quoteAll(names []string) string { return destination.QuoteAll(Quote, names) }

func keyMatch(keys []string, a, b string) string { return destination.KeyMatch(Quote, keys, a, b) }
