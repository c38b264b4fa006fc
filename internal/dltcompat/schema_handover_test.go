package dltcompat

import (
	"context"
	"database/sql"
	"encoding/json"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/python/pythontest"
)

// sourceScript runs a dlt source with a source-level contract and nesting
// (dlt keeps both in the schema, not on the table) and hints the engine
// does not model (a table reference, a column's partition and an x- hint
// of the user's), and an incremental cursor on id, into hand.duckdb in the
// working directory.
const sourceScript = `
import json, sys
import dlt

@dlt.source(schema_contract={"columns": "freeze"}, max_table_nesting=1)
def src(recs):
    @dlt.resource(references=[{"referenced_table": "other", "columns": ["id"], "referenced_columns": ["id"]}],
                  columns={"v": {"partition": True, "x-custom": {"k": 1}}})
    def items(cursor=dlt.sources.incremental("id")):
        yield recs
    return items

p = dlt.pipeline("hand", destination="duckdb", dataset_name="data", pipelines_dir=sys.argv[1])
p.run(src(json.loads(sys.argv[2])))
`

// A pipeline dlt made from a source with its own contract and nesting,
// continued by the engine: the engine applies the source's contract and
// nesting it finds in the stored schema (they governed no table before, so
// a new column went in and a deep list became a table dlt never makes),
// writes back the hints it does not model (it dropped them), and dlt then
// loads on from the engine's schema.
func TestSchemaSettingsHandedOver(t *testing.T) {
	py := pythontest.Find(t)
	dir := t.TempDir()
	dlt := func(recs string) {
		t.Helper()
		cmd := exec.Command(py.Python, "-c", sourceScript, filepath.Join(dir, "dlt"), recs)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dlt: %v\n%s", err, out)
		}
	}
	dlt(`[{"id": 1, "v": "a", "l": [{"x": [1, 2]}]}]`)

	p, err := pipeline.New(pipeline.Options{Name: "hand", Destination: "duckdb", Dataset: "data",
		PipelinesDir: filepath.Join(dir, "engine"), LocalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	items := func(docs ...string) *pipeline.Resource {
		return &pipeline.Resource{Name: "items", Incremental: &pipeline.Incremental{CursorPath: "id"}, Records: func(context.Context, *pipeline.ResourceContext) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				for _, d := range docs {
					if !yield(jsonx.Raw(d), nil) {
						return
					}
				}
			}
		}}
	}
	ctx := context.Background()
	// id 1 is dlt's cursor: the engine finds it in the source's state
	if _, err := p.Run(ctx, items(`{"id": 1, "v": "a", "l": [{"x": [1, 2]}]}`, `{"id": 2, "v": "b", "l": [{"x": [3]}]}`)); err != nil {
		t.Fatalf("engine run: %v", err)
	}
	if _, err := p.Run(ctx, items(`{"id": 3, "v": "c", "extra": 1}`)); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("a new column under the source's frozen columns: %v, want a contract error naming it", err)
	}

	db, err := sql.Open("duckdb", filepath.Join(dir, "hand.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	var ones int
	if err := db.QueryRow(`SELECT count(*) FROM data.items WHERE id = 1`).Scan(&ones); err != nil {
		t.Fatal(err)
	}
	if ones != 1 {
		t.Errorf("%d rows of id 1: the engine did not find dlt's cursor in the source's state", ones)
	}
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'data' AND table_name = 'items__l__x'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Error("the engine made items__l__x: the source's max_table_nesting = 1 keeps x as json in items__l")
	}
	var stored string
	if err := db.QueryRow(`SELECT schema FROM data._dlt_version ORDER BY inserted_at DESC LIMIT 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	var doc struct {
		Settings struct {
			Contract map[string]string `json:"schema_contract"`
		} `json:"settings"`
		Normalizers struct {
			JSON struct {
				Config struct {
					MaxNesting *int `json:"max_nesting"`
				} `json:"config"`
			} `json:"json"`
		} `json:"normalizers"`
		Tables map[string]struct {
			References []any                     `json:"references"`
			Columns    map[string]map[string]any `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(stored), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Settings.Contract["columns"] != "freeze" {
		t.Errorf("settings.schema_contract written back as %v", doc.Settings.Contract)
	}
	if n := doc.Normalizers.JSON.Config.MaxNesting; n == nil || *n != 1 {
		t.Errorf("normalizers.json.config.max_nesting written back as %v", n)
	}
	v := doc.Tables["items"].Columns["v"]
	if len(doc.Tables["items"].References) != 1 || v["partition"] != true || v["x-custom"] == nil {
		t.Errorf("the engine's schema lost dlt's hints: references %v, column v %v", doc.Tables["items"].References, v)
	}
	// dlt loads on from the schema the engine stored.
	dlt(`[{"id": 4, "v": "d", "l": [{"x": [4]}]}]`)
}
