package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination/filesystem"
	"github.com/dlthub/dlthub/internal/schema"
)

func fsPipeline(t *testing.T, format string) (*Pipeline, string) {
	t.Helper()
	dir := t.TempDir()
	bucket := filepath.Join(dir, "bucket")
	env := map[string]string{"DESTINATION__LAKE__DESTINATION_TYPE": "filesystem", "DESTINATION__LAKE__BUCKET_URL": "file://" + bucket}
	if format != "" {
		env["DESTINATION__LAKE__LOADER_FILE_FORMAT"] = format
	}
	r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
	p, err := New(Options{Name: "files", Destination: "lake", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: filepath.Join(dir, "data"), Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	return p, bucket
}

func TestFilesystemDestination(t *testing.T) {
	for _, format := range []string{"", "jsonl"} {
		t.Run("format="+format, func(t *testing.T) {
			p, bucket := fsPipeline(t, format)
			ext := "parquet"
			if format != "" {
				ext = format
			}
			recs := jsonRecords(t, `{"id": 1, "tags": ["a", "b"]}`, `{"id": 2, "tags": ["c"]}`)
			info := run(t, p, &Resource{Name: "items", Records: records(recs...)})
			run(t, p, &Resource{Name: "items", Records: records(recs...)})
			ds := filepath.Join(bucket, "files_dataset")
			file := filepath.Join(ds, "items", info.LoadID()+".0."+ext)
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("layout <dataset>/<table>/<load_id>.<file_id>.<ext>: %v", err)
			}
			c, err := filesystem.Open(bucket, "files_dataset", format)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			tables, _ := c.Tables()
			if strings.Join(tables, ",") != "_dlt_loads,_dlt_pipeline_state,_dlt_version,items,items__tags" {
				t.Errorf("tables %v", tables)
			}
			reader := "read_parquet"
			if ext == "jsonl" {
				reader = "read_json_auto"
			}
			n := count(t, c.DB(), `SELECT count(*) FROM `+reader+`('`+filepath.Join(ds, "items")+`/*.`+ext+`')`)
			if n != 4 {
				t.Errorf("appended rows = %d", n)
			}
			if n := count(t, c.DB(), `SELECT count(*) FROM read_json_auto('`+filepath.Join(ds, "_dlt_loads")+`/*.jsonl')`); n != 2 {
				t.Errorf("_dlt_loads rows = %d", n)
			}
			run(t, p, &Resource{Name: "items", WriteDisposition: schema.Replace, Records: records(recs[0])})
			if n := count(t, c.DB(), `SELECT count(*) FROM `+reader+`('`+filepath.Join(ds, "items")+`/*.`+ext+`')`); n != 1 {
				t.Errorf("replaced rows = %d", n)
			}
			if n := count(t, c.DB(), `SELECT count(*) FROM `+reader+`('`+filepath.Join(ds, "items__tags")+`/*.`+ext+`')`); n != 2 {
				t.Errorf("replaced child rows = %d", n)
			}
			_, err = p.Run(context.Background(), &Resource{Name: "items", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(recs...)})
			if err == nil || !strings.Contains(err.Error(), "supports append and replace, not merge") {
				t.Errorf("merge: %v", err)
			}
		})
	}
}

func TestFilesystemRestoresState(t *testing.T) {
	p, _ := fsPipeline(t, "")
	res := func(to int) *Resource {
		return &Resource{Name: "events", Incremental: &Incremental{CursorPath: "updated_at"}, Records: events(0, to, nil)}
	}
	run(t, p, res(3))
	if err := os.RemoveAll(p.WorkDir()); err != nil {
		t.Fatal(err)
	}
	p2, err := New(p.opts)
	if err != nil {
		t.Fatal(err)
	}
	if info := run(t, p2, res(5)); info.Rows["events"] != 2 {
		t.Errorf("after restore: %d rows, want 2", info.Rows["events"])
	}
}

// dlt's layout setting is refused unless it is the default the destination
// writes: the files would land elsewhere than where dlt puts them.
func TestFilesystemLayoutSetting(t *testing.T) {
	for layout, wantErr := range map[string]string{
		filesystem.Layout:                            "",
		"{table_name}/{YYYY}/{load_id}.{ext}":        `layout = "{table_name}/{YYYY}/{load_id}.{ext}"`,
		"{schema_name}/{table_name}.{load_id}.{ext}": "default layout {table_name}/{load_id}.{file_id}.{ext}",
	} {
		p, bucket := fsPipeline(t, "")
		env := map[string]string{"DESTINATION__LAKE__DESTINATION_TYPE": "filesystem", "DESTINATION__LAKE__BUCKET_URL": "file://" + bucket, "DESTINATION__LAKE__LAYOUT": layout}
		p.opts.Resolver = &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
		_, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonRecords(t, `{"id": 1}`)...)})
		if wantErr == "" {
			if err != nil {
				t.Errorf("layout %q: %v", layout, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("layout %q: err = %v, want %q", layout, err, wantErr)
		}
		if _, statErr := os.Stat(filepath.Join(bucket, "files_dataset", "items")); statErr == nil {
			t.Errorf("layout %q: files written though the run was refused", layout)
		}
	}
}
