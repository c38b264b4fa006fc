package dlt_test

import (
	"context"
	"database/sql"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/dlt"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
)

// TestPipelineInWorkspace runs an SDK pipeline inside a workspace: a named
// destination from the profile's config, the DuckDB file in the profile's
// local dir, the working dir in its data dir.
func TestPipelineInWorkspace(t *testing.T) {
	ws := t.TempDir()
	for name, body := range map[string]string{
		".dlt/.workspace":       "",
		".dlt/dev.config.toml":  "[destination.warehouse]\ndestination_type = \"duckdb\"\n",
		".dlt/prod.config.toml": "[destination.warehouse]\ndestination_type = \"postgres\"\n",
	} {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := dlt.NewPipeline(dlt.Options{Name: "sdk", Destination: "warehouse", Dir: ws})
	if err != nil {
		t.Fatal(err)
	}
	type issue struct {
		ID     int64    `json:"id"`
		Title  string   `json:"title"`
		Labels []string `json:"labels"`
	}
	items := func(yield func(issue) bool) {
		for i := range int64(3) {
			if !yield(issue{ID: i, Title: "t", Labels: []string{"a"}}) {
				return
			}
		}
	}
	info, err := p.Run(context.Background(), &dlt.Resource{
		Name: "issues", WriteDisposition: dlt.Merge, PrimaryKey: []string{"id"},
		Records: dlt.FromSeq(iter.Seq[issue](items)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows["issues"] != 3 || info.Rows["issues__labels"] != 3 || info.LoadID() == "" {
		t.Errorf("info %+v", info)
	}
	path, _ := p.DatabasePath()
	if path != filepath.Join(ws, ".dlt", "data", "dev", "sdk.duckdb") {
		t.Errorf("database at %s", path)
	}
	if _, err := os.Stat(filepath.Join(ws, ".dlt", "state", "dev", "pipelines", "sdk", "state.json")); err != nil {
		t.Errorf("working dir: %v", err)
	}
	c, err := duckdb.Open(path, p.Dataset())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	var n int
	if err := c.DB().QueryRow(`SELECT count(*) FROM sdk_dataset.issues`).Scan(&n); err != nil || n != 3 {
		t.Errorf("rows %d %v", n, err)
	}
	_ = sql.ErrNoRows
	// prod resolves warehouse to postgres: without credentials the run
	// fails naming the keys it looked for.
	pp, err := dlt.NewPipeline(dlt.Options{Name: "sdk", Destination: "warehouse", Dir: ws, Profile: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pp.Run(context.Background(), &dlt.Resource{Name: "x", Records: dlt.Static()})
	if err == nil || !strings.Contains(err.Error(), "destination.warehouse.credentials") {
		t.Errorf("prod run: %v", err)
	}
}
