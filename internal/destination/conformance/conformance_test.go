package conformance

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
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

// inPieces runs a target again with every extracted file normalized in
// pieces of 64 bytes by three workers: most pieces are normalized in
// parallel, and those that change the schema again in record order.
func inPieces(tg Target) Target {
	opts := tg.Options
	tg.Name += "/in-pieces"
	tg.Options = func(t *testing.T, name string) pipeline.Options {
		o := opts(t, name)
		o.NormalizeWorkers, o.NormalizeChunkBytes = 3, 64
		return o
	}
	return tg
}

func TestDuckDB(t *testing.T) {
	Run(t, duckdbTarget())
}

func TestDuckDBInPieces(t *testing.T) {
	Run(t, inPieces(duckdbTarget()))
}

func TestPostgresInPieces(t *testing.T) {
	Run(t, inPieces(oneRowFiles(postgresTarget())))
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
		Count: func(t *testing.T, p *pipeline.Pipeline, table, where string) int64 {
			path, _ := p.DatabasePath()
			c, err := duckdb.Open(path, p.Dataset())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			return countSQL(t, c.DB(), `SELECT count(*) FROM `+duckdb.Quote(p.Dataset())+`.`+duckdb.Quote(table)+where)
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
		t.Run(format+"/in-pieces", func(t *testing.T) {
			Run(t, inPieces(filesystemTarget(format)))
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
		Count: func(t *testing.T, p *pipeline.Pipeline, table, where string) int64 {
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
			return countSQL(t, db, `SELECT count(*) FROM `+reader+`('`+dir+`/*.`+ext+`')`+where)
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
		Count: func(t *testing.T, p *pipeline.Pipeline, table, where string) int64 {
			c, err := p.OpenDestination()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			conn := c.(interface{ Conn() *pgx.Conn }).Conn()
			var n int64
			err = conn.QueryRow(context.Background(), `SELECT count(*) FROM "`+p.Dataset()+`"."`+table+`"`+where).Scan(&n)
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

// PostgreSQL loads finished files while the package is still normalized
// (by default, at its FileMaxItems): with a file per row, the tables come
// out as when the whole package is loaded at the end, columns in the same
// order with the same types as the schema grows between files.
func TestPostgresEarlyLoadKeepsTheTables(t *testing.T) {
	docs := []map[string]any{
		{"id": int64(1), "title": "one"},
		{"id": int64(2), "title": "two", "labels": []any{map[string]any{"name": "bug"}}},
		{"id": int64(3), "score": 1.5, "labels": []any{map[string]any{"name": "ui"}, map[string]any{"name": "docs", "color": "red"}}},
		{"id": int64(4), "user": map[string]any{"login": "ann"}, "score": "high"},
		{"id": int64(5), "title": "five", "created_at": "2024-05-01T10:00:00Z"},
	}
	url := pgtest.URL(t)
	dump := func(name string, fileMaxRows int64) map[string]string {
		dir := t.TempDir()
		r := envResolver(map[string]string{"DESTINATION__WAREHOUSE__DESTINATION_TYPE": "postgres", "DESTINATION__WAREHOUSE__CREDENTIALS": url})
		p, err := pipeline.New(pipeline.Options{Name: name, Destination: "warehouse", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r, FileMaxRows: fileMaxRows})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			mustRun(t, p, &pipeline.Resource{Name: "issues", Records: records(docs...)})
		}
		c, err := p.OpenDestination()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		conn := c.(interface{ Conn() *pgx.Conn }).Conn()
		ctx := context.Background()
		out := map[string]string{}
		for _, table := range []string{"issues", "issues__labels"} {
			rows, err := conn.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, p.Dataset(), table)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			var cols []string
			for rows.Next() {
				var col, typ string
				if err := rows.Scan(&col, &typ); err != nil {
					t.Fatal(err)
				}
				b.WriteString(col + " " + typ + "\n")
				if !strings.HasPrefix(col, "_dlt_") {
					cols = append(cols, `"`+col+`"::text`)
				}
			}
			rows.Close()
			var data string
			q := `SELECT string_agg(r, E'\n' ORDER BY r) FROM (SELECT concat_ws('|', ` + strings.Join(cols, ", ") + `) AS r FROM "` + p.Dataset() + `"."` + table + `") x`
			if err := conn.QueryRow(ctx, q).Scan(&data); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			out[table] = b.String() + data
		}
		return out
	}
	early, whole := dump("early", 1), dump("whole", -1)
	for table, want := range whole {
		if early[table] != want {
			t.Errorf("%s loaded early:\n%s\nloaded at the end:\n%s", table, early[table], want)
		}
	}
}

// PostgreSQL's text and jsonb cannot hold NUL (valid JSON: "\u0000"). A
// record with one fails the run naming resource, record, table and
// column, before anything is loaded, and the next run loads; it used to
// be written into the job file, which COPY refused at load, and every
// later run stopped on that pending package. DuckDB stores NUL.
func TestPostgresRefusesNULBeforeLoading(t *testing.T) {
	for _, tc := range []struct {
		name, column string
		rec          map[string]any
	}{
		{"text", "a", map[string]any{"id": int64(2), "a": "x\x00y"}},
		{"json", "doc", map[string]any{"id": int64(2), "doc": []any{map[string]any{"k": "v\x00"}}}},
		{"json_key", "doc", map[string]any{"id": int64(2), "doc": map[string]any{"k\x00": "v"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := postgresTarget()
			p, err := pipeline.New(tg.Options(t, "nul_"+tc.name))
			if err != nil {
				t.Fatal(err)
			}
			res := func(recs ...map[string]any) *pipeline.Resource {
				return &pipeline.Resource{Name: "items", Records: records(recs...), Columns: []*schema.Column{{Name: "doc", DataType: schema.JSON, Nullable: true}}}
			}
			_, err = p.Run(context.Background(), res(map[string]any{"id": int64(1), "a": "ok"}, tc.rec))
			want := `resource "items" record 1: table "items" column "` + tc.column + `": PostgreSQL cannot store the NUL character`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			mustRun(t, p, res(map[string]any{"id": int64(3), "a": "next"}))
			if n := tg.Count(t, p, "items", ""); n != 1 {
				t.Errorf("items: %d rows, want the next run's only", n)
			}
		})
	}
}

// Numbers past what their column holds, on DuckDB and PostgreSQL: an
// integer of more than 38 digits is text (a wei column, DECIMAL(38,0),
// cannot hold it; dlt cannot load one at all), and a value with more
// digits before the point than a declared decimal holds fails the run
// naming the column, before anything is loaded. Both were written into job
// files the destination refused at load, and every later run stopped on
// that pending package.
func TestNumbersPastWhatColumnsHold(t *testing.T) {
	for _, tg := range []Target{duckdbTarget(), postgresTarget()} {
		t.Run(tg.Name, func(t *testing.T) {
			p, err := pipeline.New(tg.Options(t, "wide"))
			if err != nil {
				t.Fatal(err)
			}
			huge := jsonx.Number("1" + strings.Repeat("0", 40))
			mustRun(t, p, &pipeline.Resource{Name: "items", Records: records(map[string]any{"id": int64(1), "n": huge})})
			if n := tg.Count(t, p, "items", ` WHERE n = '`+string(huge)+`'`); n != 1 {
				t.Errorf("the 41-digit integer: %d rows hold it as text", n)
			}
			res := func(v any) *pipeline.Resource {
				return &pipeline.Resource{Name: "prices", Records: records(map[string]any{"id": int64(1), "amount": v}),
					Columns: []*schema.Column{{Name: "amount", DataType: schema.Decimal, Nullable: true}}}
			}
			_, err = p.Run(context.Background(), res(1e300))
			if err == nil || !strings.Contains(err.Error(), `resource "prices" record 0: table "prices" column "amount": 1e+300 has 301 digits before the point`) {
				t.Fatalf("err = %v", err)
			}
			mustRun(t, p, res("12.5"))
			if n := tg.Count(t, p, "prices", ""); n != 1 {
				t.Errorf("prices: %d rows, want the next run's one", n)
			}
		})
	}
}

// A record without a value for a column that may not be null (a primary
// key, a merge key, nullable: false) fails the run naming resource,
// record, table and column, before anything is loaded, on DuckDB and
// PostgreSQL; the next run loads. The destinations' NOT NULL refused the
// package at load, and every later run stopped on it.
func TestRecordsWithoutRequiredValues(t *testing.T) {
	for _, tg := range []Target{duckdbTarget(), postgresTarget()} {
		for _, tc := range []struct {
			name, column, role string
			res                func(recs ...map[string]any) *pipeline.Resource
			bad                map[string]any
		}{
			{"primary_key_missing", "id", "a primary key", func(recs ...map[string]any) *pipeline.Resource {
				return &pipeline.Resource{Name: "items", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(recs...)}
			}, map[string]any{"a": "no id"}},
			{"primary_key_null", "id", "a primary key", func(recs ...map[string]any) *pipeline.Resource {
				return &pipeline.Resource{Name: "items", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}, Records: records(recs...)}
			}, map[string]any{"id": nil, "a": "null id"}},
			{"merge_key", "day", "a merge key", func(recs ...map[string]any) *pipeline.Resource {
				return &pipeline.Resource{Name: "items", WriteDisposition: schema.Merge, MergeKey: []string{"day"}, Records: records(recs...)}
			}, map[string]any{"id": int64(9)}},
			{"not_null_hint", "a", "nullable: false", func(recs ...map[string]any) *pipeline.Resource {
				return &pipeline.Resource{Name: "items", Records: records(recs...), Columns: []*schema.Column{{Name: "a", DataType: schema.Text, NotNull: true}}}
			}, map[string]any{"id": int64(9)}},
		} {
			t.Run(tg.Name+"_"+tc.name, func(t *testing.T) {
				p, err := pipeline.New(tg.Options(t, "required"))
				if err != nil {
					t.Fatal(err)
				}
				good := map[string]any{"id": int64(1), "a": "x", "day": "mon"}
				_, err = p.Run(context.Background(), tc.res(good, tc.bad))
				want := `resource "items" record 1: table "items" column "` + tc.column + `": the record has no value for it, and it may not be null (` + tc.role + `)`
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				mustRun(t, p, tc.res(good))
				if n := tg.Count(t, p, "items", ""); n != 1 {
					t.Errorf("items: %d rows, want the next run's one", n)
				}
			})
		}
	}
}

// Dates and times in the forms dlt reads, stored as dlt stores them, on
// DuckDB and PostgreSQL: a timestamp dlt detects in a basic, week or
// slashed form (the engine kept these as text), more than six fraction
// digits cut to microseconds (PostgreSQL rounded the text), a time with an
// offset moved to UTC, and the date of an aware timestamp taken in UTC
// (the engine took the date as written, a day off).
func TestDatesAndTimesAsDltStoresThem(t *testing.T) {
	for _, tg := range []Target{duckdbTarget(), postgresTarget()} {
		t.Run(tg.Name, func(t *testing.T) {
			p, err := pipeline.New(tg.Options(t, "times"))
			if err != nil {
				t.Fatal(err)
			}
			mustRun(t, p, &pipeline.Resource{Name: "items", Records: records(map[string]any{
				"id": int64(1), "fraction": "2024-01-01T10:00:00.1234567Z", "basic": "20240101T100000Z",
				"week": "2024-W01-1T10:00:00+01:00", "slashed": "2024/01/15 10:00:00",
				"t": "10:00:00.9999999", "t_offset": "10:00+02:00", "d": "2024-05-06T23:00:00-05:00", "epoch": "1700000000.5",
			}), Columns: []*schema.Column{
				{Name: "t", DataType: schema.Time, Nullable: true}, {Name: "t_offset", DataType: schema.Time, Nullable: true},
				{Name: "d", DataType: schema.Date, Nullable: true}, {Name: "epoch", DataType: schema.Timestamp, Nullable: true},
			}})
			for _, where := range []string{
				`fraction = CAST('2024-01-01 10:00:00.123456+00' AS TIMESTAMPTZ)`,
				`basic = CAST('2024-01-01 10:00:00+00' AS TIMESTAMPTZ)`,
				`week = CAST('2024-01-01 09:00:00+00' AS TIMESTAMPTZ)`,
				`slashed = CAST('2024-01-15 10:00:00+00' AS TIMESTAMPTZ)`,
				`t = CAST('10:00:00.999999' AS TIME)`,
				`t_offset = CAST('08:00:00' AS TIME)`,
				`d = CAST('2024-05-07' AS DATE)`,
				`epoch = CAST('2023-11-14 22:13:20.5+00' AS TIMESTAMPTZ)`,
			} {
				if n := tg.Count(t, p, "items", " WHERE "+where); n != 1 {
					t.Errorf("%s: %d rows", where, n)
				}
			}
		})
	}
}

// Column hints dlt's sql_database reflects, stored with dlt's types:
// timezone = false makes a naive timestamp holding the UTC wall time
// (PostgreSQL's sessions here are in New York, and its text input drops
// an offset for such a column: the CSV path stages instants), a timestamp's
// precision picks DuckDB's TIMESTAMP_S/_MS, a bigint's precision in bits
// SMALLINT or INTEGER, a text's PostgreSQL's varchar(n). The table with a
// decimal column goes through PostgreSQL's CSV path, the other through
// binary COPY.
func TestColumnHintsAsDltTypesThem(t *testing.T) {
	pg := postgresTarget()
	pg.Options = func(t *testing.T, name string) pipeline.Options {
		dsn := pgtest.URL(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(ctx) }()
		var db string
		if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `ALTER DATABASE "`+db+`" SET timezone = 'America/New_York'`); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		r := envResolver(map[string]string{
			"DESTINATION__WAREHOUSE__DESTINATION_TYPE": "postgres",
			"DESTINATION__WAREHOUSE__CREDENTIALS":      dsn,
		})
		return pipeline.Options{Name: name, Destination: "warehouse", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r}
	}
	hints := []*schema.Column{
		{Name: "ts", DataType: schema.Timestamp, Nullable: true, Timezone: new(false)},
		{Name: "ts_ms", DataType: schema.Timestamp, Nullable: true, Timezone: new(false), Precision: new(3)},
		{Name: "n16", DataType: schema.Bigint, Nullable: true, Precision: new(16)},
		{Name: "n32", DataType: schema.Bigint, Nullable: true, Precision: new(32)},
		{Name: "code", DataType: schema.Text, Nullable: true, Precision: new(10)},
	}
	rec := map[string]any{"id": int64(1), "ts": "2024-05-01T10:00:00+02:00", "ts_ms": "2024-05-01T10:00:00.123456Z", "n16": int64(300), "n32": int64(70000), "code": "abc"}
	withDecimal := map[string]any{"amount": "12.50"}
	for k, v := range rec {
		withDecimal[k] = v
	}
	checks := map[string][]string{
		"duckdb": {
			`ts = CAST('2024-05-01 08:00:00' AS TIMESTAMP) AND typeof(ts) = 'TIMESTAMP'`,
			`ts_ms = CAST('2024-05-01 10:00:00.123' AS TIMESTAMP_MS) AND typeof(ts_ms) = 'TIMESTAMP_MS'`,
			`n16 = 300 AND typeof(n16) = 'SMALLINT' AND n32 = 70000 AND typeof(n32) = 'INTEGER'`,
		},
		"postgres": {
			`ts = '2024-05-01 08:00:00'::timestamp AND pg_typeof(ts)::text = 'timestamp without time zone'`,
			`ts_ms = '2024-05-01 10:00:00.123'::timestamp AND pg_typeof(ts_ms)::text = 'timestamp without time zone'`,
			`n16 = 300 AND pg_typeof(n16)::text = 'smallint' AND n32 = 70000 AND pg_typeof(n32)::text = 'integer'`,
			`code = 'abc' AND pg_typeof(code)::text = 'character varying'`,
			`current_setting('TimeZone') = 'America/New_York'`, // the session the conversions above would shift in
		},
	}
	for _, tg := range []Target{duckdbTarget(), pg} {
		t.Run(tg.Name, func(t *testing.T) {
			p, err := pipeline.New(tg.Options(t, "hints"))
			if err != nil {
				t.Fatal(err)
			}
			mustRun(t, p, &pipeline.Resource{Name: "items", Records: records(rec), Columns: hints})
			mustRun(t, p, &pipeline.Resource{Name: "priced", Records: records(withDecimal), Columns: append(hints[:len(hints):len(hints)], &schema.Column{Name: "amount", DataType: schema.Decimal, Nullable: true, Precision: new(10), Scale: 2})})
			for _, table := range []string{"items", "priced"} {
				for _, where := range checks[tg.Name] {
					if n := tg.Count(t, p, table, " WHERE "+where); n != 1 {
						t.Errorf("%s: %s: %d rows", table, where, n)
					}
				}
			}
		})
	}
}

// A state row whose load never completed (no _dlt_loads row or file: the
// load stopped after writing it) is not the one a pipeline restores from
// the destination, as dlt's get_stored_state joins _dlt_loads: restored,
// its cursor skipped records that were never stored.
func TestStateOfIncompleteLoadIsNotRestored(t *testing.T) {
	const orphan = "9999999999.1" // newer than any load id
	ctx := context.Background()
	inject := map[string]func(t *testing.T, p *pipeline.Pipeline, c destination.Client, state string){
		"duckdb": func(t *testing.T, p *pipeline.Pipeline, c destination.Client, state string) {
			db := c.(interface{ DB() *sql.DB }).DB()
			if _, err := db.Exec(`INSERT INTO `+duckdb.Quote(p.Dataset())+`."_dlt_pipeline_state" VALUES (99, 4, ?, ?, now(), 'h', ?, 'x')`, p.Name(), state, orphan); err != nil {
				t.Fatal(err)
			}
		},
		"postgres": func(t *testing.T, p *pipeline.Pipeline, c destination.Client, state string) {
			conn := c.(interface{ Conn() *pgx.Conn }).Conn()
			if _, err := conn.Exec(ctx, `INSERT INTO "`+p.Dataset()+`"."_dlt_pipeline_state" VALUES (99, 4, $1, $2, now(), 'h', $3, 'x')`, p.Name(), state, orphan); err != nil {
				t.Fatal(err)
			}
		},
		"filesystem/jsonl": func(t *testing.T, p *pipeline.Pipeline, _ destination.Client, state string) {
			dir := filepath.Join(filepath.Dir(p.WorkDir()), "..", "bucket", p.Dataset(), "_dlt_pipeline_state")
			b, err := json.Marshal(map[string]any{"version": 99, "engine_version": 4, "pipeline_name": p.Name(), "state": state,
				"created_at": "2099-01-01T00:00:00Z", "version_hash": "h", "_dlt_load_id": orphan, "_dlt_id": "x"})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, p.Name()+"__"+orphan+"__h.jsonl"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for _, tg := range []Target{duckdbTarget(), postgresTarget(), filesystemTarget("jsonl")} {
		t.Run(tg.Name, func(t *testing.T) {
			opts := tg.Options(t, "orphan")
			p, err := pipeline.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			res := func(ts ...string) *pipeline.Resource {
				var recs []map[string]any
				for _, s := range ts {
					recs = append(recs, map[string]any{"updated_at": s})
				}
				return &pipeline.Resource{Name: "items", Incremental: &pipeline.Incremental{CursorPath: "updated_at"}, Records: records(recs...)}
			}
			mustRun(t, p, res("2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"))
			c, err := p.OpenDestination()
			if err != nil {
				t.Fatal(err)
			}
			st, err := c.LatestState(ctx, p.Name())
			if err != nil || st == nil {
				t.Fatalf("stored state: %+v, %v", st, err)
			}
			// The orphan's cursor is far ahead: restored, it would skip
			// every later record.
			ahead, err := pipeline.DecompressState(st.State)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(ahead.Sources)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), "2024-01-01T02:00:00Z", "2099-01-01T00:00:00Z")), &ahead.Sources); err != nil {
				t.Fatal(err)
			}
			state, err := ahead.Compress()
			if err != nil {
				t.Fatal(err)
			}
			inject[tg.Name](t, p, c, state)
			_ = c.Close()
			// A new working dir: the state comes from the destination.
			if err := os.RemoveAll(p.WorkDir()); err != nil {
				t.Fatal(err)
			}
			if p, err = pipeline.New(opts); err != nil {
				t.Fatal(err)
			}
			mustRun(t, p, res("2024-01-01T02:00:00Z", "2024-01-01T03:00:00Z"))
			if n := tg.Count(t, p, "items", ""); n != 3 {
				t.Errorf("items: %d rows, want 3 (the record after the completed load's cursor was skipped)", n)
			}
		})
	}
}
