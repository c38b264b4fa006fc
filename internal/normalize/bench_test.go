package normalize_test

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/normalize"
	"github.com/dlthub/dlthub/internal/schema"
)

// discard is a RowWriter that keeps nothing.
type discard struct{}

func (discard) WriteRow(*schema.Table, []*schema.Column, []any) error { return nil }

// BenchmarkRecord is the normalizer's own share of the load engine (no
// parsing, no job files) on the benchmark's records, one op per record:
// the work of the busiest goroutine of a run, measured without the noise
// of the other two. `go test -bench Record -count 10 ./internal/normalize`
// and benchstat compare two versions.
func BenchmarkRecord(b *testing.B) {
	var buf bytes.Buffer
	const n = 20_000
	if err := benchdata.WriteIssues(&buf, n, 42); err != nil {
		b.Fatal(err)
	}
	var recs []any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		v, err := jsonx.Parse(sc.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, v)
	}
	h := &normalize.Hints{Table: "issues", Resource: "issues"}
	nz := normalize.New(schema.New("bench"), naming.NewSnakeCase(63), "1700000000.1", discard{})
	if _, err := nz.Prepare(h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := nz.Record(h, int64(i), recs[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
