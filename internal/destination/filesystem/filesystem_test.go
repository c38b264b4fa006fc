package filesystem_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/destination/filesystem"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/schema"
)

func TestOpenRefusesWhatItCannotWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, format, want string }{
		{"s3://bucket/data", "", "only local paths and file:// URLs"},
		{"", "", "bucket_url is empty"},
		{t.TempDir(), "csv", `unknown loader_file_format "csv"`},
	} {
		if _, err := filesystem.Open(tc.url, "ds", tc.format); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q): %v, want an error saying %s", tc.url, tc.format, err, tc.want)
		}
	}
	c, err := filesystem.Open("file://"+t.TempDir(), "ds", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
}

// items is a schema with one table of the given write disposition.
func items(disposition string) (*schema.Schema, *schema.Table) {
	s := schema.New("src")
	s.VersionHash = "h/1+="
	t := &schema.Table{Name: "items", WriteDisposition: disposition, Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint, Nullable: true},
		{Name: "_dlt_id", DataType: schema.Text},
	}}
	s.AddTable(t)
	return s, t
}

// jobFiles writes rows of ids as Parquet job files of t.
func jobFiles(t *testing.T, tbl *schema.Table, ids ...int64) []string {
	t.Helper()
	dir := t.TempDir()
	w, err := jobfile.New(dir, jobfile.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := w.WriteRow(tbl, tbl.Columns, []any{id, destination.NewRowID()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return []string{filepath.Join(dir, "items.0.0.parquet")}
}

// ids reads the ids the dataset's items table holds, over all its files.
func ids(t *testing.T, c *filesystem.Client, root string) (sum, n int64) {
	t.Helper()
	err := c.DB().QueryRow(`SELECT coalesce(sum(id), 0), count(*) FROM read_parquet(?)`,
		filepath.Join(root, "ds", "items", "*.parquet")).Scan(&sum, &n)
	if err != nil {
		t.Fatal(err)
	}
	return sum, n
}

// A package that stopped before its _dlt_loads file is loaded again into
// the same files: nothing twice. Replace leaves only its own load's files.
func TestLoadIsCommittedByItsLoadsFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	c, err := filesystem.Open(root, "ds", "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	s, tbl := items(schema.Append)
	pkg := &destination.Package{LoadID: "1700000000.1", Schema: s, Files: map[string][]string{"items": jobFiles(t, tbl, 1, 2)},
		State:        &destination.StateRow{PipelineName: "p", State: "s1", VersionHash: "v1", Version: 1},
		BeforeCommit: func() { panic("crash before commit") }}
	func() {
		defer func() { _ = recover() }()
		_ = c.Load(ctx, pkg)
	}()
	if done, err := c.IsLoaded(ctx, pkg.LoadID); err != nil || done {
		t.Fatalf("IsLoaded after a crash before commit: %v, %v; want false", done, err)
	}
	pkg.BeforeCommit = nil
	if err := c.Load(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	if done, err := c.IsLoaded(ctx, pkg.LoadID); err != nil || !done {
		t.Fatalf("IsLoaded: %v, %v; want true", done, err)
	}
	if sum, n := ids(t, c, root); sum != 3 || n != 2 {
		t.Fatalf("items hold %d rows summing to %d, want 2 rows summing to 3", n, sum)
	}
	// A committed package is not loaded again.
	pkg.BeforeCommit = func() { t.Error("a committed package was loaded again") }
	if err := c.Load(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	if _, n := ids(t, c, root); n != 2 {
		t.Fatalf("%d rows after loading the same package twice, want 2", n)
	}
	st, err := c.LatestState(ctx, "p")
	if err != nil || st == nil || st.State != "s1" || st.LoadID != pkg.LoadID {
		t.Fatalf("LatestState: %+v, %v", st, err)
	}
	if got, err := c.LatestSchema(ctx, "src"); err != nil || got == nil || got.Table("items") == nil {
		t.Fatalf("LatestSchema: %+v, %v", got, err)
	}

	// Replace: the next load's files only.
	s2, tbl2 := items(schema.Replace)
	pkg2 := &destination.Package{LoadID: "1700000001.1", Schema: s2, Files: map[string][]string{"items": jobFiles(t, tbl2, 10)},
		Replace: []string{"items"}, State: &destination.StateRow{PipelineName: "p", State: "s2", VersionHash: "v2", Version: 2}}
	if err := c.Load(ctx, pkg2); err != nil {
		t.Fatal(err)
	}
	if sum, n := ids(t, c, root); sum != 10 || n != 1 {
		t.Fatalf("after replace: %d rows summing to %d, want 1 row of 10", n, sum)
	}
	if st, err := c.LatestState(ctx, "p"); err != nil || st.State != "s2" {
		t.Fatalf("LatestState after the second load: %+v, %v", st, err)
	}
	tables, err := c.Tables()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(tables, ","), "items") || !strings.Contains(strings.Join(tables, ","), schema.LoadsTable) {
		t.Fatalf("tables %v, want items and %s", tables, schema.LoadsTable)
	}
	if err := c.DropTables(ctx, []string{"items"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "ds", "items")); !os.IsNotExist(err) {
		t.Fatalf("items after DropTables: %v", err)
	}
}

func TestMergeIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	c, err := filesystem.Open(root, "ds", filesystem.JSONL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	s, tbl := items(schema.Merge)
	err = c.Load(context.Background(), &destination.Package{LoadID: "1", Schema: s, Files: map[string][]string{"items": jobFiles(t, tbl, 1)}})
	if err == nil || !strings.Contains(err.Error(), `table "items": write disposition merge is not supported`) {
		t.Fatalf("got %v, want an error naming the table and merge", err)
	}
	if _, err := os.Stat(filepath.Join(root, "ds")); !os.IsNotExist(err) {
		t.Fatalf("the dataset folder exists after a refused load: %v", err)
	}
}
