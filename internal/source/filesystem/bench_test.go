package filesystem_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/source/filesystem"
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
	c := filesystem.Config{BucketURL: "file://" + dir, FileGlob: "*.jsonl"}
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

// BenchmarkListTopLevelGlob lists a bucket for "*.jsonl" whose one match
// sits next to a subdirectory of 5,000 files: the listing stays in the top
// directory (listOptions), so the subdirectory costs nothing.
func BenchmarkListTopLevelGlob(b *testing.B) {
	dir := b.TempDir()
	sub := filepath.Join(dir, "archive", "2024")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 5000 {
		if err := os.WriteFile(filepath.Join(sub, "part-"+strconv.Itoa(i)+".jsonl"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "issues.jsonl"), []byte("{}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	c := filesystem.Config{BucketURL: "file://" + dir, FileGlob: "*.jsonl"}
	for b.Loop() {
		files, err := c.Files(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(files) != 1 {
			b.Fatalf("%d files, want 1", len(files))
		}
	}
}
