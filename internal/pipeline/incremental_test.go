package pipeline

import (
	"context"
	"fmt"
	"iter"
	"os"
	"strings"
	"testing"
)

// events yields records with ids from..to and updated_at = 2024-01-01 plus id
// hours, recording the start value the engine offered.
func events(from, to int, sawStart *any) func(context.Context, *ResourceContext) iter.Seq2[any, error] {
	return func(_ context.Context, rc *ResourceContext) iter.Seq2[any, error] {
		if sawStart != nil && rc.Incremental != nil {
			*sawStart = rc.Incremental.StartValue()
		}
		return func(yield func(any, error) bool) {
			for i := from; i <= to; i++ {
				rec := map[string]any{"id": int64(i), "updated_at": fmt.Sprintf("2024-01-01T%02d:00:00Z", i)}
				if !yield(rec, nil) {
					return
				}
			}
		}
	}
}

func TestIncrementalLoadsOnlyNewRecords(t *testing.T) {
	p := newTestPipeline(t, "inc")
	var start any
	res := func(from, to int) *Resource {
		return &Resource{Name: "events", PrimaryKey: []string{"id"},
			Incremental: &Incremental{CursorPath: "updated_at", InitialValue: "2024-01-01T02:00:00Z"},
			Records:     events(from, to, &start)}
	}
	info := run(t, p, res(0, 5))
	if info.Rows["events"] != 4 { // 02..05: the initial value is inclusive
		t.Errorf("first run rows = %d", info.Rows["events"])
	}
	if start != "2024-01-01T02:00:00Z" {
		t.Errorf("first start = %v", start)
	}
	info = run(t, p, res(0, 8))
	if info.Rows["events"] != 3 { // 06..08; 05 sits on the boundary and is deduplicated
		t.Errorf("second run rows = %d", info.Rows["events"])
	}
	if start != "2024-01-01T05:00:00Z" {
		t.Errorf("second start = %v", start)
	}
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM inc_dataset.events`); n != 7 {
		t.Errorf("rows = %d", n)
	}
	if n := count(t, db, `SELECT count(DISTINCT id) FROM inc_dataset.events`); n != 7 {
		t.Errorf("distinct = %d", n)
	}
	// A new record exactly on the boundary value is still loaded.
	boundary := &Resource{Name: "events", PrimaryKey: []string{"id"},
		Incremental: &Incremental{CursorPath: "updated_at"},
		Records: records(
			map[string]any{"id": int64(8), "updated_at": "2024-01-01T08:00:00Z"},
			map[string]any{"id": int64(99), "updated_at": "2024-01-01T08:00:00Z"},
		)}
	info = run(t, p, boundary)
	if info.Rows["events"] != 1 {
		t.Errorf("boundary run rows = %d, want only id 99", info.Rows["events"])
	}
}

func TestIncrementalEndValueDoesNotMoveCursor(t *testing.T) {
	p := newTestPipeline(t, "backfill")
	inc := &Incremental{CursorPath: "updated_at", InitialValue: "2024-01-01T00:00:00Z"}
	run(t, p, &Resource{Name: "events", Incremental: inc, Records: events(0, 3, nil)})
	// A backfill window [10:00, 12:00) loads 10 and 11 only.
	window := &Incremental{CursorPath: "updated_at", InitialValue: "2024-01-01T10:00:00Z", EndValue: "2024-01-01T12:00:00Z"}
	var start any
	info := run(t, p, &Resource{Name: "events", Incremental: window, Records: events(0, 20, &start)})
	if info.Rows["events"] != 2 {
		t.Errorf("window rows = %d", info.Rows["events"])
	}
	// The stored cursor is still at 03:00: the next run loads 04..06.
	info = run(t, p, &Resource{Name: "events", Incremental: inc, Records: events(0, 6, &start)})
	if start != "2024-01-01T03:00:00Z" || info.Rows["events"] != 3 {
		t.Errorf("after window: start %v, rows %d", start, info.Rows["events"])
	}
}

func TestIncrementalStateRestoredFromDestination(t *testing.T) {
	p := newTestPipeline(t, "restore")
	res := func(to int) *Resource {
		return &Resource{Name: "events", Incremental: &Incremental{CursorPath: "updated_at"}, Records: events(0, to, nil)}
	}
	run(t, p, res(4))
	if err := os.RemoveAll(p.WorkDir()); err != nil {
		t.Fatal(err)
	}
	p2, err := New(p.opts)
	if err != nil {
		t.Fatal(err)
	}
	info := run(t, p2, res(6))
	if info.Rows["events"] != 2 {
		t.Errorf("after losing the working dir: %d rows, want 2 (05, 06)", info.Rows["events"])
	}
	db := openDB(t, p2)
	if n := count(t, db, `SELECT count(DISTINCT id) FROM restore_dataset.events`); n != 7 {
		t.Errorf("distinct ids = %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM restore_dataset.events`); n != 7 {
		t.Errorf("rows = %d: something was loaded twice", n)
	}
	// The schema came back from _dlt_version too.
	s, err := p2.Schema()
	if err != nil || s == nil || s.Table("events") == nil || s.Version < 1 {
		t.Errorf("schema not restored: %+v %v", s, err)
	}
}

