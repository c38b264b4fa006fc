package loadpackage

import (
	"os"
	"path/filepath"
	"testing"
)

// A table's job files are listed in the order they were written: file 10
// after file 9, or merge's "last record wins" would take an older record.
func TestJobsAreInWriteOrder(t *testing.T) {
	dir := t.TempDir()
	want := []string{"a.0.0.parquet", "a.1.0.parquet", "a.2.0.parquet", "a.9.0.parquet", "a.10.0.parquet", "a.11.0.parquet", "a__b.0.0.parquet", "a__b.10.0.parquet", "b.2.0.csv", "b.100.0.csv"}
	for _, name := range want {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := Jobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(want) {
		t.Fatalf("got %d jobs, want %d", len(jobs), len(want))
	}
	for i, j := range jobs {
		if filepath.Base(j.Path) != want[i] {
			t.Errorf("job %d = %s, want %s", i, filepath.Base(j.Path), want[i])
		}
	}
}
