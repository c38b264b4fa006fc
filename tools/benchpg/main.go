// Command benchpg measures the engine with PostgreSQL, against a throwaway
// server it starts (or DLTHUB_TEST_POSTGRES):
//
//   - jsonl_to_postgres: the engine loads generated GitHub-issue-like JSONL
//     into Postgres (typed columns, labels and assignees child tables); the
//     baseline, in the same run, is a plain COPY of the same rows as CSV
//     (exported from the engine's tables) into tables of the same shape;
//     binary_copy_* is the same with binary COPY, the format of the
//     engine's own job files.
//   - postgres_to_duckdb: the sql_database source reads a table of -pg-rows
//     rows into DuckDB; rows/s and peak RSS (which must not grow with the
//     table). The baseline, in the same run, is the native path without
//     the engine: COPY the table out of PostgreSQL as CSV to a file and
//     read it with DuckDB's read_csv into a table.
//
// Each side runs as a child process so its peak RSS is its own.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/source/sqldb"
)

func main() {
	mode := flag.String("mode", "", "internal: engine-pg, copy-pg, pg-duckdb or copy-duckdb")
	rows := flag.Int("rows", envInt("BENCH_ROWS", 1_000_000), "records for jsonl_to_postgres")
	pgRows := flag.Int("pg-rows", envInt("BENCH_PG_ROWS", 5_000_000), "rows of the table for postgres_to_duckdb")
	file := flag.String("file", os.Getenv("BENCH_FILE"), "JSONL file (default: generate)")
	dir := flag.String("dir", "", "internal: working dir")
	url := flag.String("url", "", "internal: database URL")
	cpuprofile := flag.String("cpuprofile", "", "with -mode engine-pg: write a CPU profile of the engine here (go tool pprof)")
	format := flag.String("format", "csv", "internal: the baseline's COPY format, csv or binary")
	only := flag.String("only", "", "run one benchmark: jsonl_to_postgres or postgres_to_duckdb (default both)")
	flag.Parse()
	var err error
	switch *mode {
	case "engine-pg":
		err = withProfile(*cpuprofile, func() error { return enginePG(*file, *dir, *url) })
	case "copy-pg":
		err = copyPG(*dir, *url, *format)
	case "pg-duckdb":
		err = pgDuckDB(*dir, *url)
	case "copy-duckdb":
		err = copyDuckDB(*dir, *url)
	default:
		switch *only {
		case "", "jsonl_to_postgres", "postgres_to_duckdb":
			err = bench(*rows, *pgRows, *file, *only)
		default:
			err = fmt.Errorf("-only %q: use jsonl_to_postgres or postgres_to_duckdb", *only)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpg:", err)
		os.Exit(1)
	}
}

// withProfile runs fn with a CPU profile written to path (none if empty).
func withProfile(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func child(args ...string) (benchdata.Child, error) { return benchdata.RunSelf(args...) }

func exec1(ctx context.Context, url, q string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(ctx) }()
	_, err = c.Exec(ctx, q)
	return err
}

func bench(rows, pgRows int, file, only string) error {
	ctx := context.Background()
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		stop, url, err := pgtest.Start()
		if err != nil {
			return fmt.Errorf("no PostgreSQL for the benchmark: %w", err)
		}
		defer stop()
		base = url
	}
	work, err := os.MkdirTemp("", "dlthub-benchpg-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()
	if only == "postgres_to_duckdb" {
		file = "-" // not read
	}
	if file == "" {
		file = filepath.Join(work, "issues.jsonl")
		fmt.Fprintf(os.Stderr, "generating %d records\n", rows)
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		if err := benchdata.WriteIssues(f, rows, 42); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		_ = f.Close()
	} else if file != "-" {
		if rows, err = countLines(file); err != nil {
			return err
		}
	}
	for _, db := range []string{"engine", "source"} {
		if err := exec1(ctx, base, "DROP DATABASE IF EXISTS bench_"+db+" WITH (FORCE)"); err != nil {
			return err
		}
		if err := exec1(ctx, base, "CREATE DATABASE bench_"+db); err != nil {
			return err
		}
	}
	dbURL := func(name string) string { return strings.Replace(base, "/postgres?", "/bench_"+name+"?", 1) }
	if only != "postgres_to_duckdb" {
		if err := benchJSONL(rows, file, work, dbURL("engine")); err != nil {
			return err
		}
	}
	if only == "jsonl_to_postgres" {
		return nil
	}
	return benchFromPostgres(ctx, pgRows, work, dbURL("source"))
}

// benchJSONL loads the file with the engine and COPY of the same rows.
func benchJSONL(rows int, file, work, url string) error {
	eng, err := child("-mode", "engine-pg", "-file", file, "-dir", filepath.Join(work, "engine"), "-url", url)
	if err != nil {
		return err
	}
	// The baselines COPY the engine's rows back as PostgreSQL writes them:
	// as CSV (the text every loader and psql's \copy send) and in binary
	// COPY (what the engine's job files hold).
	base := map[string]benchdata.Child{}
	for _, format := range []string{"csv", "binary"} {
		if err := exportPG(context.Background(), filepath.Join(work, "engine"), url, format); err != nil {
			return err
		}
		if base[format], err = child("-mode", "copy-pg", "-format", format, "-dir", filepath.Join(work, "engine"), "-url", url); err != nil {
			return err
		}
	}
	cp, bin := base["csv"], base["binary"]
	ers, crs, brs := float64(rows)/eng.Wall.Seconds(), float64(rows)/cp.Wall.Seconds(), float64(rows)/bin.Wall.Seconds()
	fmt.Printf("BENCH name=jsonl_to_postgres rows=%d rows_per_s=%.0f baseline_rows_per_s=%.0f ratio=%.3f peak_rss_mb=%.0f baseline_peak_rss_mb=%.0f seconds=%.2f baseline_seconds=%.2f binary_copy_rows_per_s=%.0f binary_copy_ratio=%.3f vs_sling_jsonb=%.1f\n",
		rows, ers, crs, ers/crs, eng.RSSMB, cp.RSSMB, eng.Wall.Seconds(), cp.Wall.Seconds(), brs, ers/brs, ers/16600)
	return nil
}

// benchFromPostgres reads a pgRows-row table into DuckDB with the engine
// and with DuckDB's postgres extension.
func benchFromPostgres(ctx context.Context, pgRows int, work, url string) error {
	fmt.Fprintf(os.Stderr, "creating a %d-row table\n", pgRows)
	if err := exec1(ctx, url, fmt.Sprintf(`CREATE TABLE big AS SELECT g::bigint AS id, 'customer ' || (g %% 1000) AS name, (g * 1.5)::numeric(14,2) AS amount,
now() - (g || ' seconds')::interval AS created_at, g %% 2 = 0 AS flag, jsonb_build_object('k', g %% 7) AS meta FROM generate_series(1, %d) g; ALTER TABLE big ADD PRIMARY KEY (id)`, pgRows)); err != nil {
		return err
	}
	src, err := child("-mode", "pg-duckdb", "-dir", filepath.Join(work, "source"), "-url", url)
	if err != nil {
		return err
	}
	native, err := child("-mode", "copy-duckdb", "-dir", filepath.Join(work, "native"), "-url", url)
	if err != nil {
		return err
	}
	fmt.Printf("BENCH name=postgres_to_duckdb rows=%d rows_per_s=%.0f baseline_rows_per_s=%.0f ratio=%.3f peak_rss_mb=%.0f baseline_peak_rss_mb=%.0f seconds=%.2f baseline_seconds=%.2f\n",
		pgRows, float64(pgRows)/src.Wall.Seconds(), float64(pgRows)/native.Wall.Seconds(), native.Wall.Seconds()/src.Wall.Seconds(),
		src.RSSMB, native.RSSMB, src.Wall.Seconds(), native.Wall.Seconds())
	return nil
}

// countLines counts a file's lines a buffer at a time: reading the whole
// file would make this process as large as the file, and a child's peak
// RSS starts from its parent's when it is started.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func resolver(url string) *config.Resolver {
	env := map[string]string{"DESTINATION__PG__DESTINATION_TYPE": "postgres", "DESTINATION__PG__CREDENTIALS": url}
	// dlt's file_max_items, passed through to measure early loading.
	if v := os.Getenv("NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS"); v != "" {
		env["NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS"] = v
	}
	return &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
}

