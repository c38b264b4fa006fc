package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

func pipelineWith(t *testing.T, name string, fileMaxRows int64, hooks *Hooks) *Pipeline {
	t.Helper()
	dir := t.TempDir()
	p, err := New(Options{Name: name, PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), FileMaxRows: fileMaxRows, Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dump is a table's columns (name and type, in order) and its rows in a
// fixed order, without the columns that are random per load.
func dump(t *testing.T, db *sql.DB, dataset, table string) string {
	t.Helper()
	rows, err := db.Query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, dataset, table)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", name, typ)
		switch name {
		case "_dlt_id", "_dlt_load_id", "_dlt_parent_id", "_dlt_root_id":
		default:
			cols = append(cols, `"`+name+`"::VARCHAR`)
		}
	}
	_ = rows.Close()
	q := `SELECT concat_ws('|', ` + strings.Join(cols, ", ") + `) AS r FROM "` + dataset + `"."` + table + `" ORDER BY r`
	data, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer func() { _ = data.Close() }()
	for data.Next() {
		var r string
		if err := data.Scan(&r); err != nil {
			t.Fatal(err)
		}
		b.WriteString(r + "\n")
	}
	return b.String()
}

// Files that close while the package is still being normalized are loaded
// into the open load transaction; the tables come out exactly as when the
// whole package is loaded at the end: same columns in the same order (the
// schema grows between files), same types (a variant column appears
// mid-package), same rows, child tables included.
func TestEarlyLoadKeepsTheTables(t *testing.T) {
	docs := []string{
		`{"id": 1, "title": "one"}`,
		`{"id": 2, "title": "two", "labels": [{"name": "bug"}]}`,
		`{"id": 3, "title": "three", "score": 1.5, "labels": [{"name": "ui"}, {"name": "docs", "color": "red"}]}`,
		`{"id": 4, "user": {"login": "ann", "id": 7}, "tags": ["a", "b"]}`,
		`{"id": 5, "score": "high", "title": null}`,
		`{"id": 6, "title": "six", "created_at": "2024-05-01T10:00:00Z"}`,
		`{"id": 7, "user": {"login": "bob", "site_admin": true}, "tags": ["c"]}`,
	}
	var mu sync.Mutex
	early := map[string]int{}
	hooks := &Hooks{EarlyLoad: func(table, _ string) {
		mu.Lock()
		early[table]++
		mu.Unlock()
	}}
	res := func() *Resource { return &Resource{Name: "issues", Records: records(jsonRecords(t, docs...)...)} }
	rotated := pipelineWith(t, "rot", 1, hooks)
	whole := pipelineWith(t, "rot", -1, nil)
	for range 2 { // a second package appends to tables that exist
		run(t, rotated, res())
		run(t, whole, res())
	}
	if early["issues"] < 10 || early["issues__labels"] < 2 || early["issues__tags"] < 2 {
		t.Errorf("files loaded early: %v; with one row per file most should be", early)
	}
	a, b := openDB(t, rotated), openDB(t, whole)
	for _, table := range []string{"issues", "issues__labels", "issues__tags"} {
		if got, want := dump(t, a, "rot_dataset", table), dump(t, b, "rot_dataset", table); got != want {
			t.Errorf("%s loaded early:\n%s\nloaded at the end:\n%s", table, got, want)
		}
	}
	if n := count(t, a, `SELECT count(*) FROM rot_dataset._dlt_loads`); n != 2 {
		t.Errorf("loads = %d, want 2", n)
	}
}

// With a file per row, a table has more than ten files: merge's "last
// record wins" must follow the order they were written in (file 10 after
// file 9), not the order of their names.
func TestMergeLastRecordWinsOverManyFiles(t *testing.T) {
	var docs []string
	for i := range 12 {
		docs = append(docs, fmt.Sprintf(`{"id": 1, "version": %d, "labels": [{"name": "v%d"}]}`, i, i))
	}
	p := pipelineWith(t, "many", 1, nil)
	run(t, p, &Resource{Name: "issues", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(jsonRecords(t, docs...)...)})
	db := openDB(t, p)
	var version int64
	if err := db.QueryRow(`SELECT version FROM many_dataset.issues WHERE id = 1`).Scan(&version); err != nil || version != 11 {
		t.Errorf("version = %d (%v), want 11: the last record", version, err)
	}
	var label string
	if err := db.QueryRow(`SELECT name FROM many_dataset.issues__labels`).Scan(&label); err != nil || label != "v11" {
		t.Errorf("label = %q (%v), want v11", label, err)
	}
}

