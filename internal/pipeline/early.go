package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/schema"
)

// earlyLoad loads a package's finished job files while the rest of it is
// normalized: the normalizer's goroutine hands over each file as it closes,
// with a copy of its table as it was then, and one goroutine of its own
// loads them in order into the destination's open transaction. It only
// runs for packages whose tables are all appended to: replace deletes
// first and merge stages, so those wait for the whole package.
//
// Early loading is an optimization and never the only way a file gets
// loaded: when a file cannot be loaded early (an error, a table whose
// columns are not all typed yet), the transaction is rolled back and the
// package is loaded at the end as if nothing had been loaded early.
type earlyLoad struct {
	ctx   context.Context
	early destination.Early
	files chan earlyFile
	done  chan struct{}

	hook func(table, path string)

	mu     sync.Mutex
	loaded map[string]bool // base names
	failed bool
}

type earlyFile struct {
	table *schema.Table
	path  string
}

// startEarly opens an early load for package m when its job files rotate
// (maxRows), the destination can take files early and every resource
// appends; nil means the package is loaded at the end.
func (p *Pipeline) startEarly(ctx context.Context, client destination.Client, loadID string, m *manifest, maxRows int64) *earlyLoad {
	el, ok := client.(destination.EarlyLoader)
	if !ok || maxRows <= 0 {
		return nil
	}
	for _, r := range m.Resources {
		if r.WriteDisposition != "" && r.WriteDisposition != schema.Append {
			return nil
		}
	}
	e, ok, err := el.BeginEarly(ctx, loadID)
	if err != nil || !ok {
		// The load at the end reports (or skips) what this ran into.
		return nil
	}
	l := &earlyLoad{ctx: ctx, early: e, files: make(chan earlyFile, 64), done: make(chan struct{}), loaded: map[string]bool{}}
	if h := p.opts.Hooks; h != nil {
		l.hook = h.EarlyLoad
	}
	go l.run()
	return l
}

// fileMaxRows is the rows per job file: Options.FileMaxRows, else dlt's
// normalize.data_writer.file_max_items, else the destination's default
// (Capabilities.FileMaxItems; 0 is no limit). Rotating files is what lets
// finished files load early. DuckDB's default is no limit: on a machine
// whose cores normalizing already keeps busy it measured no faster, and
// DuckDB's memory then adds to the normalizer's (docs/performance.md).
func (p *Pipeline) fileMaxRows(client destination.Client) (int64, error) {
	switch n := p.opts.FileMaxRows; {
	case n > 0:
		return n, nil
	case n < 0:
		return 0, nil
	}
	def := client.Capabilities().FileMaxItems
	if p.opts.Resolver == nil {
		return def, nil
	}
	res, err := p.opts.Resolver.Lookup(config.Key{Pipeline: p.opts.Name, Sections: []string{"normalize"}, Fixed: []string{"data_writer"}, Name: "file_max_items"})
	if err != nil || !res.Found {
		return def, err
	}
	var n int64
	switch v := res.Value.(type) {
	case int64:
		n = v
	case string:
		if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			n = -1
		}
	default:
		n = -1
	}
	if n < 0 {
		return 0, fmt.Errorf("%s: normalize.data_writer.file_max_items must be a whole number of rows (0: no limit), not %v", res.Winner.Origin, res.Value)
	}
	return n, nil // 0 is no limit, as in dlt
}

func (l *earlyLoad) run() {
	defer close(l.done)
	for f := range l.files {
		if l.isFailed() {
			continue // drain
		}
		if err := l.early.Append(l.ctx, f.table, f.path); err != nil {
			l.fail()
			continue
		}
		l.mu.Lock()
		l.loaded[filepath.Base(f.path)] = true
		l.mu.Unlock()
		if l.hook != nil {
			l.hook(f.table.Name, f.path)
		}
	}
}

func (l *earlyLoad) isFailed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

func (l *earlyLoad) fail() {
	l.mu.Lock()
	l.failed = true
	l.mu.Unlock()
}

// closed is jobfile.Writer's OnClose: on the normalizer's goroutine, with
// the schema as it is now. A table whose root does not append, or with a
// column that has no type yet (it would be created differently at the end),
// ends early loading.
func (l *earlyLoad) closed(s *schema.Schema, table, path string) {
	if l.isFailed() {
		return
	}
	t := s.Table(table)
	if t == nil {
		l.fail()
		return
	}
	if root := s.Root(t); root.WriteDisposition != "" && root.WriteDisposition != schema.Append {
		l.fail()
		return
	}
	snap := *t
	snap.Columns = make([]*schema.Column, len(t.Columns))
	for i, c := range t.Columns {
		if c.DataType == "" {
			l.fail()
			return
		}
		cc := *c
		snap.Columns[i] = &cc
	}
	l.files <- earlyFile{table: &snap, path: path}
}

// finish waits for the files handed over so far to be loaded and returns
// the transaction with the names of the files it holds, or nil (after a
// rollback) when early loading failed or loaded nothing.
func (l *earlyLoad) finish() (destination.Early, map[string]bool) {
	if l == nil {
		return nil, nil
	}
	close(l.files)
	<-l.done
	if l.failed || len(l.loaded) == 0 {
		_ = l.early.Rollback()
		return nil, nil
	}
	return l.early, l.loaded
}

// normalizeWorkers is how many goroutines normalize one extracted file:
// Options.NormalizeWorkers, else dlt's normalize.workers, else one per two
// cores. One worker already keeps about two cores busy (its parser, its
// normalizer and the job files' encoders run on goroutines of their own):
// on two cores, two workers were no faster than one (1M records:
// normalize 5.2-5.3 s against 4.9-5.1 s, docs/performance.md).
func (p *Pipeline) normalizeWorkers() (int, error) {
	if n := p.opts.NormalizeWorkers; n > 0 {
		return n, nil
	}
	def := max(1, runtime.GOMAXPROCS(0)/2)
	if p.opts.Resolver == nil {
		return def, nil
	}
	res, err := p.opts.Resolver.Lookup(config.Key{Pipeline: p.opts.Name, Sections: []string{"normalize"}, Name: "workers"})
	if err != nil || !res.Found {
		return def, err
	}
	n := int64(-1)
	switch v := res.Value.(type) {
	case int64:
		n = v
	case string:
		if x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			n = x
		}
	}
	if n < 1 || n > 1024 {
		return 0, fmt.Errorf("%s: normalize.workers must be a whole number from 1 to 1024, not %v", res.Winner.Origin, res.Value)
	}
	return int(n), nil
}