func TestIncrementalOptions(t *testing.T) {
	recs := []any{
		map[string]any{"id": int64(1), "n": int64(10)},
		map[string]any{"id": int64(2)},
		map[string]any{"id": int64(3), "n": int64(30)},
	}
	for _, tc := range []struct {
		missing string
		want    int64
		err     string
	}{
		{"", 0, `record 1 has no value at cursor_path "n"`},
		{"include", 3, ""},
		{"exclude", 2, ""},
	} {
		p := newTestPipeline(t, "missing")
		info, err := p.Run(context.Background(), &Resource{Name: "r", Incremental: &Incremental{CursorPath: "n", OnCursorValueMissing: tc.missing}, Records: records(recs...)})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v", tc.missing, err)
			}
			continue
		}
		if err != nil || info.Rows["r"] != tc.want {
			t.Errorf("%q: rows %v, err %v", tc.missing, info, err)
		}
	}
	// min walks backwards; lag re-reads the last 2 units.
	p := newTestPipeline(t, "minlag")
	nums := func(vals ...int64) *Resource {
		var rs []any
		for _, v := range vals {
			rs = append(rs, map[string]any{"n": v})
		}
		return &Resource{Name: "r", Incremental: &Incremental{CursorPath: "n", LastValueFunc: "min"}, Records: records(rs...)}
	}
	run(t, p, nums(10, 9, 8))
	if info := run(t, p, nums(10, 9, 8, 7, 6)); info.Rows["r"] != 2 {
		t.Errorf("min: rows %d", info.Rows["r"])
	}
	p = newTestPipeline(t, "lag")
	lagged := func(vals ...int64) *Resource {
		var rs []any
		for _, v := range vals {
			rs = append(rs, map[string]any{"n": v})
		}
		return &Resource{Name: "r", Incremental: &Incremental{CursorPath: "n", Lag: 2}, Records: records(rs...)}
	}
	run(t, p, lagged(1, 2, 3, 4, 5))
	if info := run(t, p, lagged(1, 2, 3, 4, 5, 6)); info.Rows["r"] != 4 { // 3, 4, 5, 6
		t.Errorf("lag: rows %d", info.Rows["r"])
	}
	bad := &Resource{Name: "r", Incremental: &Incremental{CursorPath: "n", RangeStart: "half"}, Records: records()}
	if _, err := p.Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `range_start "half": use open or closed`) {
		t.Errorf("range_start half: %v", err)
	}
}

// As dlt, a replace resource starts from no state on every run: its cursor
// from the initial value, so the table it replaces holds every record from
// there, not only those since the last run; its own state starts empty too.
func TestReplaceResourceStartsOver(t *testing.T) {
	p := newTestPipeline(t, "replace_inc")
	var start any
	var seen []any
	res := func(from, to int) *Resource {
		ev := events(from, to, &start)
		return &Resource{Name: "events", WriteDisposition: "replace",
			Incremental: &Incremental{CursorPath: "updated_at", InitialValue: "2024-01-01T02:00:00Z"},
			Records: func(ctx context.Context, rc *ResourceContext) iter.Seq2[any, error] {
				seen = append(seen, rc.State["runs"])
				rc.State["runs"] = len(seen)
				return ev(ctx, rc)
			}}
	}
	run(t, p, res(0, 5))
	info := run(t, p, res(0, 8))
	if start != "2024-01-01T02:00:00Z" {
		t.Errorf("second run started at %v, want the initial value", start)
	}
	if info.Rows["events"] != 7 { // 02..08
		t.Errorf("second run rows = %d, want 7", info.Rows["events"])
	}
	if n := count(t, openDB(t, p), `SELECT count(*) FROM replace_inc_dataset.events`); n != 7 {
		t.Errorf("stored rows = %d, want 7", n)
	}
	if seen[1] != nil {
		t.Errorf("the second run saw the first run's state %v", seen[1])
	}
}

// As dlt's extract, a resource that yields nothing adds no table, and does
// not change a stored table's hints.
func TestEmptyResourceAddsNoTable(t *testing.T) {
	p := newTestPipeline(t, "empty_res")
	empty := &Resource{Name: "quiet", WriteDisposition: "merge", PrimaryKey: []string{"id"}, Records: records()}
	run(t, p, empty, &Resource{Name: "events", Records: records(map[string]any{"id": int64(1)})})
	s, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if s.Table("quiet") != nil {
		t.Error("the empty resource's table is in the schema")
	}
	run(t, p, &Resource{Name: "events", WriteDisposition: "replace", Records: records()})
	if s, err = p.Schema(); err != nil {
		t.Fatal(err)
	}
	if wd := s.Table("events").WriteDisposition; wd != "replace" {
		t.Errorf("a replace run without records left write disposition %q", wd)
	}
	if n := count(t, openDB(t, p), `SELECT count(*) FROM empty_res_dataset.events`); n != 0 {
		t.Errorf("the empty replace run left %d rows", n)
	}
	run(t, p, &Resource{Name: "events", WriteDisposition: "merge", PrimaryKey: []string{"id"}, Records: records()})
	if s, err = p.Schema(); err != nil {
		t.Fatal(err)
	}
	if wd := s.Table("events").WriteDisposition; wd != "replace" {
		t.Errorf("a merge run without records changed the write disposition to %q", wd)
	}
}
