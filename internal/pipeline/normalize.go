package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/normalize"
	"github.com/dlthub/dlthub/internal/schema"
)

// DataError is bad input found while normalizing: the package is discarded
// (nothing of it is loaded, state does not move) and the error reported.
type DataError struct{ Err error }

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// normalize turns an extracted package into a normalized one.
func (p *Pipeline) normalize(ctx context.Context, client destination.Client, loadID string) error {
	src := p.store.PackageDir(loadpackage.ExtractedDir, loadID)
	m := &manifest{}
	if err := loadpackage.ReadJSON(filepath.Join(src, loadpackage.ManifestFile), m); err != nil {
		return fmt.Errorf("normalize: %w", err)
	}
	s, err := p.loadSchema(ctx, client)
	if err != nil {
		return err
	}
	dir, err := p.store.Begin(loadpackage.NormalizingDir, loadID)
	if err != nil {
		return fmt.Errorf("normalize: %w", err)
	}
	jobs := filepath.Join(dir, loadpackage.NewJobs)
	if err := os.MkdirAll(jobs, 0o755); err != nil {
		return err
	}
	w := &tableWriter{dir: jobs, files: map[string]*csvFile{}, next: map[string]int{}}
	total := m.records()
	p.progress(Progress{Stage: "normalize", LoadID: loadID, Total: total})
	// Normalizing allocates many short-lived values and keeps few; a lazier
	// GC trades a little memory for a lot of time here.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	nz := normalize.New(s, p.naming, loadID, w)
	nz.ValidFrom = m.CreatedAt.UTC().Format(time.RFC3339Nano)
	err = p.normalizeResources(ctx, src, m, nz, w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = p.store.Discard(loadpackage.NormalizingDir, loadID)
		var re *normalize.RecordError
		var ce *schema.ContractError
		var se *jsonx.SyntaxError
		if errors.As(err, &re) || errors.As(err, &ce) || errors.As(err, &se) {
			// Bad data will not get better on retry: drop the package so
			// the next run is not stuck on it. Nothing was loaded.
			_ = p.store.Discard(loadpackage.ExtractedDir, loadID)
			return &DataError{Err: err}
		}
		return err
	}
	// As dlt's normalizer, mark the tables this load wrote rows to: the
	// schema then tells a table that holds data from one that only has
	// columns (x-normalizer.seen-data).
	for name, n := range nz.Counts {
		if t := s.Table(name); t != nil && n > 0 {
			t.MarkSeenData()
		}
	}
	s.Bump()
	m.Rows = nz.Counts
	for _, r := range m.Resources {
		if r.WriteDisposition == schema.Replace {
			m.Replace = append(m.Replace, r.Table)
		}
	}
	if err := loadpackage.WriteJSON(filepath.Join(dir, loadpackage.SchemaFile), s); err != nil {
		return err
	}
	if err := loadpackage.WriteJSON(filepath.Join(dir, loadpackage.ManifestFile), m); err != nil {
		return err
	}
	if err := p.store.Commit(loadpackage.NormalizingDir, loadpackage.NormalizedDir, loadID); err != nil {
		return err
	}
	if err := p.saveSchema(s); err != nil {
		return err
	}
	if err := p.store.Discard(loadpackage.ExtractedDir, loadID); err != nil {
		return err
	}
	p.progress(Progress{Stage: "normalize", LoadID: loadID, Records: total, Rows: w.rows, Bytes: w.bytes(), Total: total, Done: true})
	return nil
}

func (p *Pipeline) normalizeResources(ctx context.Context, src string, m *manifest, nz *normalize.Normalizer, w *tableWriter) error {
	total := m.records()
	var done int64 // records of earlier resources
	for _, r := range m.Resources {
		h := &normalize.Hints{
			Table: r.Table, Resource: r.Name, WriteDisposition: r.WriteDisposition, MergeStrategy: r.MergeStrategy,
			PrimaryKey: r.PrimaryKey, MergeKey: r.MergeKey, Columns: r.Columns,
			MaxNesting: r.MaxNesting, Contract: r.Contract,
		}
		if _, err := nz.Prepare(h); err != nil {
			return err
		}
		batches := make(chan parsedBatch, 4)
		stop := make(chan struct{})
		go parseFile(filepath.Join(src, r.File), r.Name, batches, stop)
		var idx int64
		var ferr error
		for b := range batches {
			if ferr != nil {
				continue // drain
			}
			if b.err != nil {
				ferr = b.err
				continue
			}
			if ctx.Err() != nil {
				ferr = ctx.Err()
				close(stop)
				continue
			}
			for _, v := range b.recs {
				if err := nz.Record(h, idx, v); err != nil {
					ferr = err
					close(stop)
					break
				}
				idx++
				if hk := p.opts.Hooks; hk != nil && hk.NormalizeRecord != nil {
					hk.NormalizeRecord(idx)
				}
				if idx%progressEvery == 0 && p.opts.OnProgress != nil {
					p.progress(Progress{Stage: "normalize", LoadID: nz.LoadID, Records: done + idx, Rows: w.rows, Bytes: w.bytes(), Total: total})
				}
			}
		}
		if ferr != nil {
			return ferr
		}
		done += idx
	}
	return nil
}

// parsedBatch is a run of parsed records (or the error that ended parsing).
type parsedBatch struct {
	recs []any
	err  error
}

