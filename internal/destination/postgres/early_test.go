package postgres

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/schema"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func items() *schema.Table {
	return &schema.Table{Name: "items", WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint, Nullable: true},
		{Name: "data", DataType: schema.Binary, Nullable: true},
	}}
}

// jobFiles writes n rows as CSV job files of two rows each.
func jobFiles(t *testing.T, tb *schema.Table, n int) []string {
	t.Helper()
	w, err := jobfile.New(t.TempDir(), jobfile.CSV)
	if err != nil {
		t.Fatal(err)
	}
	w.MaxRows = 2
	var files []string
	w.OnClose = func(_, path string) { files = append(files, path) }
	for i := range n {
		// Binary values leave the normalizer as base64 text.
		if err := w.WriteRow(tb, tb.Columns, []any{int64(i), base64.StdEncoding.EncodeToString([]byte{byte(i), 0xff})}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return files
}

func count(t *testing.T, c *Client, q string) int64 {
	t.Helper()
	var n int64
	if err := c.Conn().QueryRow(context.Background(), q).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return -1
		}
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Files COPied early (binary columns through the decoding stage table)
// stay in the open transaction: a rollback leaves no table, and Load
// finishes the transaction with the other files, each loaded once.
func TestEarlyAppendThenLoad(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	tb := items()
	files := jobFiles(t, tb, 6)

	e, ok, err := c.BeginEarly(ctx, "1")
	if err != nil || !ok {
		t.Fatalf("begin: %v %v", ok, err)
	}
	if err := e.Append(ctx, tb, files[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, `SELECT count(*) FROM ds.items`); n != -1 {
		t.Fatalf("after rollback items has %d rows; it must not exist", n)
	}

	e, ok, err = c.BeginEarly(ctx, "1")
	if err != nil || !ok {
		t.Fatalf("begin again: %v %v", ok, err)
	}
	if err := e.Append(ctx, tb, files[1]); err != nil {
		t.Fatal(err)
	}
	s := schema.New("s")
	s.AddTable(tb)
	pkg := &destination.Package{LoadID: "1", Schema: s, Files: map[string][]string{"items": files},
		Early: e, Loaded: map[string]bool{filepath.Base(files[1]): true}}
	if err := c.Load(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, `SELECT count(DISTINCT id) FROM ds.items`); n != 6 {
		t.Errorf("distinct ids = %d, want 6", n)
	}
	if n := count(t, c, `SELECT count(*) FROM ds.items`); n != 6 {
		t.Errorf("items = %d, want 6: a file was loaded twice", n)
	}
	if n := count(t, c, `SELECT count(*) FROM ds.items WHERE data = decode('03ff', 'hex')`); n != 1 {
		t.Errorf("binary value of row 3 not decoded: %d rows match", n)
	}
	if _, ok, err := c.BeginEarly(ctx, "1"); err != nil || ok {
		t.Errorf("early load of a loaded package: ok=%v err=%v, want refused", ok, err)
	}
}