func enginePG(file, dir, url string) error {
	p, err := pipeline.New(pipeline.Options{Name: "bench", Destination: "pg", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: dir, Resolver: resolver(url)})
	if err != nil {
		return err
	}
	r := benchdata.JSONLResource("issues", file)
	info, err := p.Run(context.Background(), r)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "engine: %v extract %s normalize %s load %s\n", info.Rows, info.Extract.Round(time.Millisecond), info.Normal.Round(time.Millisecond), info.Load.Round(time.Millisecond))
	return nil
}

// exportPG writes each of the engine's tables (those of its last loaded
// package) to <dir>/baseline-<format>/<table>, as COPY TO writes them in
// format (csv or binary): the same rows for the baseline to COPY back.
func exportPG(ctx context.Context, dir, url, format string) error {
	loaded := filepath.Join(dir, "pipelines", "bench", loadpackage.LoadedDir)
	ids, err := (&loadpackage.Store{Dir: filepath.Join(dir, "pipelines", "bench")}).List(loadpackage.LoadedDir)
	if err != nil {
		return fmt.Errorf("list loaded packages in %s: %w", loaded, err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("no loaded package in %s", loaded)
	}
	jobs, err := loadpackage.Jobs(filepath.Join(loaded, ids[len(ids)-1], loadpackage.NewJobs))
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	out := filepath.Join(dir, "baseline-"+format)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	done := map[string]bool{}
	for _, j := range jobs {
		if done[j.Table] {
			continue
		}
		done[j.Table] = true
		f, err := os.Create(filepath.Join(out, j.Table))
		if err != nil {
			return err
		}
		_, err = conn.PgConn().CopyTo(ctx, f, `COPY bench_dataset."`+j.Table+`" TO STDOUT WITH (FORMAT `+format+`)`)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyPG COPYs the files exportPG wrote in format into empty tables of the
// same shape: the raw cost of getting those rows into PostgreSQL.
func copyPG(dir, url, format string) error {
	ctx := context.Background()
	in := filepath.Join(dir, "baseline-"+format)
	entries, err := os.ReadDir(in)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	sch := `"baseline_` + format + `"`
	for _, e := range entries {
		table := e.Name()
		// The same typed columns as the engine's table.
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+sch+`; CREATE TABLE IF NOT EXISTS `+sch+`."`+table+`" (LIKE bench_dataset."`+table+`")`); err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(in, table))
		if err != nil {
			return err
		}
		_, err = conn.PgConn().CopyFrom(ctx, f, `COPY `+sch+`."`+table+`" FROM STDIN WITH (FORMAT `+format+`)`)
		_ = f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func pgDuckDB(dir, url string) error {
	ctx := context.Background()
	res, err := sqldb.Resources(ctx, sqldb.Config{DSN: url, Tables: []string{"big"}})
	if err != nil {
		return err
	}
	p, err := pipeline.New(pipeline.Options{Name: "pg2duck", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: dir})
	if err != nil {
		return err
	}
	info, err := p.Run(ctx, res...)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "postgres_to_duckdb: %v extract %s normalize %s load %s\n", info.Rows, info.Extract.Round(time.Millisecond), info.Normal.Round(time.Millisecond), info.Load.Round(time.Millisecond))
	return nil
}

// copyDuckDB is the native baseline of postgres_to_duckdb: COPY TO STDOUT
// as CSV into a file, then DuckDB's read_csv into a table.
func copyDuckDB(dir, url string) error {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	csvPath := filepath.Join(dir, "big.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	_, err = conn.PgConn().CopyTo(ctx, f, `COPY big TO STDOUT WITH (FORMAT csv, HEADER true)`)
	_ = conn.Close(ctx)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy out: %w", err)
	}
	c, err := duckdb.NewConnector(filepath.Join(dir, "native.duckdb"), nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(ctx, `CREATE TABLE big AS SELECT * FROM read_csv('`+csvPath+`', header = true)`); err != nil {
		return fmt.Errorf("read_csv: %w", err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM big`).Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "native: %d rows via CSV\n", n)
	return nil
}
