// Package destination is the seam between the load engine and the places
// data lands. A destination loads one normalized load package at a time,
// all of it or nothing, records it in _dlt_loads, and can give back the
// pipeline state and schema it stored.
package destination

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/schema"
)

// Capabilities describe what a destination supports.
type Capabilities struct {
	// MaxIdentifierLength shortens longer names with a hash tag (0: none).
	MaxIdentifierLength int
	// Transactions: a package is loaded atomically.
	Transactions bool
	// JobFormats are the job file formats the destination reads, the one
	// it reads fastest first (dlt's preferred and supported
	// loader_file_formats).
	JobFormats []string
	// FileMaxItems is the rows per job file when dlt's
	// normalize.data_writer.file_max_items is not set (0: one file per
	// table). A destination that loads finished files while the rest of a
	// package is normalized (EarlyLoader) sets it where that measured
	// faster: PostgreSQL COPYs in its own processes, so its work overlaps
	// the normalizer's.
	FileMaxItems int64
}

// Package is one normalized load package.
type Package struct {
	LoadID string
	Schema *schema.Schema
	// Files holds the job files per table.
	Files map[string][]string
	// Replace names the root tables whose data (and child tables' data) is
	// replaced by this package.
	Replace []string
	// State, when set, is stored in _dlt_pipeline_state.
	State *StateRow
	// BeforeCommit, when set, is called inside the transaction just before
	// it commits (crash-safety tests).
	BeforeCommit func()
	// Early, when set, is the transaction that already holds some of the
	// package's job files (Loaded, by base name): Load finishes and
	// commits it rather than beginning its own, and skips those files.
	Early Early
	// Loaded names (base names) the job files Early already holds.
	Loaded map[string]bool
}

// Pending is the table's job files that Early does not hold yet.
func (p *Package) Pending(table string) []string {
	files := p.Files[table]
	if len(p.Loaded) == 0 {
		return files
	}
	var out []string
	for _, f := range files {
		if !p.Loaded[filepath.Base(f)] {
			out = append(out, f)
		}
	}
	return out
}

// Early is a load transaction that is open before its package is complete:
// the normalizer hands it each job file of an append table as soon as the
// file is closed, so the destination loads while later rows are still
// being normalized. Nothing is visible until Client.Load commits it with
// the rest of the package; a crash or an error before then rolls it back,
// so a package is still loaded all at once or not at all.
type Early interface {
	// Append loads one complete job file into table t, which is the table
	// as it was when the file was closed (its columns a prefix of what
	// the table will have). Tables and columns are created as needed.
	Append(ctx context.Context, t *schema.Table, path string) error
	// Rollback ends the transaction without loading anything.
	Rollback() error
}

// EarlyLoader is a Client that can open a package's load transaction
// before the package is complete.
type EarlyLoader interface {
	// BeginEarly opens the load transaction of loadID; ok is false when the
	// package is already loaded (nothing to do).
	BeginEarly(ctx context.Context, loadID string) (e Early, ok bool, err error)
}

// StateRow is one row of _dlt_pipeline_state.
type StateRow struct {
	Version       int64
	EngineVersion int64
	PipelineName  string
	State         string // zlib-compressed JSON, base64, as dlt stores it
	CreatedAt     time.Time
	VersionHash   string
	LoadID        string
	// ID is the row's _dlt_id (dlt gives state rows one like any root row).
	ID string
}

// NewRowID is a random root row key as dlt makes them: 10 random bytes,
// base64 without padding.
func NewRowID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// Client is an open destination.
type Client interface {
	Capabilities() Capabilities
	// Load loads the package in one transaction. Loading a package that is
	// already in _dlt_loads does nothing.
	Load(ctx context.Context, p *Package) error
	// IsLoaded reports whether the load id is in _dlt_loads.
	IsLoaded(ctx context.Context, loadID string) (bool, error)
	// LatestState returns the newest stored state of a pipeline, or nil.
	LatestState(ctx context.Context, pipelineName string) (*StateRow, error)
	// LatestSchema returns the newest stored version of a schema, or nil.
	LatestSchema(ctx context.Context, schemaName string) (*schema.Schema, error)
	// DropTables removes tables and their rows (refresh modes, drop).
	DropTables(ctx context.Context, tables []string) error
	// TruncateTables deletes every row of the tables, keeping them.
	TruncateTables(ctx context.Context, tables []string) error
	Close() error
}

// QueryError adds the statement that failed (cut to 400 bytes) to err, so
// a load error shows what was run without flooding the terminal.
func QueryError(err error, q string) error {
	if len(q) > 400 {
		q = q[:400] + "…"
	}
	return fmt.Errorf("%w\nin: %s", err, q)
}

