package conformance

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/pipeline"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func envResolver(env map[string]string) *config.Resolver {
	return &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
}

func countSQL(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "No files found") {
			return -1
		}
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// oneRowFiles runs a target again with a job file per row: every table's
// files rotate, appended tables' files are loaded while the package is
// still being normalized, and merge orders many files of one table.
func oneRowFiles(tg Target) Target {
	opts := tg.Options
	tg.Name += "/one-row-files"
	tg.Options = func(t *testing.T, name string) pipeline.Options {
		o := opts(t, name)
		o.FileMaxRows = 1
		return o
	}
	return tg
}

func TestDuckDB(t *testing.T) {
	Run(t, duckdbTarget())
}

func TestDuckDBOneRowFiles(t *testing.T) {
	Run(t, oneRowFiles(duckdbTarget()))
}

func TestPostgresOneRowFiles(t *testing.T) {
	Run(t, oneRowFiles(postgresTarget()))
}

func duckdbTarget() Target {
	return Target{
		Name:  "duckdb",
		Merge: true,
		Options: func(t *testing.T, name string) pipeline.Options {
			dir := t.TempDir()
			return pipeline.Options{Name: name, PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d")}
		},
		Count: func(t *testing.T, p *pipeline.Pipeline, table string) int64 {
			path, _ := p.DatabasePath()
			c, err := duckdb.Open(path, p.Dataset())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			return countSQL(t, c.DB(), `SELECT count(*) FROM `+duckdb.Quote(p.Dataset())+`.`+duckdb.Quote(table))
		},
	}
}

func TestFilesystem(t *testing.T) {
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			Run(t, filesystemTarget(format))
		})
		t.Run(format+"/one-row-files", func(t *testing.T) {
			Run(t, oneRowFiles(filesystemTarget(format)))
		})
	}
}

func filesystemTarget(format string) Target {
	return Target{
		Name: "filesystem/" + format,
		Options: func(t *testing.T, name string) pipeline.Options {
			dir := t.TempDir()
			r := envResolver(map[string]string{
				"DESTINATION__FILESYSTEM__BUCKET_URL":         filepath.Join(dir, "bucket"),
				"DESTINATION__FILESYSTEM__LOADER_FILE_FORMAT": format,
			})
			return pipeline.Options{Name: name, Destination: "filesystem", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r}
		},
		Count: func(t *testing.T, p *pipeline.Pipeline, table string) int64 {
			c, err := p.OpenDestination()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			db := c.(interface{ DB() *sql.DB }).DB()
			bucket := filepath.Join(filepath.Dir(p.WorkDir()), "..", "bucket")
			dir := filepath.Join(bucket, p.Dataset(), table)
			if _, err := os.Stat(dir); err != nil {
				return -1
			}
			reader, ext := "read_parquet", "parquet"
			if format == "jsonl" || strings.HasPrefix(table, "_dlt_") {
				reader, ext = "read_json_auto", "jsonl"
			}
			return countSQL(t, db, `SELECT count(*) FROM `+reader+`('`+dir+`/*.`+ext+`')`)
		},
	}
}

func TestPostgres(t *testing.T) {
	Run(t, postgresTarget())
}

func postgresTarget() Target {
	return Target{
		Name:  "postgres",
		Merge: true,
		Options: func(t *testing.T, name string) pipeline.Options {
			url := pgtest.URL(t)
			dir := t.TempDir()
			r := envResolver(map[string]string{
				"DESTINATION__WAREHOUSE__DESTINATION_TYPE": "postgres",
				"DESTINATION__WAREHOUSE__CREDENTIALS":      url,
			})
			return pipeline.Options{Name: name, Destination: "warehouse", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r}
		},
		Count: func(t *testing.T, p *pipeline.Pipeline, table string) int64 {
			c, err := p.OpenDestination()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			conn := c.(interface{ Conn() *pgx.Conn }).Conn()
			var n int64
			err = conn.QueryRow(context.Background(), `SELECT count(*) FROM "`+p.Dataset()+`"."`+table+`"`).Scan(&n)
			if err != nil {
				if strings.Contains(err.Error(), "does not exist") {
					return -1
				}
				t.Fatal(err)
			}
			return n
		},
	}
}
