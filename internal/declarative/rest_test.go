package declarative

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// A REST pipeline that merges on a primary key set in resource_defaults
// (the shape `pipeline init rest_api` writes) or on the resource keeps one
// row per key across runs: the later hint passes (contract, nesting,
// columns) must not reset the keys.
func TestRESTMergeKeepsPrimaryKey(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id": 1, "title": "a", "labels": [{"name": "x"}]}, {"id": 2, "title": "b", "labels": []}]`)
	}))
	defer api.Close()
	for name, body := range map[string]string{
		"defaults": `
[source.resource_defaults]
primary_key = "id"
write_disposition = "merge"
max_table_nesting = 2
[[source.resources]]
name = "issues"
endpoint = { path = "issues" }
columns = { title = { data_type = "text" } }
`,
		"resource": `
[[source.resources]]
name = "issues"
primary_key = "id"
write_disposition = "merge"
endpoint = { path = "issues" }
schema_contract = "evolve"
`,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeSpec(t, root, "api", fmt.Sprintf("[pipeline]\ndestination = \"duckdb\"\n[source]\ntype = \"rest_api\"\n[source.client]\nbase_url = %q\npaginator = \"single_page\"\n%s", api.URL+"/", body))
			spec, err := Load(root, "api")
			if err != nil {
				t.Fatal(err)
			}
			r := &config.Resolver{}
			res, err := spec.Resources(root, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || len(res[0].PrimaryKey) != 1 || res[0].PrimaryKey[0] != "id" || res[0].WriteDisposition != "merge" {
				t.Fatalf("hints: %+v", res[0])
			}
			for run := 1; run <= 2; run++ {
				res, _ := spec.Resources(root, r)
				p, err := pipeline.New(pipeline.Options{Name: "api", PipelinesDir: filepath.Join(root, "p"), LocalDir: root, Resolver: r})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Run(context.Background(), res...); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			db, err := sql.Open("duckdb", filepath.Join(root, "api.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			var rows, labels int
			if err := db.QueryRow(`SELECT count(*) FROM api_dataset.issues`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT count(*) FROM api_dataset.issues__labels`).Scan(&labels); err != nil {
				t.Fatal(err)
			}
			if rows != 2 || labels != 1 {
				t.Errorf("after two runs: %d issues, %d labels; want 2 and 1 (merged, not appended)", rows, labels)
			}
		})
	}
}

// dlt's dict form of write_disposition, with the scd2 strategy's options,
// keeps history in the named validity columns. It used to be read as no
// write disposition at all: every run appended.
func TestRESTWriteDispositionDict(t *testing.T) {
	title := "a"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"id": 1, "title": %q}, {"id": 2, "title": "b"}]`, title)
	}))
	defer api.Close()
	root := t.TempDir()
	writeSpec(t, root, "api", fmt.Sprintf(`[pipeline]
destination = "duckdb"
[source]
type = "rest_api"
[source.client]
base_url = %q
paginator = "single_page"
[[source.resources]]
name = "issues"
endpoint = { path = "issues" }
write_disposition = { disposition = "merge", strategy = "scd2", validity_column_names = ["from_ts", "to_ts"], active_record_timestamp = 9999-12-31 }
columns = { title = { data_type = "text", nullable = false, description = "the title" } }
`, api.URL+"/"))
	spec, err := Load(root, "api")
	if err != nil {
		t.Fatal(err)
	}
	r := &config.Resolver{}
	for _, v := range []string{"a", "a", "c"} {
		title = v
		res, err := spec.Resources(root, r)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pipeline.New(pipeline.Options{Name: "api", PipelinesDir: filepath.Join(root, "p"), LocalDir: root, Resolver: r})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(context.Background(), res...); err != nil {
			t.Fatalf("run with title %s: %v", v, err)
		}
	}
	db, err := sql.Open("duckdb", filepath.Join(root, "api.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var rows, current, retired int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE to_ts = TIMESTAMPTZ '9999-12-31 00:00:00+00'), count(*) FILTER (WHERE to_ts = from_ts OR to_ts < TIMESTAMPTZ '9999-01-01 00:00:00+00') FROM api_dataset.issues`).Scan(&rows, &current, &retired); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || current != 2 || retired != 1 {
		t.Errorf("after three runs: %d versions, %d current, %d retired; want 3, 2 and 1", rows, current, retired)
	}
}

// Hints dlt would not understand, or the engine does not implement, are
// refused with the file and key instead of being dropped.
func TestHintsRefused(t *testing.T) {
	for want, body := range map[string]string{
		"unknown key columns.title.primary_kye (did you mean columns.title.primary_key?)": `columns = { title = { primary_kye = true } }`,
		"columns.title.data_type str is not one of dlt's data types":                      `columns = { title = { data_type = "str" } }`,
		"columns.title.nullable must be true or false":                                    `columns = { title = { nullable = "no" } }`,
		"columns.title.precision must be a whole number":                                  `columns = { title = { precision = 1.5 } }`,
		`columns.title.dedup_sort must be "asc" or "desc"`:                                `columns = { title = { dedup_sort = "up" } }`,
		"write_disposition.row_version_column_name is not implemented":                    `write_disposition = { disposition = "merge", strategy = "scd2", row_version_column_name = "v" }`,
		"write_disposition.validity_column_names applies to the scd2 strategy":            `write_disposition = { disposition = "merge", validity_column_names = ["a", "b"] }`,
		`merge_strategy "upsert" and write_disposition's strategy "scd2" disagree`:        `write_disposition = { disposition = "merge", strategy = "scd2" }` + "\nmerge_strategy = \"upsert\"",
		`unknown write_disposition "merged"`:                                              `write_disposition = "merged"`,
	} {
		root := t.TempDir()
		writeSpec(t, root, "api", `[source]
type = "rest_api"
[source.client]
base_url = "http://127.0.0.1:1/"
[[source.resources]]
name = "issues"
`+body+"\n")
		spec, err := Load(root, "api")
		if err == nil {
			_, err = spec.Resources(root, &config.Resolver{})
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "pipelines/api.toml") {
			t.Errorf("%s: error %v, want one naming pipelines/api.toml and saying %q", body, err, want)
		}
	}
}

// A record cursor's dlt settings reach the resource: lag was accepted and
// then ignored, so a lagged cursor read nothing again.
func TestIncrementalSettingsRead(t *testing.T) {
	root := t.TempDir()
	writeSpec(t, root, "files", `[source]
type = "filesystem"
bucket_url = "data"
incremental = { cursor_path = "ts", lag = 3600, last_value_func = "max", on_cursor_value_missing = "exclude", range_start = "open", range_end = "closed", initial_value = "2024-01-01T00:00:00Z" }
`)
	spec, err := Load(root, "files")
	if err != nil {
		t.Fatal(err)
	}
	res, err := spec.Resources(root, &config.Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	inc := res[0].Incremental
	if inc == nil || inc.CursorPath != "ts" || inc.Lag != 3600 || inc.LastValueFunc != "max" || inc.OnCursorValueMissing != "exclude" ||
		inc.RangeStart != "open" || inc.RangeEnd != "closed" || inc.InitialValue != "2024-01-01T00:00:00Z" {
		t.Errorf("incremental %+v", inc)
	}
	writeSpec(t, root, "bad", `[source]
type = "filesystem"
bucket_url = "data"
incremental = { cursor_path = "ts", lag = "1h" }
`)
	spec, err = Load(root, "bad")
	if err == nil {
		_, err = spec.Resources(root, &config.Resolver{})
	}
	if err == nil || !strings.Contains(err.Error(), "source.incremental.lag must be a number") {
		t.Errorf("a lag as text: %v", err)
	}
}
