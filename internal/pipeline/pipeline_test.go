package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/samples"
)

// newTestPipeline makes a pipeline with its working dir and DuckDB file in
// a temp dir.
func newTestPipeline(t *testing.T, name string) *Pipeline {
	t.Helper()
	dir := t.TempDir()
	p, err := New(Options{Name: name, PipelinesDir: filepath.Join(dir, "state", "pipelines"), LocalDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// records yields the given records.
func records(recs ...any) func(context.Context, *ResourceContext) iter.Seq2[any, error] {
	return func(context.Context, *ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

func jsonRecords(t *testing.T, docs ...string) []any {
	t.Helper()
	out := make([]any, len(docs))
	for i, d := range docs {
		v, err := jsonx.Parse([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = v
	}
	return out
}

func openDB(t *testing.T, p *Pipeline) *sql.DB {
	t.Helper()
	path, err := p.DatabasePath()
	if err != nil {
		t.Fatal(err)
	}
	c, err := duckdb.Open(path, p.Dataset())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.DB()
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// duckToDlt maps DuckDB's column types back to dlt's.
func duckToDlt(typ string) string {
	switch typ {
	case "VARCHAR":
		return "text"
	case "BIGINT":
		return "bigint"
	case "BOOLEAN":
		return "bool"
	case "TIMESTAMP WITH TIME ZONE":
		return "timestamp"
	case "DOUBLE":
		return "double"
	case "JSON":
		return "json"
	}
	return typ
}

// TestConformanceGitHubIssues loads the page of GitHub issues that dlt uses
// in its own tests and compares tables, columns and types with dlt's.
func TestConformanceGitHubIssues(t *testing.T) {
	page, err := jsonx.Parse(samples.GitHubIssues())
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Parent  *string           `json:"parent"`
		Columns map[string]string `json:"columns"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "conformance", "expected_tables.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	p := newTestPipeline(t, "github")
	info, err := p.Run(context.Background(), &Resource{Name: "issues", Records: records(page.([]any)...)})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows["issues"] != 100 {
		t.Errorf("rows %v", info.Rows)
	}
	// The schema.
	s, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tbl := range s.DataTables() {
		got = append(got, tbl.Name)
		exp, ok := expected[tbl.Name]
		if !ok {
			t.Errorf("unexpected table %q", tbl.Name)
			continue
		}
		parent := ""
		if exp.Parent != nil {
			parent = *exp.Parent
		}
		if tbl.Parent != parent {
			t.Errorf("%s: parent %q, want %q", tbl.Name, tbl.Parent, parent)
		}
		cols := map[string]string{}
		for _, c := range tbl.Columns {
			cols[c.Name] = string(c.DataType)
		}
		for name, typ := range exp.Columns {
			if cols[name] != typ {
				t.Errorf("%s.%s: type %q, want %q", tbl.Name, name, cols[name], typ)
			}
		}
		for name := range cols {
			if _, ok := exp.Columns[name]; !ok {
				t.Errorf("%s: unexpected column %q (%s)", tbl.Name, name, cols[name])
			}
		}
	}
	var want []string
	for k := range expected {
		want = append(want, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Errorf("tables %v, want %v", got, want)
	}
	// The destination.
	db := openDB(t, p)
	for table, exp := range expected {
		rows, err := db.Query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?`, p.Dataset(), table)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			n++
			if want := exp.Columns[name]; duckToDlt(typ) != want {
				t.Errorf("duckdb %s.%s: %s, want %s", table, name, typ, want)
			}
		}
		_ = rows.Close()
		if n != len(exp.Columns) {
			t.Errorf("duckdb %s: %d columns, want %d", table, n, len(exp.Columns))
		}
	}
	if n := count(t, db, `SELECT count(*) FROM github_dataset.issues`); n != 100 {
		t.Errorf("issues rows = %d", n)
	}
	// Child rows point at their parents.
	if n := count(t, db, `SELECT count(*) FROM github_dataset.issues__labels l LEFT JOIN github_dataset.issues i ON l._dlt_parent_id = i._dlt_id WHERE i._dlt_id IS NULL`); n != 0 {
		t.Errorf("%d orphan label rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM github_dataset._dlt_loads WHERE status = 0 AND load_id = ?`, info.LoadID()); n != 1 {
		t.Errorf("_dlt_loads rows = %d", n)
	}
}
