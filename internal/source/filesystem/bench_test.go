package filesystem

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// BenchmarkReadJSONL reads the load benchmark's records from a local JSONL
// file as the filesystem source yields them to extract, one op per file of
// 20,000 records.
func BenchmarkReadJSONL(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "issues.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	if err := benchdata.WriteIssues(f, 20_000, 42); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	c := Config{BucketURL: "file://" + dir, FileGlob: "*.jsonl"}
	for b.Loop() {
		n := 0
		for _, err := range c.Records()(context.Background(), &pipeline.ResourceContext{State: map[string]any{}}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 20_000 {
			b.Fatalf("%d records, want 20000", n)
		}
	}
}
