package jsonx_test

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/jsonx"
)

// BenchmarkParseShared parses the load benchmark's records as the
// normalize stage does (ParseShared, one op per record):
// `go test -bench ParseShared -count 10 ./internal/jsonx` and benchstat
// compare two versions.
func BenchmarkParseShared(b *testing.B) {
	var buf bytes.Buffer
	const n = 20_000
	if err := benchdata.WriteIssues(&buf, n, 42); err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size / n)
	b.ReportAllocs()
	var p jsonx.Parser
	i := 0
	for b.Loop() {
		if _, err := p.ParseShared(lines[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
