package jobfile_test

import (
	"bufio"
	"bytes"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/normalize"
	"github.com/dlthub/dlthub/internal/schema"
)

// row is one normalized row, kept.
type row struct {
	tbl  *schema.Table
	cols []*schema.Column
	vals []any
}

// rowKeeper keeps every row the normalizer writes.
type rowKeeper struct{ rows []row }

func (k *rowKeeper) WriteRow(t *schema.Table, cols []*schema.Column, vals []any) error {
	k.rows = append(k.rows, row{t, slices.Clone(cols), slices.Clone(vals)})
	return nil
}

// BenchmarkParquetWriter is the Parquet job files' share of the load
// engine: the benchmark's records, normalized beforehand, written as job
// files, one op per row. Its cpu-ns/op is the process's CPU time (both of
// a file's goroutines: the normalizer's conversion and the file's
// encoder), which, unlike ns/op, the disk's syncs do not move:
//
//	go test -run '^$' -bench ParquetWriter -count 10 ./internal/jobfile
func BenchmarkParquetWriter(b *testing.B) { benchWriter(b, jobfile.Parquet) }

// BenchmarkPGCopyWriter is BenchmarkParquetWriter for PostgreSQL's binary
// COPY job files.
func BenchmarkPGCopyWriter(b *testing.B) { benchWriter(b, jobfile.PGCopy) }

func benchWriter(b *testing.B, format jobfile.Format) {
	var buf bytes.Buffer
	const n = 20_000
	if err := benchdata.WriteIssues(&buf, n, 42); err != nil {
		b.Fatal(err)
	}
	keep := &rowKeeper{}
	nz := normalize.New(schema.New("bench"), naming.NewSnakeCase(63), "1700000000.1", keep)
	h := &normalize.Hints{Table: "issues", Resource: "issues"}
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan(); i++ {
		v, err := jsonx.Parse(sc.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		if err := nz.Record(h, int64(i), v); err != nil {
			b.Fatal(err)
		}
	}
	// Types are settled by now: write every row with the final columns'
	// pointers, so no file rotates mid-way.
	dir := b.TempDir()
	var w *jobfile.Writer
	open := func() {
		var err error
		if w, err = jobfile.New(dir, format); err != nil {
			b.Fatal(err)
		}
	}
	open()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	i := 0
	for b.Loop() {
		r := keep.rows[i%len(keep.rows)]
		if err := w.WriteRow(r.tbl, r.cols, r.vals); err != nil {
			b.Fatal(err)
		}
		i++
		if i%(4*jobfile.RowGroupRows) == 0 {
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			open()
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
