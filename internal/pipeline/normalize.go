package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/directio"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/jsonl"
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
	workers, err := p.normalizeWorkers()
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
	held, err := p.normalizeInto(ctx, src, dir, loadID, m, s, w, el, workers)
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
func (p *Pipeline) normalizeInto(ctx context.Context, src, dir, loadID string, m *manifest, s *schema.Schema, w *jobfile.Writer, el *earlyLoad, workers int) (held *heldLoad, err error) {
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
	err = p.normalizeResources(ctx, src, m, nz, w, workers)
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
		var he *normalize.HintError
		if errors.As(err, &re) || errors.As(err, &ce) || errors.As(err, &se) || errors.As(err, &he) {
			// Bad data or hints will not get better on retry: drop the package so
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
		if r.WriteDisposition == schema.Replace && loads(s, r) {
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

func (p *Pipeline) normalizeResources(ctx context.Context, src string, m *manifest, nz *normalize.Normalizer, w *jobfile.Writer, workers int) error {
	total := m.records()
	var done int64 // records of earlier resources
	for _, r := range m.Resources {
		if !loads(nz.Schema, r) {
			continue
		}
		h := &normalize.Hints{
			Table: r.Table, Resource: r.Name, WriteDisposition: r.WriteDisposition, MergeStrategy: r.MergeStrategy, SCD2: r.SCD2,
			PrimaryKey: r.PrimaryKey, MergeKey: r.MergeKey, Columns: r.Columns,
			MaxNesting: r.MaxNesting, Contract: r.Contract,
		}
		if _, err := nz.Prepare(h); err != nil {
			return err
		}
		onRecord := func(idx int64) {
			if hk := p.opts.Hooks; hk != nil && hk.NormalizeRecord != nil {
				hk.NormalizeRecord(idx)
			}
			if idx%progressEvery == 0 && p.opts.OnProgress != nil {
				p.progress(Progress{Stage: "normalize", LoadID: nz.LoadID, Records: done + idx, Rows: w.Rows(), Bytes: w.Bytes(), Total: total})
			}
		}
		path := filepath.Join(src, r.File)
		size := p.opts.NormalizeChunkBytes
		if size <= 0 {
			size = chunkBytes
		}
		spans, err := chunks(path, workers, size)
		if err != nil {
			return fmt.Errorf("normalize %q: %w", r.Name, err)
		}
		var n int64
		if len(spans) > 1 {
			n, err = p.normalizeParallel(ctx, path, spans, r.Name, h, nz, w, workers, onRecord)
		} else {
			n, err = normalizeSpan(ctx, path, span{end: -1}, r.Name, h, nz, 0, onRecord)
		}
		if err != nil {
			return err
		}
		if err := nz.Unbound(h); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// loads reports whether a resource's table takes part in the load. As
// dlt's extract: one that yielded nothing neither adds its table nor
// changes a stored table's hints, except that a replace resource empties a
// table that holds data (dlt writes an empty file for it).
func loads(s *schema.Schema, r resourceManifest) bool {
	if r.Records > 0 {
		return true
	}
	t := s.Table(r.Table)
	return r.WriteDisposition == schema.Replace && t != nil && t.HasSeenData()
}

// span is a byte range of an extracted file, whole lines; end -1 is the
// end of the file.
type span struct{ start, end int64 }

// chunkBytes is the size of the pieces of an extracted file that are
// normalized in parallel: large enough that a piece's job files hold a
// DuckDB row group or more at typical record sizes (DuckDB stored 66 files
// of 46,000 rows two and a half times slower than 3 files of the same
// rows).
const chunkBytes = 128 << 20

// firstChunkBytes is the most the first piece holds.
const firstChunkBytes = 4 << 20

// chunks splits a file into spans of about size bytes at line ends, for
// workers to normalize in parallel; nil when one worker or a small file.
func chunks(path string, workers int, size int64) ([]span, error) {
	if workers <= 1 {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	total := st.Size()
	if total < 2*size {
		return nil, nil
	}
	var out []span
	start := int64(0)
	buf := make([]byte, 64<<10)
	// The first piece, normalized alone, is small: it settles the schema
	// while the other workers wait.
	for off := min(size, firstChunkBytes); off < total; off = max(off+size, start+1) {
		end := int64(-1)
		for at := off; end < 0 && at < total; at += int64(len(buf)) {
			n, err := f.ReadAt(buf, at)
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
				end = at + int64(i) + 1
			} else if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
		}
		if end < 0 || end >= total {
			break
		}
		if end > start {
			out = append(out, span{start, end})
			start = end
		}
	}
	return append(out, span{start, total}), nil
}

// normalizeSpan normalizes the records of one span of an extracted file
// (base is the index of its first record) and returns how many it read.
func normalizeSpan(ctx context.Context, path string, sp span, resource string, h *normalize.Hints, nz *normalize.Normalizer, base int64, onRecord func(int64)) (int64, error) {
	batches := make(chan parsedBatch, 4)
	stop := make(chan struct{})
	go parseFile(path, sp, resource, base, batches, stop)
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
			if err := nz.Record(h, base+idx, v); err != nil {
				ferr = err
				close(stop)
				break
			}
			idx++
			if onRecord != nil {
				onRecord(base + idx)
			}
		}
	}
	return idx, ferr
}

// normalizeParallel normalizes a file's spans on workers goroutines, with
// the same tables and rows as one goroutine would make. The first span
// goes first, alone, and settles the schema; the others are normalized by
// frozen forks of nz, each into its own fork of w (so their files load in
// span order), and then taken in order: a span whose records would have
// changed the schema (a new column, table or variant) is normalized again
// by nz itself, now changing it, into the same place. A span that did not
// change the schema made the same rows it would have made after the spans
// before it: they can only have added columns and tables, and a value
// that fits a column keeps fitting it.
func (p *Pipeline) normalizeParallel(ctx context.Context, path string, spans []span, resource string, h *normalize.Hints, nz *normalize.Normalizer, w *jobfile.Writer, workers int, onRecord func(int64)) (int64, error) {
	records, err := normalizeSpan(ctx, path, spans[0], resource, h, nz, 0, onRecord)
	if err != nil {
		return records, err
	}
	type chunk struct {
		w      *jobfile.Writer
		files  [][2]string // table, path: reported in order once taken
		n      int64
		counts map[string]int64
		err    error
	}
	rest := spans[1:]
	cs := make([]chunk, len(rest))
	discard := func() {
		for i := range cs {
			if cs[i].w != nil {
				_ = cs[i].w.Discard()
			}
		}
	}
	for i := range cs {
		f, err := w.Fork()
		if err != nil {
			discard()
			return records, err
		}
		c := &cs[i]
		c.w = f
		f.OnClose = func(table, path string) { c.files = append(c.files, [2]string{table, path}) }
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(rest)) {
		wg.Go(func() {
			for i := range next {
				c := &cs[i]
				fz := nz.Fork(c.w)
				c.n, c.err = normalizeSpan(ctx, path, rest[i], resource, h, fz, 0, nil)
				if err := c.w.Close(); c.err == nil {
					c.err = err
				}
				c.counts = fz.Counts
			}
		})
	}
	for i := range rest {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		discard()
		return records, err
	}
	for i := range cs {
		c := &cs[i]
		if c.err != nil {
			// Again, in order, changing the schema where it has to.
			if err := c.w.Discard(); err != nil {
				discard()
				return records, err
			}
			c.files = nil
			out := nz.Out
			nz.Out = c.w
			c.n, c.err = normalizeSpan(ctx, path, rest[i], resource, h, nz, records, onRecord)
			nz.Out = out
			if err := c.w.Close(); c.err == nil {
				c.err = err
			}
			if c.err != nil {
				discard()
				return records, c.err
			}
		} else {
			for t, k := range c.counts {
				nz.Counts[t] += k
			}
			if onRecord != nil {
				onRecord(records + c.n)
			}
		}
		w.Absorb(c.w)
		if w.OnClose != nil {
			for _, f := range c.files {
				w.OnClose(f[0], f[1])
			}
		}
		records += c.n
	}
	return records, nil
}

// parsedBatch is a run of parsed records (or the error that ended parsing).
type parsedBatch struct {
	recs []any
	err  error
}

// parseFile reads JSON lines and parses them on its own goroutine, so
// parsing and normalizing use two cores. At most a few batches are in
// flight.
func parseFile(path string, sp span, resource string, base int64, out chan<- parsedBatch, stop <-chan struct{}) {
	defer close(out)
	src, err := directio.OpenSequential(path, sp.start, sp.end)
	if err != nil {
		out <- parsedBatch{err: fmt.Errorf("normalize %q: %w", resource, err)}
		return
	}
	defer func() { _ = src.Close() }()
	rd := jsonl.NewReader(src, 0)
	var jp jsonx.Parser
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
		// Lines stay where they were read and parsed strings point into
		// them, so a record's strings cost no allocation of their own.
		line, err := rd.Next()
		if len(line) > 0 {
			v, perr := jp.ParseShared(line)
			if perr != nil {
				if len(recs) > 0 && !send(parsedBatch{recs: recs}) {
					return
				}
				send(parsedBatch{err: &normalize.RecordError{Resource: resource, Index: base + idx, Msg: perr.Error()}})
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
		if errors.Is(err, io.EOF) {
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
