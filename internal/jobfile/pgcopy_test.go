package jobfile_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// A pgcopy job file names its typed columns in its header, in the order
// of their values, and ends with binary COPY's trailer.
func TestPGCopyHeaderNamesTheColumns(t *testing.T) {
	dir := t.TempDir()
	w, err := jobfile.New(dir, jobfile.PGCopy)
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint}, {Name: "pending"}, {Name: "at", DataType: schema.Timestamp, Nullable: true},
		{Name: "doc", DataType: schema.JSON, Nullable: true}}}
	if err := w.WriteRow(tb, tb.Columns[:1], []any{int64(1)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.0.0.pgcopy")
	cols, err := jobfile.PGCopyColumns(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []jobfile.PGColumn{{Name: "id", Type: "bigint"}, {Name: "at", Type: "timestamp with time zone"}, {Name: "doc", Type: "jsonb"}}
	if !slices.Equal(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	if names, err := jobfile.Columns(path); err != nil || !slices.Equal(names, []string{"id", "at", "doc"}) {
		t.Fatalf("Columns: %v %v", names, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One row of three fields (8-byte id, two NULLs), then the trailer.
	row := binary.BigEndian.AppendUint16(nil, 3)
	row = binary.BigEndian.AppendUint32(row, 8)
	row = binary.BigEndian.AppendUint64(row, 1)
	row = append(row, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if !bytes.HasSuffix(b, row) {
		t.Fatalf("file ends % x, want % x", b[len(b)-len(row):], row)
	}
}

// FuzzReadPGCopyHeader feeds the header reader arbitrary bytes: it returns
// columns or an error, never panics, and never reads a header extension
// longer than its limit.
func FuzzReadPGCopyHeader(f *testing.F) {
	good := []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x22dlthub.columns\x00id\x00bigint\x00ab\x00jsonb\x00")
	f.Add(good)
	f.Add(good[:30])
	f.Add([]byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x7f\xff\xff\xff"))
	f.Add([]byte("PGCOPY\n\xff\r\n\x00\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cols, err := jobfile.ReadPGCopyHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(b) < 19+len("dlthub.columns\x00") {
			t.Fatalf("accepted %d bytes as a header", len(b))
		}
		for _, c := range cols {
			if c.Name == "" || c.Type == "" {
				t.Fatalf("empty column %+v", c)
			}
		}
	})
}

// A fork's files load after the files its writer wrote before the fork
// and before those it writes after; Discard deletes a fork's files and
// lets it write again in the same place.
func TestForkKeepsFileOrder(t *testing.T) {
	dir := t.TempDir()
	w, err := jobfile.New(dir, jobfile.CSV)
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "n", DataType: schema.Bigint}}}
	write := func(w *jobfile.Writer, n int64) {
		t.Helper()
		if err := w.WriteRow(tb, tb.Columns, []any{n}); err != nil {
			t.Fatal(err)
		}
	}
	write(w, 1)
	f1, err := w.Fork()
	if err != nil {
		t.Fatal(err)
	}
	f2, err := w.Fork()
	if err != nil {
		t.Fatal(err)
	}
	write(w, 4) // after both forks
	write(f2, 3)
	write(f1, 99)
	if err := f1.Discard(); err != nil {
		t.Fatal(err)
	}
	write(f1, 2)
	for _, x := range []*jobfile.Writer{f1, f2, w} {
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := loadpackage.Jobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		b, err := os.ReadFile(j.Path)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(strings.TrimPrefix(string(b), "n\n")))
	}
	if want := []string{"1", "2", "3", "4"}; !slices.Equal(got, want) {
		t.Fatalf("rows in load order %v, want %v", got, want)
	}
	if w.Rows() != 2 {
		t.Fatalf("parent rows %d, want 2 (forks count their own until absorbed)", w.Rows())
	}
	w.Absorb(f1)
	if w.Rows() != 3 {
		t.Fatalf("rows after absorbing a fork %d, want 3", w.Rows())
	}
}