// NotDeleted is the SQL condition a merge keeps staged rows by: their
// hard_delete column is not set. As in dlt, the first column with the hint
// counts, a bool column deletes on true and a column of any other type on
// any value (a deleted_at timestamp, an operation code), so a row is kept
// when the column is NULL (or false). ref writes the column reference in
// the caller's dialect and alias. A hinted column that has no type yet has
// no values and is not in the destination: nothing is deleted, and ""
// says so.
func NotDeleted(t *schema.Table, ref func(column string) string) string {
	for _, c := range t.Columns {
		if !c.HardDelete {
			continue
		}
		if c.DataType == "" {
			return ""
		}
		r := ref(c.Name)
		if c.DataType == schema.Bool {
			return "(" + r + " IS NULL OR " + r + " = FALSE)"
		}
		return r + " IS NULL"
	}
	return ""
}

// DedupSort is the column whose order picks the record a merge keeps of
// those that share a primary key within a load: as in dlt, the first
// column hinted dedup_sort "asc" or "desc" (and typed, so stored); nil
// when there is none and the last record wins.
func DedupSort(t *schema.Table) *schema.Column {
	for _, c := range t.Columns {
		if (c.DedupSort == "asc" || c.DedupSort == "desc") && c.DataType != "" {
			return c
		}
	}
	return nil
}

// KeyMatch is "a.k = b.k AND …" over the key columns, quoted by quote.
func KeyMatch(quote func(string) string, keys []string, a, b string) string {
	conds := make([]string, len(keys))
	for i, k := range keys {
		conds[i] = a + "." + quote(k) + " = " + b + "." + quote(k)
	}
	return strings.Join(conds, " AND ")
}

// QuoteAll is the names quoted by quote, comma-separated.
func QuoteAll(quote func(string) string, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// NewFlaggedKeys is the query of the primary keys of staged records (alias
// s) that a hard_delete column flags and target (alias d) does not hold:
// dlt's upsert is a MERGE that deletes the matched rows of flagged records
// and inserts every unmatched one, flagged or not (without its nested
// rows), so a merge that deletes stored rows first notes these before.
// "" when t is no upsert with a primary key and a hard_delete column.
func NewFlaggedKeys(t *schema.Table, quote func(string) string, pk []string, staged, target string) string {
	keep := NotDeleted(t, func(c string) string { return "s." + quote(c) })
	if keep == "" || t.MergeStrategy != schema.Upsert || len(pk) == 0 {
		return ""
	}
	return "SELECT " + QuoteAll(quote, pk) + " FROM " + staged + " s WHERE NOT " + keep +
		" AND NOT EXISTS (SELECT 1 FROM " + target + " d WHERE " + KeyMatch(quote, pk, "s", "d") + ")"
}

// HardDeleteFilters are the " WHERE …" clauses (or "") a merge inserts
// staged rows by (alias s): nested is for the nested rows' records, those
// not flagged deleted; root adds the keys in newKeys (NewFlaggedKeys'
// rows, when not "").
func HardDeleteFilters(t *schema.Table, quote func(string) string, pk []string, newKeys string) (nested, root string) {
	keep := NotDeleted(t, quote)
	if keep == "" {
		return "", ""
	}
	nested = " WHERE " + keep
	root = nested
	if newKeys != "" {
		root += " OR EXISTS (SELECT 1 FROM " + newKeys + " n WHERE " + KeyMatch(quote, pk, "n", "s") + ")"
	}
	return nested, root
}

// InsertOnlyFilter is the " WHERE …" clause by which an insert-only merge
// inserts staged rows (alias s) into target (alias d), as dlt's MERGE …
// WHEN NOT MATCHED THEN INSERT: their primary key is not stored, and a
// hard_delete column does not flag them.
func InsertOnlyFilter(t *schema.Table, quote func(string) string, target string) string {
	var pk []string
	for _, c := range t.Columns {
		if c.PrimaryKey {
			pk = append(pk, c.Name)
		}
	}
	where := " WHERE NOT EXISTS (SELECT 1 FROM " + target + " d WHERE " + KeyMatch(quote, pk, "s", "d") + ")"
	if keep := NotDeleted(t, func(c string) string { return "s." + quote(c) }); keep != "" {
		where += " AND " + keep
	}
	return where
}

// SCD2 names an scd2 table's validity columns, quoted, and says how its
// current versions are told apart, as dlt's gen_scd2_sql does: valid-to
// NULL, or equal to the table's active record timestamp.
type SCD2 struct {
	From, To string
	// Active is a condition on the valid-to column of rows prefixed
	// "alias." ("" for none): the row is a current version.
	active string
}

// NewSCD2 reads t's validity columns and active record timestamp.
func NewSCD2(t *schema.Table, quote func(string) string) SCD2 {
	from, to := t.ValidityNames()
	s := SCD2{From: quote(from), To: quote(to), active: " IS NULL"}
	if ts, ok := t.ActiveRecord(); ok {
		s.active = " = CAST('" + ts.Format("2006-01-02 15:04:05.999999") + "+00' AS TIMESTAMP WITH TIME ZONE)"
	}
	return s
}

// Active is the condition that the row aliased alias ("" for none) is a
// current version.
func (s SCD2) Active(alias string) string {
	if alias != "" {
		return alias + "." + s.To + s.active
	}
	return s.To + s.active
}
