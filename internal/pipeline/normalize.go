package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jobfile"
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

// normalizeHeapLimit is the Go heap's soft limit while normalizing (unless
// GOMEMLIMIT sets a lower one): with the lazy GC the heap would otherwise
// reach five times what is live, and DuckDB's memory comes on top.
const normalizeHeapLimit = 192 << 20

// heldLoad is a load transaction that already holds some of a package's
// job files (earlyLoad), for the load stage to finish.
type heldLoad struct {
	early  destination.Early
	loaded map[string]bool
}

// normalize turns an extracted package into a normalized one. When the
// destination takes files early, what it returns holds the package's
// finished files in an open transaction, which load must finish (or roll
// back).
func (p *Pipeline) normalize(ctx context.Context, client destination.Client, loadID string) (*heldLoad, error) {
	src := p.store.PackageDir(loadpackage.ExtractedDir, loadID)
	m := &manifest{}
	if err := loadpackage.ReadJSON(filepath.Join(src, loadpackage.ManifestFile), m); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	s, err := p.loadSchema(ctx, client)
	if err != nil {
		return nil, err
	}
	format, err := p.jobFormat(client)
	if err != nil {
		return nil, err
	}
	maxRows, err := p.fileMaxRows(client)
	if err != nil {
		return nil, err
	}
	dir, err := p.store.Begin(loadpackage.NormalizingDir, loadID)
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	jobs := filepath.Join(dir, loadpackage.NewJobs)
	if err := os.MkdirAll(jobs, 0o755); err != nil {
		return nil, err
	}
	w, err := jobfile.New(jobs, format)
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	w.MaxRows = maxRows
	el := p.startEarly(ctx, client, loadID, m, maxRows)
	if el != nil {
		w.OnClose = func(table, path string) { el.closed(s, table, path) }
	}
	held, err := p.normalizeInto(ctx, src, dir, loadID, m, s, w, el)
	if err != nil {
		if held != nil {
			_ = held.early.Rollback()
		}
		return nil, err
	}
	return held, nil
}

// normalizeInto normalizes the package's records into w and commits the
// package as normalized.
func (p *Pipeline) normalizeInto(ctx context.Context, src, dir, loadID string, m *manifest, s *schema.Schema, w *jobfile.Writer, el *earlyLoad) (held *heldLoad, err error) {
	total := m.records()
	p.progress(Progress{Stage: "normalize", LoadID: loadID, Total: total})
	// Runs last: what the heap grew to goes back to the system before
	// DuckDB loads, so the two peaks do not add up.
	defer debug.FreeOSMemory()
	// Normalizing allocates many short-lived values and keeps few; a lazier
	// GC trades a little memory for a lot of time here, up to a soft limit
	// that keeps the heap from growing with what the job files buffer.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	if limit := debug.SetMemoryLimit(-1); limit > normalizeHeapLimit {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(normalizeHeapLimit))
	}
	nz := normalize.New(s, p.naming, loadID, w)
	nz.ValidFrom = m.CreatedAt.UTC().Format(time.RFC3339Nano)
	err = p.normalizeResources(ctx, src, m, nz, w)
	// The last files are loaded with the rest of the package.
	w.OnClose = nil
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if early, loaded := el.finish(); early != nil {
		held = &heldLoad{early: early, loaded: loaded}
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
			return held, &DataError{Err: err}
		}
		return held, err
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
		return held, err
	}
	if err := loadpackage.WriteJSON(filepath.Join(dir, loadpackage.ManifestFile), m); err != nil {
		return held, err
	}
	if err := p.store.Commit(loadpackage.NormalizingDir, loadpackage.NormalizedDir, loadID); err != nil {
		return held, err
	}
	if err := p.saveSchema(s); err != nil {
		return held, err
	}
	if err := p.store.Discard(loadpackage.ExtractedDir, loadID); err != nil {
		return held, err
	}
	p.progress(Progress{Stage: "normalize", LoadID: loadID, Records: total, Rows: w.Rows(), Bytes: w.Bytes(), Total: total, Done: true})
	return held, nil
}

func (p *Pipeline) normalizeResources(ctx context.Context, src string, m *manifest, nz *normalize.Normalizer, w *jobfile.Writer) error {
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
					p.progress(Progress{Stage: "normalize", LoadID: nz.LoadID, Records: done + idx, Rows: w.Rows(), Bytes: w.Bytes(), Total: total})
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

// dltFormats are dlt's loader_file_format names.
const dltFormats = "jsonl, typed-jsonl, insert_values, parquet, csv, reference, model, sql"

// jobFormat picks the job file format for the destination: the
// destination.<name>.loader_file_format setting when the destination reads
// that format, else the one it reads fastest. dlt's other names (jsonl,
// insert_values, ...) are accepted and mean the fastest, as the tables come
// out the same; the filesystem destination reads the setting again as the
// format of the files it writes.
func (p *Pipeline) jobFormat(client destination.Client) (jobfile.Format, error) {
	caps := client.Capabilities()
	if len(caps.JobFormats) == 0 {
		return jobfile.CSV, nil
	}
	want, err := p.setting("loader_file_format", "")
	if err != nil {
		return "", err
	}
	if want != "" && !slices.Contains(strings.Split(dltFormats, ", "), want) {
		return "", fmt.Errorf("destination %q: unknown loader_file_format %q (dlt's formats: %s)", p.dest.Name, want, dltFormats)
	}
	if slices.Contains(caps.JobFormats, want) {
		return jobfile.Format(want), nil
	}
	return jobfile.Format(caps.JobFormats[0]), nil
}
