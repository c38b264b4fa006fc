// Package jobfile writes the job files of a load package: the normalizer's
// rows, one file per table and column set, named <table>.<file_id>.0.<format>
// as dlt names them. Three formats are written:
//
//   - parquet: typed columns in row groups of DuckDB's size, which DuckDB
//     reads in parallel without parsing text. DuckDB, MotherDuck and the
//     filesystem destination load these.
//   - pgcopy: PostgreSQL's binary COPY format, typed values the server
//     stores without parsing text; its header extension names the columns.
//     A table with numeric columns, or a value whose text PostgreSQL would
//     read differently than this package (an unusual timestamp shape), is
//     written as CSV from then on, and PostgreSQL parses it.
//   - csv: a header line and quoted text, which PostgreSQL's COPY reads.
//
// All say the same thing: the same rows read through a destination give
// the same table (the package's tests and fuzz targets hold Parquet to CSV
// in DuckDB, and the postgres destination's tests pgcopy to CSV).
package jobfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

// Format is a job file format, named as dlt's loader_file_format names it.
type Format string

// The formats the engine writes.
const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
	// PGCopy is not one of dlt's names: PostgreSQL's binary COPY, which
	// PostgreSQL loads in about half the server time of CSV.
	PGCopy Format = "pgcopy"
)

// Writer writes normalized rows as job files in one directory. A row with a
// column the table's current file lacks closes that file and starts the
// table's next one with every column the table has by then. It implements
// normalize.RowWriter and, like the normalizer, is not safe for concurrent
// use.
//
// Every format copies a row's values before WriteRow returns, so the caller
// may reuse what they point into (a parser's input buffer) afterwards.
type Writer struct {
	dir    string
	format Format
	files  map[string]tableFile
	next   map[string]int
	// OnClose, when set, hears about every job file once it is complete
	// (closed and synced), so its table can be loaded while later files are
	// still being written. It is called on the writing goroutine.
	OnClose func(table, path string)
	// MaxRows, when above 0, closes a table's file once it holds that many
	// rows and starts the next (dlt's file_max_items): finished files can
	// then be loaded while the rest is normalized.
	MaxRows int64
	// inFile counts the rows of each table's open file.
	inFile map[string]int64
	// textual holds the tables a pgcopy writer writes as CSV (numeric
	// columns, or a value binary COPY would not store as PostgreSQL's
	// text input does).
	textual map[string]bool
	// rows written, and bytes of the files closed so far (progress).
	rows, closed int64
	// syncing are the closed files whose sync may still run.
	syncing []tableFile
	// base is the first file id of this writer's files (Fork); segments
	// hands out the bases of a writer and its forks, in order.
	base     int
	segments *int
	// made are the paths of the files this writer created (Discard).
	made []string
}

// segment is the span of file ids one writer uses: a fork's files sit
// between the files its parent wrote before and after the fork, and job
// files load in file id order (merge's "last record wins" follows it).
const segment = 1_000_000

// tableFile is the open job file of one table.
type tableFile interface {
	// write writes one row; ok is false when the file lacks one of cols
	// (the row is not written and the file has to be rotated).
	write(cols []*schema.Column, vals []any) (ok bool, err error)
	// close completes the file for readers; it is synced in the
	// background until wait returns.
	close() error
	wait() error
	path() string
	bytes() int64
}

// New returns a writer of job files of format into dir.
func New(dir string, format Format) (*Writer, error) {
	switch format {
	case Parquet, CSV, PGCopy:
	default:
		return nil, fmt.Errorf("job files: unknown format %q (parquet, csv, pgcopy)", format)
	}
	return &Writer{dir: dir, format: format, files: map[string]tableFile{}, next: map[string]int{}, inFile: map[string]int64{},
		textual: map[string]bool{}, segments: new(int)}, nil
}

// Format is the format the writer writes.
func (w *Writer) Format() Format { return w.format }

// Rows is the number of rows written so far, over all tables.
func (w *Writer) Rows() int64 { return w.rows }

