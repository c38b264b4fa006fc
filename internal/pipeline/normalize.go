package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
	w := &tableWriter{dir: jobs, files: map[string]*loadpackage.FileWriter{}}
	nz := normalize.New(s, p.naming, loadID, w)
	err = p.normalizeResources(ctx, src, m, nz)
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
	if err := os.MkdirAll(filepath.Dir(p.schemaPath()), 0o755); err != nil {
		return err
	}
	if err := loadpackage.WriteJSON(p.schemaPath(), s); err != nil {
		return err
	}
	return p.store.Discard(loadpackage.ExtractedDir, loadID)
}

func (p *Pipeline) normalizeResources(ctx context.Context, src string, m *manifest, nz *normalize.Normalizer) error {
	for _, r := range m.Resources {
		h := &normalize.Hints{
			Table: r.Table, Resource: r.Name, WriteDisposition: r.WriteDisposition,
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
			}
		}
		if ferr != nil {
			return ferr
		}
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
	const batchSize = 512
	recs := make([]any, 0, batchSize)
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
			v, perr := jsonx.Parse(line)
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

// tableWriter writes normalized rows as JSON lines, one file per table.
type tableWriter struct {
	dir   string
	files map[string]*loadpackage.FileWriter
	buf   []byte
}

func (w *tableWriter) WriteRow(t *schema.Table, cols []*schema.Column, vals []any) error {
	f := w.files[t.Name]
	if f == nil {
		var err error
		f, err = loadpackage.Create(filepath.Join(w.dir, t.Name+".0.0.jsonl"))
		if err != nil {
			return err
		}
		w.files[t.Name] = f
	}
	b := append(w.buf[:0], '{')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, c.Name)
		b = append(b, ':')
		var err error
		if b, err = jsonx.Append(b, vals[i]); err != nil {
			return fmt.Errorf("table %q column %q: %w", t.Name, c.Name, err)
		}
	}
	b = append(b, '}')
	w.buf = b
	return f.WriteLine(b)
}

func (w *tableWriter) Close() error {
	var first error
	for _, f := range w.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
