package declarative

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