// A package with a replaced table is loaded at the end (replace deletes
// first): nothing goes in early, and the result is the replacement only.
func TestReplaceIsNotLoadedEarly(t *testing.T) {
	var n int
	var mu sync.Mutex
	p := pipelineWith(t, "repl", 1, &Hooks{EarlyLoad: func(string, string) { mu.Lock(); n++; mu.Unlock() }})
	docs := jsonRecords(t, `{"id": 1}`, `{"id": 2}`, `{"id": 3}`)
	run(t, p, &Resource{Name: "items", Records: records(docs...)})
	early := n
	run(t, p, &Resource{Name: "items", WriteDisposition: schema.Replace, Records: records(docs[:2]...)})
	if n != early {
		t.Errorf("a replace package loaded %d files early", n-early)
	}
	if got := count(t, openDB(t, p), `SELECT count(*) FROM repl_dataset.items`); got != 2 {
		t.Errorf("items = %d, want 2", got)
	}
}

// A data error after some files were loaded early leaves nothing: the
// open transaction is rolled back with the package.
func TestEarlyLoadRolledBackOnBadData(t *testing.T) {
	var n int
	var mu sync.Mutex
	p := pipelineWith(t, "bad", 1, &Hooks{EarlyLoad: func(string, string) { mu.Lock(); n++; mu.Unlock() }})
	run(t, p, &Resource{Name: "items", Records: records(jsonRecords(t, `{"id": 0}`)...)})
	before := n
	recs := jsonRecords(t, `{"id": 1}`, `{"id": 2}`, `{"id": 3}`, `{"id": 4}`)
	_, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(append(recs, jsonx.Raw(`{"id": `))...)})
	if err == nil {
		t.Fatal("bad record accepted")
	}
	if n == before {
		t.Errorf("no file was loaded early before the bad record; the test does not test the rollback")
	}
	if got := count(t, openDB(t, p), `SELECT count(*) FROM bad_dataset.items`); got != 1 {
		t.Errorf("items = %d, want 1: nothing of the failed package may stay", got)
	}
}

// dlt's normalize.data_writer.file_max_items turns rotation (and early
// loading) on, 0 means no limit as in dlt, and a value that is not a
// whole number is refused by name.
func TestFileMaxItemsSetting(t *testing.T) {
	for _, tc := range []struct {
		value   string
		early   bool
		wantErr string
	}{
		{"", false, ""},
		{"2", true, ""},
		{"abc", false, "normalize.data_writer.file_max_items must be a whole number of rows (0: no limit), not abc"},
		{"-3", false, "normalize.data_writer.file_max_items must be a whole number"},
		{"0", false, ""}, // no limit, as in dlt
	} {
		t.Run(tc.value, func(t *testing.T) {
			env := map[string]string{}
			if tc.value != "" {
				env["NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS"] = tc.value
			}
			r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
			var n int
			var mu sync.Mutex
			dir := t.TempDir()
			p, err := New(Options{Name: "fmi", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r,
				Hooks: &Hooks{EarlyLoad: func(string, string) { mu.Lock(); n++; mu.Unlock() }}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonRecords(t, `{"id": 1}`, `{"id": 2}`, `{"id": 3}`, `{"id": 4}`, `{"id": 5}`)...)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (n > 0) != tc.early {
				t.Errorf("files loaded early: %d, want early=%v", n, tc.early)
			}
			if got := count(t, openDB(t, p), `SELECT count(*) FROM fmi_dataset.items`); got != 5 {
				t.Errorf("items = %d, want 5", got)
			}
		})
	}
}
