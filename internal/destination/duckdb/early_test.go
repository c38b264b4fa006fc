package duckdb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/schema"
)

// items is a table of two columns, and jobFiles writes rows of it into
// Parquet job files of two rows each, as the normalizer would.
func items() *schema.Table {
	return &schema.Table{Name: "items", WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint, Nullable: true},
		{Name: "name", DataType: schema.Text, Nullable: true},
	}}
}

func jobFiles(t *testing.T, tb *schema.Table, n int) []string {
	t.Helper()
	dir := t.TempDir()
	w, err := jobfile.New(dir, jobfile.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	w.MaxRows = 2
	var files []string
	w.OnClose = func(_, path string) { files = append(files, path) }
	for i := range n {
		if err := w.WriteRow(tb, tb.Columns, []any{int64(i), "row"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return files
}

func openTemp(t *testing.T) *Client {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "t.duckdb"), "ds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func rows(t *testing.T, c *Client, q string) int64 {
	t.Helper()
	var n int64
	if err := c.DB().QueryRow(q).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return -1
		}
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Files appended early are inside the open transaction only: a rollback
// leaves neither rows nor the table.
func TestEarlyAppendRollsBack(t *testing.T) {
	c := openTemp(t)
	tb := items()
	files := jobFiles(t, tb, 4)
	e, ok, err := c.BeginEarly(context.Background(), "1")
	if err != nil || !ok {
		t.Fatalf("begin: %v %v", ok, err)
	}
	for _, f := range files {
		if err := e.Append(context.Background(), tb, f); err != nil {
			t.Fatal(err)
		}
	}
	var inside int64
	if err := e.(*early).tx.QueryRow(`SELECT count(*) FROM ds.items`).Scan(&inside); err != nil || inside != 4 {
		t.Fatalf("rows inside the transaction = %d (%v), want 4", inside, err)
	}
	if err := e.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, c, `SELECT count(*) FROM ds.items`); n != -1 {
		t.Errorf("after rollback the table has %d rows; it must not exist", n)
	}
}

// Load finishes the early transaction: the files it holds are not loaded
// twice, the rest are, and the package is recorded once; a second early
// load of the same package is refused as already loaded.
func TestLoadFinishesEarly(t *testing.T) {
	c := openTemp(t)
	tb := items()
	files := jobFiles(t, tb, 6) // three files
	ctx := context.Background()
	e, ok, err := c.BeginEarly(ctx, "1")
	if err != nil || !ok {
		t.Fatalf("begin: %v %v", ok, err)
	}
	if err := e.Append(ctx, tb, files[0]); err != nil {
		t.Fatal(err)
	}
	s := schema.New("s")
	s.AddTable(tb)
	pkg := &destination.Package{LoadID: "1", Schema: s, Files: map[string][]string{"items": files},
		Early: e, Loaded: map[string]bool{filepath.Base(files[0]): true}}
	if err := c.Load(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, c, `SELECT count(*) FROM ds.items`); n != 6 {
		t.Errorf("items = %d, want 6", n)
	}
	if n := rows(t, c, `SELECT count(DISTINCT id) FROM ds.items`); n != 6 {
		t.Errorf("distinct ids = %d, want 6: a file was loaded twice or not at all", n)
	}
	if n := rows(t, c, `SELECT count(*) FROM ds._dlt_loads WHERE load_id = '1'`); n != 1 {
		t.Errorf("loads = %d, want 1", n)
	}
	if _, ok, err := c.BeginEarly(ctx, "1"); err != nil || ok {
		t.Errorf("early load of a loaded package: ok=%v err=%v, want refused", ok, err)
	}
}

// otherEarly is an early transaction of another destination.
type otherEarly struct{ rolledBack bool }

func (o *otherEarly) Append(context.Context, *schema.Table, string) error { return nil }
func (o *otherEarly) Rollback() error                                     { o.rolledBack = true; return nil }

// A package whose early transaction is not this client's is loaded whole,
// in a transaction of its own, and the foreign one is rolled back.
func TestLoadIgnoresAForeignEarly(t *testing.T) {
	c := openTemp(t)
	tb := items()
	files := jobFiles(t, tb, 4)
	s := schema.New("s")
	s.AddTable(tb)
	o := &otherEarly{}
	pkg := &destination.Package{LoadID: "1", Schema: s, Files: map[string][]string{"items": files},
		Early: o, Loaded: map[string]bool{filepath.Base(files[0]): true}}
	if err := c.Load(context.Background(), pkg); err != nil {
		t.Fatal(err)
	}
	if !o.rolledBack {
		t.Error("the foreign early transaction was not rolled back")
	}
	if n := rows(t, c, `SELECT count(*) FROM ds.items`); n != 4 {
		t.Errorf("items = %d, want 4 (every file)", n)
	}
}