// parseFile reads JSON lines and parses them on its own goroutine, so
// parsing and normalizing use two cores. At most a few batches are in
// flight.
func parseFile(path, resource string, out chan<- parsedBatch, stop <-chan struct{}) {
	defer close(out)
	f, err := os.Open(path)
	if err != nil {
		out <- parsedBatch{err: fmt.Errorf("normalize %q: %w", resource, err)}
		return
	}
	defer func() { _ = f.Close() }()
	rd := bufio.NewReaderSize(f, 1<<20)
	var jp jsonx.Parser
	const batchSize = 512
	recs := make([]any, 0, batchSize)
	// Each batch owns one arena holding its lines; parsed strings point
	// into it, so a record's strings cost no allocation of their own.
	arena := make([]byte, 0, 512<<10)
	send := func(b parsedBatch) bool {
		select {
		case out <- b:
			return true
		case <-stop:
			return false
		}
	}
	var idx int64
	for {
		line, err := rd.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long record: collect it whole.
			buf := append([]byte{}, line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = rd.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		if len(line) > 0 {
			if cap(arena)-len(arena) < len(line) {
				arena = make([]byte, 0, max(512<<10, len(line)))
			}
			start := len(arena)
			arena = append(arena, line...)
			v, perr := jp.ParseShared(arena[start:len(arena):len(arena)])
			if perr != nil {
				if len(recs) > 0 && !send(parsedBatch{recs: recs}) {
					return
				}
				send(parsedBatch{err: &normalize.RecordError{Resource: resource, Index: idx, Msg: perr.Error()}})
				return
			}
			recs = append(recs, v)
			idx++
			if len(recs) == batchSize {
				if !send(parsedBatch{recs: recs}) {
					return
				}
				recs = make([]any, 0, batchSize)
				arena = make([]byte, 0, 512<<10)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			send(parsedBatch{err: fmt.Errorf("normalize %q: %w", resource, err)})
			return
		}
	}
	if len(recs) > 0 {
		send(parsedBatch{recs: recs})
	}
}

// tableWriter writes normalized rows as CSV job files, one file per table
// and column set: a row with a column the current file's header lacks
// starts the table's next file. CSV keeps the files small (no repeated keys)
// and is what DuckDB reads fastest.
type tableWriter struct {
	dir   string
	files map[string]*csvFile
	next  map[string]int
	buf   []byte
	// rows written, and bytes of the files closed so far (progress).
	rows, closed int64
}

// bytes is how much was written so far.
func (w *tableWriter) bytes() int64 {
	n := w.closed
	for _, f := range w.files {
		n += f.w.Bytes
	}
	return n
}

type csvFile struct {
	w   *loadpackage.FileWriter
	pos map[*schema.Column]int
	// lastCols/lastPos remember the previous row's layout: rows of a table
	// mostly repeat it, which saves a map lookup per value.
	lastCols []*schema.Column
	lastPos  []int
	row      []any
	set      []bool
	json     []bool // the column holds json: every value is encoded as JSON text
}

func (w *tableWriter) WriteRow(t *schema.Table, cols []*schema.Column, vals []any) error {
	w.rows++
	f := w.files[t.Name]
	if f != nil {
		for _, c := range cols {
			if _, ok := f.pos[c]; !ok {
				if err := f.w.Close(); err != nil {
					return err
				}
				w.closed += f.w.Bytes
				f = nil
				break
			}
		}
	}
	if f == nil {
		var err error
		if f, err = w.open(t); err != nil {
			return err
		}
	}
	for i := range f.set {
		f.set[i] = false
	}
	same := len(cols) == len(f.lastCols)
	for i := 0; same && i < len(cols); i++ {
		same = cols[i] == f.lastCols[i]
	}
	if !same {
		f.lastCols = append(f.lastCols[:0], cols...)
		f.lastPos = f.lastPos[:0]
		for _, c := range cols {
			f.lastPos = append(f.lastPos, f.pos[c])
		}
	}
	for i := range cols {
		j := f.lastPos[i]
		f.row[j], f.set[j] = vals[i], true
	}
	b := w.buf[:0]
	for i, v := range f.row {
		if i > 0 {
			b = append(b, ',')
		}
		if f.set[i] {
			var err error
			if f.json[i] {
				var j []byte
				if j, err = jsonx.Append(nil, v); err == nil {
					b = appendQuoted(b, string(j))
				}
			} else {
				b, err = appendCSV(b, v)
			}
			if err != nil {
				return fmt.Errorf("table %q: %w", t.Name, err)
			}
		}
	}
	w.buf = b
	return f.w.WriteLine(b)
}

// open starts the table's next file with every column the table has now.
func (w *tableWriter) open(t *schema.Table) (*csvFile, error) {
	id := w.next[t.Name]
	w.next[t.Name] = id + 1
	fw, err := loadpackage.Create(filepath.Join(w.dir, fmt.Sprintf("%s.%d.0.csv", t.Name, id)))
	if err != nil {
		return nil, err
	}
	f := &csvFile{w: fw, pos: make(map[*schema.Column]int, len(t.Columns)), row: make([]any, len(t.Columns)), set: make([]bool, len(t.Columns)), json: make([]bool, len(t.Columns))}
	header := make([]byte, 0, 256)
	for i, c := range t.Columns {
		f.pos[c] = i
		f.json[i] = c.DataType == schema.JSON
		if i > 0 {
			header = append(header, ',')
		}
		header = append(header, c.Name...)
	}
	if err := fw.WriteLine(header); err != nil {
		return nil, err
	}
	w.files[t.Name] = f
	return f, nil
}

func (w *tableWriter) Close() error {
	var first error
	for _, f := range w.files {
		if err := f.w.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// appendCSV writes one value: strings always quoted (so "" is an empty
// string and an empty field is NULL), numbers and booleans bare, lists and
// objects as quoted JSON.
func appendCSV(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return b, nil
	case string:
		return appendQuoted(b, x), nil
	case bool, int64, int, float64, jsonx.Number, json.Number:
		return jsonx.Append(b, x)
	default:
		j, err := jsonx.Append(nil, x)
		if err != nil {
			return nil, err
		}
		return appendQuoted(b, string(j)), nil
	}
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
