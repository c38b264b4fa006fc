// Package conformance is the destination conformance suite: the same
// pipeline cases run against every destination, checked through each
// destination's own reader, so DuckDB, PostgreSQL and the filesystem land
// the same rows in the same tables.
package conformance

import (
	"context"
	"fmt"
	"iter"
	"os"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
)

// Target is one destination under test.
type Target struct {
	Name string
	// Options returns options for a new pipeline loading into a fresh,
	// empty destination.
	Options func(t *testing.T, name string) pipeline.Options
	// Count returns the number of rows in a table of the pipeline's
	// dataset (-1 when the table does not exist), of those that where
	// (" WHERE …" in SQL, or "") selects.
	Count func(t *testing.T, p *pipeline.Pipeline, table, where string) int64
	// Merge says whether the destination supports merge.
	Merge bool
}

func records(recs ...map[string]any) func(context.Context, *pipeline.ResourceContext) iter.Seq2[any, error] {
	return func(context.Context, *pipeline.ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

func issue(id int, title string, labels ...string) map[string]any {
	ls := make([]any, len(labels))
	for i, l := range labels {
		ls[i] = map[string]any{"name": l}
	}
	return map[string]any{"id": int64(id), "title": title, "updated_at": fmt.Sprintf("2024-01-01T%02d:00:00Z", id), "labels": ls}
}

func mustRun(t *testing.T, p *pipeline.Pipeline, r *pipeline.Resource) *pipeline.LoadInfo {
	t.Helper()
	info, err := p.Run(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// Run runs every case against the target.
func Run(t *testing.T, tg Target) {
	newPipeline := func(t *testing.T, name string) *pipeline.Pipeline {
		p, err := pipeline.New(tg.Options(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	expect := func(t *testing.T, p *pipeline.Pipeline, table string, want int64) {
		t.Helper()
		if got := tg.Count(t, p, table, ""); got != want {
			t.Errorf("%s: %s has %d rows, want %d", tg.Name, table, got, want)
		}
	}
	expectWhere := func(t *testing.T, p *pipeline.Pipeline, table, where string, want int64) {
		t.Helper()
		if got := tg.Count(t, p, table, " WHERE "+where); got != want {
			t.Errorf("%s: %s has %d rows where %s, want %d", tg.Name, table, got, where, want)
		}
	}
	t.Run("append_children_system_tables", func(t *testing.T) {
		p := newPipeline(t, "app")
		r := &pipeline.Resource{Name: "issues", Records: records(issue(1, "a", "bug", "ui"), issue(2, "b"))}
		mustRun(t, p, r)
		mustRun(t, p, r)
		expect(t, p, "issues", 4)
		expect(t, p, "issues__labels", 4)
		expect(t, p, schema.LoadsTable, 2)
		expect(t, p, schema.VersionTable, 1)
	})
	t.Run("replace", func(t *testing.T) {
		p := newPipeline(t, "rep")
		mustRun(t, p, &pipeline.Resource{Name: "issues", Records: records(issue(1, "a", "bug"), issue(2, "b", "x"))})
		mustRun(t, p, &pipeline.Resource{Name: "issues", WriteDisposition: schema.Replace, Records: records(issue(3, "c", "y"))})
		expect(t, p, "issues", 1)
		expect(t, p, "issues__labels", 1)
	})
	t.Run("schema_evolution_and_long_names", func(t *testing.T) {
		p := newPipeline(t, "evo")
		mustRun(t, p, &pipeline.Resource{Name: "issues", Records: records(issue(1, "a"))})
		long := strings.Repeat("a_very_long_field_name_", 4)
		rec := issue(2, "b")
		rec["new_column"] = true
		rec[long] = "x"
		mustRun(t, p, &pipeline.Resource{Name: "issues", Records: records(rec)})
		expect(t, p, "issues", 2)
		s, err := p.Schema()
		if err != nil {
			t.Fatal(err)
		}
		if s.Table("issues").Column("new_column") == nil {
			t.Errorf("new column missing from schema")
		}
	})
	t.Run("incremental_and_restore", func(t *testing.T) {
		o := tg.Options(t, "inc")
		p, err := pipeline.New(o)
		if err != nil {
			t.Fatal(err)
		}
		res := func(n int) *pipeline.Resource {
			var recs []map[string]any
			for i := 1; i <= n; i++ {
				recs = append(recs, issue(i, "t"))
			}
			return &pipeline.Resource{Name: "issues", PrimaryKey: []string{"id"}, Incremental: &pipeline.Incremental{CursorPath: "updated_at"}, Records: records(recs...)}
		}
		mustRun(t, p, res(3))
		if err := os.RemoveAll(p.WorkDir()); err != nil {
			t.Fatal(err)
		}
		p2, err := pipeline.New(o) // same destination, working dir gone
		if err != nil {
			t.Fatal(err)
		}
		info := mustRun(t, p2, res(5))
		if info.Rows["issues"] != 2 {
			t.Errorf("%s: after restore loaded %d rows, want 2", tg.Name, info.Rows["issues"])
		}
		expect(t, p2, "issues", 5)
	})
	if !tg.Merge {
		return
	}
	t.Run("merge", func(t *testing.T) {
		p := newPipeline(t, "mrg")
		r := func(recs ...map[string]any) *pipeline.Resource {
			return &pipeline.Resource{Name: "issues", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(recs...)}
		}
		mustRun(t, p, r(issue(1, "a", "bug", "ui"), issue(2, "b", "x")))
		mustRun(t, p, r(issue(1, "a", "bug", "ui"), issue(2, "b", "x")))
		expect(t, p, "issues", 2)
		expect(t, p, "issues__labels", 3)
		mustRun(t, p, r(issue(1, "old", "q"), issue(1, "new", "feature"), issue(3, "c")))
		expect(t, p, "issues", 3)
		expect(t, p, "issues__labels", 2)
	})
	t.Run("scd2", func(t *testing.T) {
		p := newPipeline(t, "hist")
		r := func(recs ...map[string]any) *pipeline.Resource {
			return &pipeline.Resource{Name: "issues", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2, Records: records(recs...)}
		}
		mustRun(t, p, r(issue(1, "a"), issue(2, "b")))
		mustRun(t, p, r(issue(1, "a2"), issue(3, "c")))
		expect(t, p, "issues", 4)
		// Nested rows come with new versions only, as dlt loads them (by
		// row key): an unchanged record keeps its rows, a changed one gets
		// its new rows, and a version that comes back (the same row hash
		// as a closed one) is a new row whose nested rows are stored.
		h := newPipeline(t, "hist_nested")
		mustRun(t, h, r(issue(1, "a", "x"), issue(2, "b", "y", "z")))
		expect(t, h, "issues", 2)
		expect(t, h, "issues__labels", 3)
		mustRun(t, h, r(issue(1, "a", "x"), issue(2, "b2", "y"), issue(3, "c", "w")))
		expect(t, h, "issues", 4)
		expect(t, h, "issues__labels", 5)
		mustRun(t, h, r(issue(2, "b", "y", "z")))
		expect(t, h, "issues", 5)
		expect(t, h, "issues__labels", 5)
		// dlt's options: validity columns of the resource's names, current
		// versions marked with a far-future valid-to, and a fixed
		// boundary for new and retired versions.
		o := newPipeline(t, "hist_options")
		ro := func(recs ...map[string]any) *pipeline.Resource {
			res := r(recs...)
			res.SCD2 = &schema.SCD2Options{ValidFrom: "Valid From", ValidTo: "valid_until",
				ActiveRecordTimestamp: "9999-12-31", BoundaryTimestamp: "2024-03-01T12:00:00+02:00"}
			return res
		}
		end := `CAST('9999-12-31 00:00:00+00' AS TIMESTAMP WITH TIME ZONE)`
		boundary := `CAST('2024-03-01 10:00:00+00' AS TIMESTAMP WITH TIME ZONE)`
		mustRun(t, o, ro(issue(1, "a"), issue(2, "b")))
		mustRun(t, o, ro(issue(1, "a"), issue(2, "b2")))
		expect(t, o, "issues", 3)
		expectWhere(t, o, "issues", `valid_until = `+end+` AND valid_from = `+boundary+``, 2)
		expectWhere(t, o, "issues", `valid_until = `+boundary+` AND title = 'b'`, 1)
		mustRun(t, o, ro(issue(1, "a")))
		expectWhere(t, o, "issues", `valid_until = `+end, 1)
	})
	// insert-only: a stored key's record is left as it is, a new one is
	// inserted with its nested rows; a flagged one is not, though its
	// nested rows are, as dlt's nested MERGE inserts them by row key
	// (disp_insert_only_hard_delete).
	t.Run("insert_only", func(t *testing.T) {
		p := newPipeline(t, "insonly")
		r := func(recs ...map[string]any) *pipeline.Resource {
			return &pipeline.Resource{Name: "issues", WriteDisposition: schema.Merge, MergeStrategy: schema.InsertOnly, PrimaryKey: []string{"id"},
				Columns: []*schema.Column{{Name: "gone", HardDelete: true, DataType: schema.Bool}}, Records: records(recs...)}
		}
		flagged := issue(4, "d", "x")
		flagged["gone"] = true
		mustRun(t, p, r(issue(1, "a", "bug"), issue(2, "b")))
		mustRun(t, p, r(issue(1, "a2", "bug"), issue(3, "c", "ui", "x"), flagged))
		expect(t, p, "issues", 3)
		expectWhere(t, p, "issues", `id = 1 AND title = 'a'`, 1)
		expect(t, p, "issues__labels", 4)
		if _, err := p.Run(context.Background(), &pipeline.Resource{Name: "nokey", WriteDisposition: schema.Merge, MergeStrategy: schema.InsertOnly, Records: records()}); err == nil {
			t.Error("insert-only without a primary key accepted")
		}
	})
	// Merge hints as dlt applies them: a hard_delete column of any type
	// deletes on any value (a bool one on true), dedup_sort picks the
	// record kept of those sharing a key, and upsert deletes the stored
	// rows of flagged records but inserts a new key's flagged row, without
	// its nested rows.
	t.Run("merge_hints", func(t *testing.T) {
		p := newPipeline(t, "hints")
		r := func(strategy string, recs ...map[string]any) *pipeline.Resource {
			return &pipeline.Resource{Name: "items", WriteDisposition: schema.Merge, MergeStrategy: strategy, PrimaryKey: []string{"id"},
				Columns: []*schema.Column{{Name: "deleted_at", HardDelete: true}, {Name: "seq", DedupSort: "desc"}}, Records: records(recs...)}
		}
		item := func(id, seq int, v string, tags ...any) map[string]any {
			return map[string]any{"id": int64(id), "seq": int64(seq), "v": v, "tags": tags}
		}
		mustRun(t, p, r("", item(1, 1, "a", "x"), item(2, 1, "b", "y", "z"), item(3, 1, "c")))
		expect(t, p, "items", 3)
		deleted := item(1, 2, "gone")
		deleted["deleted_at"] = "2024-05-01T10:00:00Z"
		mustRun(t, p, r("", deleted, item(2, 3, "b3", "w"), item(2, 2, "b2"), item(3, 1, "c")))
		expect(t, p, "items", 2)
		expectWhere(t, p, "items", `id = 2 AND v = 'b3'`, 1)
		expect(t, p, "items__tags", 1)

		u := newPipeline(t, "hints_upsert")
		mustRun(t, u, r(schema.Upsert, item(1, 1, "a", "x")))
		newDeleted := item(2, 1, "new", "q")
		newDeleted["deleted_at"] = "2024-05-01T10:00:00Z"
		oldDeleted := item(1, 2, "gone")
		oldDeleted["deleted_at"] = "2024-05-01T10:00:00Z"
		mustRun(t, u, r(schema.Upsert, newDeleted, oldDeleted))
		expectWhere(t, u, "items", `id = 2`, 1)
		expectWhere(t, u, "items", `id = 1`, 0)
		expect(t, u, "items__tags", 0)
	})
}