// Bytes is how much was written so far.
func (w *Writer) Bytes() int64 {
	n := w.closed
	for _, f := range w.files {
		n += f.bytes()
	}
	return n
}

// WriteRow writes one row of table t: vals[i] is the value of cols[i].
func (w *Writer) WriteRow(t *schema.Table, cols []*schema.Column, vals []any) error {
	if w.format == PGCopy {
		// PostgreSQL's text and jsonb cannot hold NUL; its COPY would
		// refuse the whole file at load, after the package is
		// normalized, and every later run would stop on it.
		for i, v := range vals {
			if hasNUL(v) {
				return &schema.ValueError{Table: t.Name, Column: cols[i].Name, Detail: `PostgreSQL cannot store the NUL character (\u0000) in text or JSON: remove it in the resource before loading (e.g. replace "\x00" with "" in a map step)`}
			}
		}
	}
	w.rows++
	f := w.files[t.Name]
	if f != nil {
		ok, err := f.write(cols, vals)
		if errors.Is(err, errNotExact) {
			w.textual[t.Name] = true
			ok, err = false, nil // rotate: the next file is CSV
		}
		if err != nil {
			return fmt.Errorf("table %q: %w", t.Name, err)
		}
		if ok {
			return w.count(t.Name, f)
		}
		if err := w.finish(t.Name, f); err != nil {
			return err
		}
	}
	f, err := w.open(t)
	if err != nil {
		return err
	}
	ok, err := f.write(cols, vals)
	if errors.Is(err, errNotExact) {
		// The table's rows go on in CSV, this one first.
		w.textual[t.Name] = true
		if err := w.finish(t.Name, f); err != nil {
			return err
		}
		if f, err = w.open(t); err != nil {
			return err
		}
		ok, err = f.write(cols, vals)
	}
	if err != nil {
		return fmt.Errorf("table %q: %w", t.Name, err)
	}
	if !ok {
		return fmt.Errorf("table %q: a row has a column the table does not have", t.Name)
	}
	return w.count(t.Name, f)
}

// count counts a row written to the table's file f, closing the file when
// it is full.
func (w *Writer) count(table string, f tableFile) error {
	n := w.inFile[table] + 1
	w.inFile[table] = n
	if w.MaxRows > 0 && n >= w.MaxRows {
		return w.finish(table, f)
	}
	return nil
}

// open starts the table's next file with every column the table has now.
func (w *Writer) open(t *schema.Table) (tableFile, error) {
	id := w.next[t.Name]
	w.next[t.Name] = id + 1
	if id >= segment {
		return nil, fmt.Errorf("table %q: more than %d job files from one writer", t.Name, segment)
	}
	id += w.base
	format := w.format
	if format == PGCopy && (w.textual[t.Name] || !pgcopyWrites(t.Columns)) {
		format = CSV
	}
	path := filepath.Join(w.dir, fmt.Sprintf("%s.%d.0.%s", t.Name, id, format))
	var f tableFile
	var err error
	switch format {
	case Parquet:
		f, err = createParquet(path, t.Columns)
	case PGCopy:
		f, err = createPGCopy(path, t.Columns)
	default:
		f, err = createCSV(path, t.Columns)
	}
	if err != nil {
		return nil, fmt.Errorf("table %q: create job file: %w", t.Name, err)
	}
	w.made = append(w.made, path)
	w.files[t.Name] = f
	return f, nil
}

// finish closes a table's file and reports it.
func (w *Writer) finish(table string, f tableFile) error {
	delete(w.files, table)
	delete(w.inFile, table)
	w.syncing = append(w.syncing, f)
	if err := f.close(); err != nil {
		return fmt.Errorf("table %q: close job file: %w", table, err)
	}
	w.closed += f.bytes()
	if w.OnClose != nil {
		w.OnClose(table, f.path())
	}
	return nil
}

