package jobfile_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlthub/dlthub/internal/jobfile"
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
