package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/loadpackage"
)

// TestLoaderFileFormat: dlt's loader_file_format picks the job files when
// the destination reads that format (DuckDB: parquet or csv); dlt's other
// names mean the fastest format, and names dlt does not know are refused.
func TestLoaderFileFormat(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"", "parquet"}, {"parquet", "parquet"}, {"csv", "csv"}, {"insert_values", "parquet"}, {"jsonl", "parquet"}, {"bogus", ""},
	} {
		t.Run("format="+tc.format, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DESTINATION__WAREHOUSE__DESTINATION_TYPE": "duckdb"}
			if tc.format != "" {
				env["DESTINATION__WAREHOUSE__LOADER_FILE_FORMAT"] = tc.format
			}
			r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
			p, err := New(Options{Name: "formats", Destination: "warehouse", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: filepath.Join(dir, "data"), Resolver: r})
			if err != nil {
				t.Fatal(err)
			}
			res := &Resource{Name: "items", Records: records(jsonRecords(t, `{"id": 1, "tags": ["a", "b"]}`)...)}
			if tc.want == "" {
				if _, err := p.Run(t.Context(), res); err == nil || !strings.Contains(err.Error(), `unknown loader_file_format "bogus"`) {
					t.Fatalf("got %v, want the unknown format named", err)
				}
				return
			}
			info := run(t, p, res)
			jobs, err := loadpackage.Jobs(filepath.Join(p.WorkDir(), loadpackage.LoadedDir, info.LoadID(), loadpackage.NewJobs))
			if err != nil || len(jobs) != 2 {
				t.Fatalf("jobs %v, %v", jobs, err)
			}
			for _, j := range jobs {
				if j.Format != tc.want {
					t.Errorf("%s: want %s job files", filepath.Base(j.Path), tc.want)
				}
			}
			if info.Rows["items"] != 1 || info.Rows["items__tags"] != 2 {
				t.Errorf("rows %v", info.Rows)
			}
			if _, err := os.Stat(filepath.Join(dir, "data", "formats.duckdb")); err != nil {
				t.Error(err)
			}
		})
	}
}