// Close closes every open file and waits until every file is synced to
// disk, returning the first error: the files may be committed then.
func (w *Writer) Close() error {
	first := w.closeOpen()
	for _, f := range w.syncing {
		if err := f.wait(); err != nil && first == nil {
			first = fmt.Errorf("job file %s: %w", f.path(), err)
		}
	}
	w.syncing = nil
	return first
}

// Fork returns a writer of the same format, directory and file size for
// another goroutine, whose files load after every file w wrote so far and
// before every file w writes from now on: w's open files are closed first.
// Forks taken one after another load in that order, so rows handed to
// forks in record order load in record order.
func (w *Writer) Fork() (*Writer, error) {
	if err := w.closeOpen(); err != nil {
		return nil, err
	}
	f := &Writer{dir: w.dir, format: w.format, files: map[string]tableFile{}, next: map[string]int{}, inFile: map[string]int64{},
		textual: map[string]bool{}, MaxRows: w.MaxRows, segments: w.segments}
	*w.segments++
	f.base = *w.segments * segment
	*w.segments++
	w.base = *w.segments * segment
	clear(w.next)
	return f, nil
}

// closeOpen closes the open files (they stay the writer's).
func (w *Writer) closeOpen() error {
	var first error
	for table, f := range w.files {
		if err := w.finish(table, f); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Discard closes the writer and deletes every file it wrote; it can then
// write again, into the same place among the files.
func (w *Writer) Discard() error {
	_ = w.Close()
	var first error
	for _, p := range w.made {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	w.made, w.rows, w.closed = nil, 0, 0
	clear(w.next)
	clear(w.textual)
	return first
}

// Absorb counts a closed fork's rows and bytes as w's (progress).
func (w *Writer) Absorb(f *Writer) {
	w.rows += f.rows
	w.closed += f.Bytes()
}

// layout maps a row's columns to their positions in a file. Rows of a table
// mostly repeat the previous row's columns, which saves a map lookup per
// value.
type layout struct {
	pos      map[*schema.Column]int
	lastCols []*schema.Column
	lastPos  []int
	// lastAbsent are the file's positions lastPos lacks (sorted), for
	// formats that write them as nulls.
	lastAbsent []int
	// lastRepeats is whether lastPos holds a position twice: keys that
	// normalize to one column ({"a b": 1, "a_b": 2}), where, as in dlt,
	// the last value wins.
	lastRepeats bool
}

// positions returns where each of cols goes, or false when the file lacks
// one of them.
func (l *layout) positions(cols []*schema.Column) ([]int, bool) {
	same := len(cols) == len(l.lastCols)
	for i := 0; same && i < len(cols); i++ {
		same = cols[i] == l.lastCols[i]
	}
	if same {
		return l.lastPos, true
	}
	l.lastCols = l.lastCols[:0]
	l.lastPos = l.lastPos[:0]
	for _, c := range cols {
		j, ok := l.pos[c]
		if !ok {
			l.lastPos = l.lastPos[:0]
			return nil, false
		}
		l.lastPos = append(l.lastPos, j)
	}
	l.lastCols = append(l.lastCols, cols...)
	l.lastAbsent = l.lastAbsent[:0]
	seen := 0
	for j := range len(l.pos) {
		if !slices.Contains(l.lastPos, j) {
			l.lastAbsent = append(l.lastAbsent, j)
		} else {
			seen++
		}
	}
	l.lastRepeats = seen < len(l.lastPos)
	return l.lastPos, true
}

// hasNUL reports whether v holds the NUL character: a string, or a
// nested value whose JSON text has the escape \u0000.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case nil, bool, int64, float64:
		return false
	case string:
		return strings.IndexByte(x, 0) >= 0
	}
	j, err := jsonx.Append(nil, v)
	if err != nil {
		return false // the job file's writer reports it
	}
	for i := 0; ; {
		k := bytes.Index(j[i:], []byte(`\u0000`))
		if k < 0 {
			return false
		}
		at := i + k
		// An escape when an odd number of backslashes ends at, not
		// "\\u0000" (a backslash, then the text u0000).
		n := 0
		for at-n >= 0 && j[at-n] == '\\' {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = at + 1
	}
}
