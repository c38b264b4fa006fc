package pipeline

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

func run(t *testing.T, p *Pipeline, r ...*Resource) *LoadInfo {
	t.Helper()
	info, err := p.Run(context.Background(), r...)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestAppendAndReplace(t *testing.T) {
	p := newTestPipeline(t, "disp")
	recs := jsonRecords(t, `{"id": 1, "tags": ["a", "b"]}`, `{"id": 2, "tags": ["c"]}`)
	run(t, p, &Resource{Name: "items", Records: records(recs...)})
	run(t, p, &Resource{Name: "items", Records: records(recs...)})
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM disp_dataset.items`); n != 4 {
		t.Errorf("append: %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM disp_dataset.items__tags`); n != 6 {
		t.Errorf("append children: %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM disp_dataset.items__tags WHERE value = 'c' AND _dlt_list_idx = 0`); n != 2 {
		t.Errorf("scalar list value column: %d", n)
	}
	run(t, p, &Resource{Name: "items", WriteDisposition: schema.Replace, Records: records(recs[1])})
	if n := count(t, db, `SELECT count(*) FROM disp_dataset.items`); n != 1 {
		t.Errorf("replace: %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM disp_dataset.items__tags`); n != 1 {
		t.Errorf("replace children: %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM disp_dataset._dlt_loads`); n != 3 {
		t.Errorf("_dlt_loads: %d", n)
	}
}

func TestMergeByPrimaryKey(t *testing.T) {
	p := newTestPipeline(t, "merge")
	res := func(docs ...string) *Resource {
		return &Resource{Name: "issues", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(jsonRecords(t, docs...)...)}
	}
	first := []string{
		`{"id": 1, "title": "one", "labels": [{"name": "bug"}, {"name": "ui"}]}`,
		`{"id": 2, "title": "two", "labels": [{"name": "docs"}]}`,
	}
	run(t, p, res(first...))
	run(t, p, res(first...)) // same records again: still one copy
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM merge_dataset.issues`); n != 2 {
		t.Errorf("after re-load: %d issues", n)
	}
	if n := count(t, db, `SELECT count(*) FROM merge_dataset.issues__labels`); n != 3 {
		t.Errorf("after re-load: %d labels", n)
	}
	// A changed record replaces the old one, child rows included; a
	// duplicate key within one load keeps the last record.
	run(t, p, res(
		`{"id": 1, "title": "one (old)", "labels": []}`,
		`{"id": 1, "title": "one (edited)", "labels": [{"name": "feature"}]}`,
		`{"id": 3, "title": "three"}`,
	))
	if n := count(t, db, `SELECT count(*) FROM merge_dataset.issues`); n != 3 {
		t.Errorf("after update: %d issues", n)
	}
	var title string
	if err := db.QueryRow(`SELECT title FROM merge_dataset.issues WHERE id = 1`).Scan(&title); err != nil || title != "one (edited)" {
		t.Errorf("title = %q, %v", title, err)
	}
	if n := count(t, db, `SELECT count(*) FROM merge_dataset.issues__labels l JOIN merge_dataset.issues i ON l._dlt_root_id = i._dlt_id WHERE i.id = 1`); n != 1 {
		t.Errorf("labels of issue 1: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM merge_dataset.issues__labels`); n != 2 {
		t.Errorf("all labels: %d (old child rows must go)", n)
	}
}

func TestVariantColumns(t *testing.T) {
	p := newTestPipeline(t, "variant")
	run(t, p, &Resource{Name: "events", Records: records(jsonRecords(t,
		`{"n": 1, "s": "x", "ts": "2024-01-02T03:04:05Z"}`,
		`{"n": "not a number", "s": 5, "ts": "2024-01-02T03:04:05.123+02:00"}`,
		`{"n": "42", "s": true}`,
	)...)})
	s, _ := p.Schema()
	tbl := s.Table("events")
	want := map[string]schema.DataType{"n": schema.Bigint, "s": schema.Text, "ts": schema.Timestamp, "n__v_text": schema.Text}
	for name, typ := range want {
		if c := tbl.Column(name); c == nil || c.DataType != typ {
			t.Errorf("column %s: %+v, want %s", name, c, typ)
		}
	}
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM variant_dataset.events WHERE n = 42`); n != 1 {
		t.Errorf("text coerced into bigint: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM variant_dataset.events WHERE s = 'True' OR s = '5'`); n != 2 {
		t.Errorf("values coerced into text: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM variant_dataset.events WHERE n__v_text = 'not a number'`); n != 1 {
		t.Errorf("variant: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM variant_dataset.events WHERE ts = TIMESTAMPTZ '2024-01-02 01:04:05.123+00'`); n != 1 {
		t.Errorf("timestamp with offset: %d", n)
	}
}

// A frozen (or discarded) tables contract governs the resource's own
// table too, as in dlt.
func TestContractOnANewTable(t *testing.T) {
	p := newTestPipeline(t, "newtable")
	frozen, _ := schema.ParseContract(schema.Freeze)
	_, err := p.Run(context.Background(), &Resource{Name: "items", Contract: frozen, Records: records(jsonRecords(t, `{"id": 1}`)...)})
	if err == nil || !strings.Contains(err.Error(), "tables") {
		t.Errorf("frozen tables, new table: %v", err)
	}
	discard, _ := schema.ParseContract(map[string]any{"tables": schema.DiscardRow})
	if _, err := p.Run(context.Background(), &Resource{Name: "items", Contract: discard, Records: records(jsonRecords(t, `{"id": 1}`)...)}); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.Schema(); s != nil && s.Table("items") != nil {
		t.Error("a discarded new table was created")
	}
}

func TestContracts(t *testing.T) {
	base := `{"id": 1, "name": "a"}`
	withNew := `{"id": 2, "name": "b", "extra": "x"}`
	wrongType := `{"id": "three", "name": "c"}`
	for _, tc := range []struct {
		mode        string
		second      []string
		wantErr     string
		wantRows    int64
		wantColumns []string
	}{
		{schema.Freeze, []string{withNew}, `table "items" column "extra"`, 1, []string{"id", "name"}},
		{schema.Freeze, []string{wrongType}, `table "items" column "id"`, 1, nil},
		{schema.DiscardRow, []string{withNew, `{"id": 3, "name": "kept"}`}, "", 2, []string{"id", "name"}},
		{schema.DiscardValue, []string{withNew}, "", 2, []string{"id", "name"}},
		{schema.DiscardRow, []string{wrongType}, "", 1, nil},
		{schema.DiscardValue, []string{wrongType}, "", 2, nil},
	} {
		t.Run(tc.mode+"/"+tc.second[0], func(t *testing.T) {
			p := newTestPipeline(t, "contract")
			c, _ := schema.ParseContract(tc.mode)
			mk := func(docs ...string) *Resource {
				return &Resource{Name: "items", Contract: c, Records: records(jsonRecords(t, docs...)...)}
			}
			// The table exists before the contract is set: like dlt, a
			// contract that is not evolve for tables refuses (freeze) or
			// drops (discard) a table that does not exist yet.
			first := mk(base)
			first.Contract = nil
			run(t, p, first)
			_, err := p.Run(context.Background(), mk(tc.second...))
			if tc.wantErr != "" {
				var de *DataError
				if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a DataError naming %s", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			db := openDB(t, p)
			if n := count(t, db, `SELECT count(*) FROM contract_dataset.items`); n != tc.wantRows {
				t.Errorf("rows = %d, want %d", n, tc.wantRows)
			}
			if tc.wantColumns != nil {
				s, _ := p.Schema()
				var data []string
				for _, col := range s.Table("items").Columns {
					if !strings.HasPrefix(col.Name, "_dlt_") {
						data = append(data, col.Name)
					}
				}
				if strings.Join(data, ",") != strings.Join(tc.wantColumns, ",") {
					t.Errorf("columns %v, want %v", data, tc.wantColumns)
				}
			}
			// A failed package is not left behind to block the next run.
			if _, err := p.Run(context.Background(), mk(base)); err != nil {
				t.Errorf("next run: %v", err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	p := newTestPipeline(t, "bad")
	run(t, p, &Resource{Name: "rows", Records: records(jsonRecords(t, `{"a": 1}`)...)})
	// A list is a page of records and a record that is not an object is
	// wrapped, as dlt does: [1, 2] loads two rows {"value": 1}, {"value": 2}.
	run(t, p, &Resource{Name: "rows", Records: records(jsonRecords(t, `{"a": 2}`, `[1, 2]`)...)})
	// Malformed JSON names the record's position.
	_, err := p.Run(context.Background(), &Resource{Name: "rows", Records: records(jsonx.Raw(`{"a": 3}`), jsonx.Raw(`{"a": 4}`), jsonx.Raw(`{"a": `))})
	if err == nil || !strings.Contains(err.Error(), `resource "rows" record 2: invalid JSON at byte 6`) {
		t.Fatalf("err = %v", err)
	}
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM bad_dataset."rows"`); n != 4 {
		t.Errorf("rows = %d: nothing of a failed package may be loaded", n)
	}
	if n := count(t, db, `SELECT count(*) FROM bad_dataset."rows" WHERE value IN (1, 2)`); n != 2 {
		t.Errorf("the page's rows = %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM bad_dataset._dlt_loads`); n != 2 {
		t.Errorf("loads = %d", n)
	}
	entries, _ := os.ReadDir(p.WorkDir() + "/normalize/extracted")
	if len(entries) != 0 {
		t.Errorf("failed packages left behind: %v", entries)
	}
}
